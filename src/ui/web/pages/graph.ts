/**
 * The lineage graph: ELK's layered layout (computed by the server) drawn as SVG, each asset coloured by the
 * health of its latest partition; a selection box takes the CLI's syntax; a click opens the asset.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { GraphResponse } from '../../api-types.js';
import { href, useJson } from '../api.js';
import { Legend } from './common.js';

declare global {
  interface Window {
    /** Set when the graph has rendered: how many nodes, and ms since navigation start (tests and bench read it). */
    __tesseraGraph?: { nodes: number; ms: number; selection: string };
  }
}

/** A small filled triangle at the end of a polyline, pointing along its last segment. */
function arrowHead(points: GraphResponse['edges'][number]['points']): string {
  const a = points.at(-2);
  const b = points.at(-1);
  if (!a || !b) return '';
  const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  const ux = (b.x - a.x) / len;
  const uy = (b.y - a.y) / len;
  const p = (x: number, y: number) => `${x.toFixed(1)},${y.toFixed(1)}`;
  return `M${p(b.x, b.y)} L${p(b.x - 7 * ux - 3.5 * uy, b.y - 7 * uy + 3.5 * ux)} L${p(b.x - 7 * ux + 3.5 * uy, b.y - 7 * uy - 3.5 * ux)} Z`;
}

const path = (points: GraphResponse['edges'][number]['points']): string =>
  points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');

/** Edges and their arrowheads are one path each: an element per edge costs a DOM node each at 1,000 assets. */
function Svg({ g, zoom }: { g: GraphResponse; zoom: number }): VNode {
  const pad = 12;
  const w = g.width + 2 * pad;
  const h = g.height + 2 * pad;
  return html`<svg
    class="lineage"
    width=${Math.ceil(w * zoom)}
    height=${Math.ceil(h * zoom)}
    viewBox=${`${-pad} ${-pad} ${w} ${h}`}
    role="img"
    aria-label=${`lineage of ${g.nodes.length} assets`}
  >
    <g class="edges" data-edges=${g.edges.length}>
      <path class="lines" d=${g.edges.map((e) => path(e.points)).join(' ')} />
      <path class="heads" d=${g.edges.map((e) => arrowHead(e.points)).join(' ')} />
    </g>
    <g class="nodes">
      ${g.nodes.map(
        (n) =>
          html`<a href=${href('asset', { key: n.key })} class=${`node health-${n.health}`} data-key=${n.key}>
            <title>
              ${`${n.key} (${n.kind}) — ${n.health}${n.latestPartition ? ` at ${n.latestPartition}` : ''}`}
            </title>
            <rect x=${n.x} y=${n.y} width=${n.width} height=${n.height} rx="5" />
            <text x=${n.x + 10} y=${n.y + n.height / 2 + 4}>${n.key}</text>
          </a>`,
      )}
    </g>
  </svg>`;
}

export function GraphPage({ selection }: { selection: string }): VNode {
  const [draft, setDraft] = useState(selection);
  const [zoom, setZoom] = useState(1);
  const g = useJson<GraphResponse>(`/api/graph?select=${encodeURIComponent(selection)}`);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => setDraft(selection), [selection]);
  useEffect(() => {
    // Shrink a slightly too wide graph to the window; a large one keeps its size (scroll and zoom).
    const fit = g.data && box.current ? box.current.clientWidth / (g.data.width + 24) : 1;
    setZoom(fit < 1 && fit >= 0.55 ? Math.floor(fit * 100) / 100 : 1);
  }, [g.data]);
  useEffect(() => {
    if (!g.data || g.data.selection !== selection) return;
    // After the browser has painted the SVG.
    requestAnimationFrame(() => {
      const nodes = box.current?.querySelectorAll('.node').length ?? 0;
      window.__tesseraGraph = { nodes, ms: performance.now(), selection };
    });
  }, [g.data, selection]);
  const apply = (e: Event) => {
    e.preventDefault();
    window.location.hash = href('graph', { select: draft.trim() || '*' });
  };
  return html`<section class="graph-page">
    <form class="toolbar" onSubmit=${apply}>
      <label
        >Selection
        <input
          name="select"
          value=${draft}
          onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)}
          placeholder="+reporting.mart_daily_revenue, group:marketing, kind:scd2"
          size="48"
      /></label>
      <button type="submit">Show</button>
      <span class="zoom">
        <button type="button" onClick=${() => setZoom((z) => Math.max(0.2, z / 1.25))} title="zoom out">
          −
        </button>
        ${Math.round(zoom * 100)}%
        <button type="button" onClick=${() => setZoom((z) => Math.min(3, z * 1.25))} title="zoom in">
          +
        </button>
      </span>
      <${Legend} />
    </form>
    ${g.error && html`<p class="error">${g.error}</p>`}
    ${!g.data && !g.error && html`<p class="muted">laying out the graph…</p>`}
    ${
      g.data &&
      html`<p class="muted summary">
          ${g.data.nodes.length} assets, ${g.data.edges.length} dependencies · colour: state of each asset's
          newest partition (hover for which)${g.data.layoutMs ? ` · layout ${g.data.layoutMs} ms` : ''}
        </p>
        <div class="canvas" ref=${box}><${Svg} g=${g.data} zoom=${zoom} /></div>`
    }
  </section>`;
}
