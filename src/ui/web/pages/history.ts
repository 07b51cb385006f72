/**
 * History of a mutable row: an SCD2 asset and a business key give the row's versions as a timeline, each with
 * the columns that changed; "as of" shows the table at an instant (the semantics of `query --as-of`).
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Cell, Scd2AssetView, Scd2HistoryResponse, TableResponse } from '../../api-types.js';
import { href, useJson } from '../api.js';
import { time } from './common.js';

const show = (v: Cell | undefined): string => (v === null || v === undefined ? '∅' : String(v));

function Timeline({ h }: { h: Scd2HistoryResponse }): VNode {
  if (h.versions.length === 0)
    return html`<p class="muted" data-testid="no-versions">no versions of this key</p>`;
  return html`<ol class="timeline" data-testid="timeline">
    ${h.versions.map((v, i) => {
      const before = i > 0 ? h.versions[i - 1]?.row : undefined;
      return html`<li data-testid="version">
        <div class="when">
          <b>${time(v.validFrom)}</b> → ${v.validTo ? time(v.validTo) : html`<i>current</i>`}
        </div>
        <div class="changes">
          ${i === 0 ? html`<span class="muted">first version:</span>` : html`<span class="muted">changed:</span>`}
          ${v.changed.map(
            (c) =>
              html`<span class="change" data-column=${c}>
                <b>${c}</b> ${before ? html`<s>${show(before[c])}</s> → ` : ''}<span>${show(v.row[c])}</span>
              </span>`,
          )}
          ${i > 0 && v.changed.length === 0 && html`<span class="muted">no tracked column (a delete or re-insert)</span>`}
        </div>
      </li>`;
    })}
  </ol>`;
}

function Table({ t }: { t: TableResponse }): VNode {
  return html`<div class="scroll">
    <table data-testid="asof-table">
      <tr>
        ${t.columns.map((c) => html`<th>${c}</th>`)}
      </tr>
      ${t.rows.map(
        (r) =>
          html`<tr>
            ${t.columns.map((c) => html`<td>${show(r[c])}</td>`)}
          </tr>`,
      )}
    </table>
  </div>`;
}

export function HistoryPage({ assetKey, params }: { assetKey: string; params: URLSearchParams }): VNode {
  const assets = useJson<Scd2AssetView[]>('/api/scd2');
  const chosen = assets.data?.find((a) => a.key === assetKey) ?? assets.data?.[0];
  const [values, setValues] = useState<Record<string, string>>({});
  const [at, setAt] = useState(params.get('at') ?? '');
  useEffect(() => {
    const v: Record<string, string> = {};
    for (const [k, value] of params.entries()) if (k.startsWith('k.')) v[k.slice(2)] = value;
    setValues(v);
  }, [params.toString()]);
  const keyQuery = Object.entries(values)
    .filter(([, v]) => v)
    .map(([k, v]) => `&k.${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('');
  const searched =
    chosen && params.get('search') === '1'
      ? `/api/scd2/history?key=${encodeURIComponent(chosen.key)}${keyQuery}`
      : null;
  const asOf =
    chosen && params.get('at')
      ? `/api/scd2/asof?key=${encodeURIComponent(chosen.key)}&at=${encodeURIComponent(params.get('at') ?? '')}${keyQuery}&limit=200`
      : null;
  const history = useJson<Scd2HistoryResponse>(searched);
  const table = useJson<TableResponse>(asOf);
  if (assets.error) return html`<p class="error">${assets.error}</p>`;
  if (!assets.data) return html`<p class="muted">loading…</p>`;
  if (!chosen) return html`<p class="muted">no SCD2 assets in this catalog</p>`;
  const go = (extra: Record<string, string>) => {
    const p: Record<string, string> = { key: chosen.key, ...extra };
    for (const [k, v] of Object.entries(values)) if (v) p[`k.${k}`] = v;
    window.location.hash = href('history', p);
  };
  return html`<section class="history-page">
    <h1>History of a row</h1>
    <form
      class="toolbar"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        go({ search: '1' });
      }}
    >
      <select
        name="asset"
        value=${chosen.key}
        onChange=${(e: Event) => (window.location.hash = href('history', { key: (e.target as HTMLSelectElement).value }))}
      >
        ${assets.data.map((a) => html`<option value=${a.key}>${a.key}</option>`)}
      </select>
      ${chosen.businessKey.map(
        (c) =>
          html`<label
            >${c}
            <input
              name=${`k.${c}`}
              value=${values[c] ?? ''}
              onInput=${(e: Event) => setValues({ ...values, [c]: (e.target as HTMLInputElement).value })}
          /></label>`,
      )}
      <button type="submit">Search</button>
      <span class="muted">tracked: ${chosen.tracked.join(', ')}</span>
    </form>
    ${history.error && html`<p class="error">${history.error}</p>`}
    ${history.data && html`<${Timeline} h=${history.data} />`}
    <h2>As of</h2>
    <form
      class="toolbar"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        go({ ...(params.get('search') ? { search: '1' } : {}), at });
      }}
    >
      <input
        name="at"
        value=${at}
        placeholder="2026-11-02 or 2026-11-02T13:00:00Z"
        onInput=${(e: Event) => setAt((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Show the table then</button>
      <span class="muted"
        >a date means the end of that day (UTC), like
        <code>tessera query --as-of</code
        >${Object.values(values).some(Boolean) ? '; only the key above' : ''}</span
      >
    </form>
    ${table.error && html`<p class="error">${table.error}</p>`}
    ${
      table.data &&
      html`<p class="muted">
          ${chosen.key} as of ${table.data.asOf}: ${table.data.rows.length}
          rows${table.data.truncated ? ' (first 200)' : ''}
        </p>
        <${Table} t=${table.data} />`
    }
  </section>`;
}
