/** Small pieces the pages share: the health legend, badges, times, an action button. */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { ActionResponse, Health } from '../../api-types.js';
import { postJson } from '../api.js';

export const HEALTHS: readonly Health[] = ['fresh', 'stale', 'failed', 'missing'];

export function Legend({ quarantine = false }: { quarantine?: boolean }): VNode {
  return html`<span class="legend">
    ${HEALTHS.map((h) => html`<span class=${`swatch health-${h}`}></span>${h} `)}
    ${quarantine && html`<span class="swatch quarantined"></span>quarantined rows`}
  </span>`;
}

export const Badge = ({ health }: { health: Health }): VNode =>
  html`<span class=${`badge health-${health}`}>${health}</span>`;

export const time = (iso: string | null | undefined): string =>
  iso
    ? iso
        .replace('T', ' ')
        .replace(/(\.\d{3})\d*/, '$1')
        .replace(/Z$/, ' UTC')
    : '';

/** A button running one action; shows the server's answer (with a Temporal link when there is one). */
export function ActionButton(props: { label: string; path: string; body: unknown; confirm?: string }): VNode {
  const [state, setState] = useState<{ busy?: boolean; out?: ActionResponse; error?: string }>({});
  const run = async () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setState({ busy: true });
    try {
      setState({ out: await postJson<ActionResponse>(props.path, props.body) });
    } catch (e) {
      setState({ error: e instanceof Error ? e.message : String(e) });
    }
  };
  return html`<span class="action">
    <button type="button" disabled=${state.busy} onClick=${run}>${props.label}</button>
    ${
      state.out &&
      html`<span class="ok">
        ${state.out.message}
        ${state.out.url && html` · <a href=${state.out.url} target="_blank" rel="noopener">Temporal</a>`}
      </span>`
    }
    ${state.error && html`<span class="error">${state.error}</span>`}
  </span>`;
}
