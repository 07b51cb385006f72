/**
 * An experiment's published results: a forest plot (lift and confidence interval per metric and variation,
 * drawn with Observable Plot), sample-ratio status, users per variation, and the report's table.
 */
import * as Plot from '@observablehq/plot';
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ExperimentResponse, ExperimentRow } from '../../api-types.js';
import { href, useJson } from '../api.js';

function ForestPlot({ e }: { e: ExperimentResponse }): VNode {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const rows = e.rows.filter(
      (r): r is ExperimentRow & { lift: number } => !r.isBaseline && r.lift !== null,
    );
    const relative = e.liftType === 'relative';
    const fmt = (v: number | null) =>
      v === null ? '' : relative ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%` : v.toPrecision(4);
    const colour = (r: ExperimentRow) =>
      r.significant ? (r.lift !== null && r.lift > 0 ? '#1a7f37' : '#cf222e') : '#57606a';
    const label = (r: ExperimentRow) => `${r.metric} · ${r.variation}`;
    const chart = Plot.plot({
      width: 760,
      height: 60 + rows.length * 46,
      marginLeft: 20 + 7 * Math.max(10, ...rows.map((r) => label(r).length)),
      marginBottom: 40,
      marginRight: 30,
      x: {
        label: relative ? 'lift (relative)' : 'lift',
        grid: true,
        ...(relative ? { tickFormat: '+.0%' } : {}),
      },
      y: { label: null, domain: rows.map(label) },
      marks: [
        Plot.ruleX([0], { stroke: '#888', strokeDasharray: '4,3' }),
        Plot.ruleY(rows, {
          y: label,
          x1: 'ciLow',
          x2: 'ciHigh',
          stroke: colour,
          strokeWidth: 2,
          ariaLabel: 'confidence interval',
        }),
        Plot.dot(rows, {
          y: label,
          x: 'lift',
          r: 5,
          fill: colour,
          ariaLabel: 'lift',
          title: (r: ExperimentRow) =>
            `${r.metric} ${r.variation}: lift ${fmt(r.lift)} [${fmt(r.ciLow)}, ${fmt(r.ciHigh)}]${r.significant ? ' significant' : ''}`,
        }),
      ],
    });
    chart.setAttribute('data-testid', 'forest-plot');
    box.current?.replaceChildren(chart);
  }, [e]);
  return html`<div class="forest" ref=${box}></div>`;
}

export function ExperimentsPage({ experiment, day }: { experiment: string; day: string }): VNode {
  const keys = useJson<string[]>('/api/experiments');
  const chosen = experiment || keys.data?.[0] || '';
  const r = useJson<ExperimentResponse>(
    chosen ? `/api/experiment?key=${encodeURIComponent(chosen)}${day ? `&day=${day}` : ''}` : null,
  );
  if (keys.error) return html`<p class="error">${keys.error}</p>`;
  if (keys.data && keys.data.length === 0)
    return html`<p class="muted">no published experiment results yet (publish the experiments group)</p>`;
  const e = r.data;
  return html`<section class="experiments-page">
    <h1>Experiments</h1>
    <div class="toolbar">
      <select
        name="experiment"
        value=${chosen}
        onChange=${(ev: Event) => (window.location.hash = href('experiments', { key: (ev.target as HTMLSelectElement).value }))}
      >
        ${(keys.data ?? []).map((k) => html`<option value=${k}>${k}</option>`)}
      </select>
      ${
        e &&
        html`<label
          >cumulative to the end of
          <select
            name="day"
            value=${e.day}
            onChange=${(ev: Event) =>
              (window.location.hash = href('experiments', {
                key: chosen,
                day: (ev.target as HTMLSelectElement).value,
              }))}
          >
            ${e.days.map((d) => html`<option value=${d}>${d}</option>`)}
          </select></label
        >`
      }
    </div>
    ${r.error && html`<p class="error">${r.error}</p>`}
    ${
      e &&
      html`<p data-testid="srm" class=${e.srm.mismatch ? 'error' : 'ok'}>
          ${
            e.srm.mismatch
              ? `Sample ratio mismatch (p = ${e.srm.pValue?.toPrecision(3) ?? '?'}): do not trust these results until the assignment is fixed`
              : `Sample ratio: ok (SRM p = ${e.srm.pValue?.toPrecision(3) ?? '?'})`
          }
        </p>
        <p data-testid="users">
          Users: ${e.users.map((u, i) => html`${i ? ', ' : ''}<b>${u.variation}</b> ${u.users}`)}
          ${e.multipleVariationUsers > 0 && ` (${e.multipleVariationUsers} who saw several variations excluded)`}
        </p>
        <h2>Lift and ${e.alpha === null ? '' : `${Math.round((1 - e.alpha) * 100)}% `}confidence interval</h2>
        <${ForestPlot} e=${e} />
        <table data-testid="results">
          <tr>
            ${Object.keys(e.rows[0]?.line ?? {}).map((c) => html`<th>${c}</th>`)}
          </tr>
          ${e.rows.map(
            (row) =>
              html`<tr>
                ${Object.values(row.line).map((v) => html`<td>${v}</td>`)}
              </tr>`,
          )}
        </table>`
    }
  </section>`;
}
