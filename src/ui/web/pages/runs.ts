/** Backfills with live progress, failed steps with their errors, running workflows; links into Temporal. */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { Meta, RunsResponse } from '../../api-types.js';
import { href, useJson } from '../api.js';
import { ActionButton, time } from './common.js';

const POLL_MS = 5_000;

function BackfillForm(): VNode {
  const [o, set] = useState({ select: '*', from: '', to: '', only: 'missing' });
  const field = (name: keyof typeof o, type = 'text') =>
    html`<input
      type=${type}
      name=${name}
      value=${o[name]}
      onInput=${(e: Event) => set({ ...o, [name]: (e.target as HTMLInputElement).value })}
    />`;
  return html`<div class="toolbar">
    Backfill ${field('select')} from ${field('from', 'date')} to ${field('to', 'date')}
    <select
      value=${o.only}
      onChange=${(e: Event) => set({ ...o, only: (e.target as HTMLSelectElement).value })}
    >
      <option value="missing">missing</option>
      <option value="failed">failed</option>
      <option value="all">all</option>
    </select>
    <${ActionButton} label="Start backfill" path="/api/actions/backfill" body=${o} />
  </div>`;
}

export function RunsPage({ meta }: { meta: Meta }): VNode {
  const r = useJson<RunsResponse>('/api/runs', POLL_MS);
  const d = r.data;
  return html`<section>
    <h1>Backfills & runs <span class="muted live">live, every ${POLL_MS / 1000} s</span></h1>
    ${r.error && html`<p class="error">${r.error}</p>`}
    ${d?.notes.map((n) => html`<p class="muted">${n}</p>`)} ${meta.allowActions && html`<${BackfillForm} />`}
    <h2>Backfills</h2>
    ${d && d.backfills.length === 0 && html`<p class="muted">none</p>`}
    ${
      d &&
      d.backfills.length > 0 &&
      html`<table data-testid="backfills">
        <tr>
          <th>id</th>
          <th>status</th>
          <th>selection</th>
          <th>range</th>
          <th>progress</th>
          <th>failed</th>
          <th>running</th>
          <th>updated</th>
          <th></th>
        </tr>
        ${d.backfills.map(
          (b) =>
            html`<tr>
              <td><code>${b.backfillId}</code></td>
              <td class=${b.status === 'failed' ? 'error' : b.status === 'completed' ? 'ok' : ''}>
                ${b.status}${b.status === 'running' ? ` (${b.phase})` : ''}
              </td>
              <td><code>${b.selection}</code></td>
              <td>${b.from} … ${b.to}</td>
              <td><progress max=${Math.max(b.total, 1)} value=${b.done}></progress> ${b.done}/${b.total}</td>
              <td>${b.failed}</td>
              <td>${b.running}</td>
              <td>${time(b.updatedAt)}</td>
              <td><a href=${b.url} target="_blank" rel="noopener">Temporal</a></td>
            </tr>`,
        )}
      </table>`
    }
    <h2>Failed steps <span class="muted">(latest attempt of each partition)</span></h2>
    ${d && d.failedSteps.length === 0 && html`<p class="muted">none</p>`}
    ${
      d &&
      d.failedSteps.length > 0 &&
      html`<table data-testid="failed-steps">
        <tr>
          <th>step</th>
          <th>ended</th>
          <th>error</th>
          <th></th>
        </tr>
        ${d.failedSteps.map(
          (f) =>
            html`<tr>
              <td>
                <a href=${href('partition', { key: f.assetKey, partition: f.partitionKey })}
                  >${f.assetKey}@${f.partitionKey}</a
                >
              </td>
              <td>${time(f.endedAt)}</td>
              <td><pre class="error">${f.error}</pre></td>
              <td><a href=${f.url} target="_blank" rel="noopener">Temporal</a></td>
            </tr>`,
        )}
      </table>`
    }
    <h2>Running workflows</h2>
    ${d && d.running.length === 0 && html`<p class="muted">none</p>`}
    ${
      d &&
      d.running.length > 0 &&
      html`<table>
        <tr>
          <th>workflow</th>
          <th>type</th>
          <th>started</th>
        </tr>
        ${d.running.map(
          (w) =>
            html`<tr>
              <td>
                <a href=${w.url} target="_blank" rel="noopener"><code>${w.workflowId}</code></a>
              </td>
              <td>${w.type}</td>
              <td>${time(w.startTime)}</td>
            </tr>`,
        )}
      </table>`
    }
  </section>`;
}
