/** One asset: what it is, its SQL as its engine runs it, what it reads, its checks, and a partition health strip. */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { AssetResponse, Meta } from '../../api-types.js';
import { href, useJson } from '../api.js';
import { ActionButton, Legend, time } from './common.js';

function Strip({ a }: { a: AssetResponse }): VNode {
  const quarantined = new Map((a.quarantine?.byDay ?? []).map((d) => [d.day, d.rows]));
  return html`<div class="strip" data-testid="health-strip">
    ${a.strip.map((c) => {
      const q = quarantined.get(c.partitionKey.slice(0, 10)) ?? 0;
      const title = `${c.partitionKey || '(unpartitioned)'}: ${c.health}${c.rowCount !== null ? `, ${c.rowCount} rows` : ''}${q ? `, ${q} rows quarantined that day` : ''}`;
      return html`<a
        class=${`cell health-${c.health}${q ? ' quarantined' : ''}`}
        href=${href('partition', { key: a.key, partition: c.partitionKey })}
        data-partition=${c.partitionKey}
        title=${title}
        aria-label=${title}
      ></a>`;
    })}
  </div>`;
}

function RangeForm({ a }: { a: AssetResponse }): VNode {
  const [from, setFrom] = useState(a.range.from);
  const [to, setTo] = useState(a.range.to);
  const go = (e: Event) => {
    e.preventDefault();
    window.location.hash = href('asset', { key: a.key, from, to });
  };
  const input = (value: string, set: (v: string) => void) =>
    html`<input
      type="date"
      value=${value}
      onInput=${(e: Event) => set((e.target as HTMLInputElement).value)}
    />`;
  return html`<form class="toolbar" onSubmit=${go}>
    ${input(from, setFrom)} … ${input(to, setTo)} <button type="submit">Show</button>
    <${Legend} quarantine=${a.quarantine !== null} />
  </form>`;
}

export function AssetPage(props: { assetKey: string; from: string; to: string; meta: Meta }): VNode {
  const range = props.from && props.to ? `&from=${props.from}&to=${props.to}` : '';
  const r = useJson<AssetResponse>(`/api/asset?key=${encodeURIComponent(props.assetKey)}${range}`);
  if (r.error) return html`<p class="error">${r.error}</p>`;
  const a = r.data;
  if (!a) return html`<p class="muted">loading ${props.assetKey}…</p>`;
  const counts = a.strip.reduce<Record<string, number>>(
    (m, c) => ({ ...m, [c.health]: (m[c.health] ?? 0) + 1 }),
    {},
  );
  const last = a.strip.at(-1);
  return html`<section class="asset-page">
    <h1 data-testid="asset-key">${a.key} <span class="kind">${a.kind}</span></h1>
    ${a.description && html`<p>${a.description}</p>`}
    <table class="facts">
      <tr>
        <th>kind</th>
        <td>${a.kind}</td>
        <th>partitions</th>
        <td>${a.partitions}</td>
      </tr>
      <tr>
        <th>owners</th>
        <td>${a.owners.join(', ') || '—'}</td>
        <th>group</th>
        <td>${a.group || '—'}</td>
      </tr>
      <tr>
        <th>code version</th>
        <td><code>${a.codeVersion}</code></td>
        <th>publish group</th>
        <td>${a.publishGroup || '—'}</td>
      </tr>
      <tr>
        <th>engine</th>
        <td>${a.engine}${a.dialect ? ` (${a.dialect})` : ''}</td>
        <th>tags</th>
        <td>${a.tags.join(', ') || '—'}</td>
      </tr>
    </table>
    ${
      props.meta.allowActions &&
      last &&
      html`<p>
        <${ActionButton}
          label=${`Materialize ${last.partitionKey || 'it'}`}
          path="/api/actions/materialize"
          body=${{ select: a.key, ...(last.partitionKey ? { partition: last.partitionKey } : {}) }}
        />
      </p>`
    }
    <h2>Partitions ${a.range.from} … ${a.range.to}</h2>
    <${RangeForm} a=${a} />
    <${Strip} a=${a} />
    <p class="muted">
      ${Object.entries(counts)
        .map(([h, n]) => `${n} ${h}`)
        .join(', ')}
    </p>
    ${
      a.quarantine &&
      html`<div class="quarantine">
        <h3>Quarantined rows of source ${a.quarantine.source}: ${a.quarantine.total}</h3>
        ${a.quarantine.note && html`<p class="muted">${a.quarantine.note}</p>`}
        ${
          a.quarantine.recent.length > 0 &&
          html`<table>
            <tr>
              <th>origin</th>
              <th>reason</th>
              <th>quarantined at</th>
            </tr>
            ${a.quarantine.recent.map(
              (q) =>
                html`<tr>
                  <td>${q.origin}</td>
                  <td>${q.reason}</td>
                  <td>${time(q.at)}</td>
                </tr>`,
            )}
          </table>`
        }
      </div>`
    }
    <div class="columns">
      <div>
        <h2>Dependencies</h2>
        ${
          a.deps.length === 0
            ? html`<p class="muted">none (a source)</p>`
            : html`<table data-testid="deps">
                <tr>
                  <th>upstream</th>
                  <th>partition mapping</th>
                </tr>
                ${a.deps.map(
                  (d) =>
                    html`<tr>
                      <td><a href=${href('asset', { key: d.key })}>${d.key}</a></td>
                      <td><code>${d.mapping}</code></td>
                    </tr>`,
                )}
              </table>`
        }
        <h3>Read by</h3>
        ${
          a.downstream.length === 0
            ? html`<p class="muted">nothing</p>`
            : html`<ul>
                ${a.downstream.map((k) => html`<li><a href=${href('asset', { key: k })}>${k}</a></li>`)}
              </ul>`
        }
      </div>
      <div>
        <h2>Checks</h2>
        ${
          a.checks.length === 0
            ? html`<p class="muted">none</p>`
            : html`<table data-testid="checks">
                <tr>
                  <th>check</th>
                  <th>blocking</th>
                  <th>latest</th>
                  <th>failing rows</th>
                  <th>detail</th>
                </tr>
                ${a.checks.map(
                  (c) =>
                    html`<tr>
                      <td>${c.name}</td>
                      <td>${c.blocking ? 'yes' : 'no'}</td>
                      <td>
                        ${c.latest ? html`<span class=${c.latest.passed ? 'ok' : 'error'}>${c.latest.passed ? 'passed' : 'FAILED'}</span> <span class="muted">${c.latest.partitionKey}</span>` : html`<span class="muted">not run</span>`}
                      </td>
                      <td>${c.latest?.failingRows ?? ''}</td>
                      <td class="detail">${c.latest?.detail ?? ''}</td>
                    </tr>`,
                )}
              </table>`
        }
      </div>
    </div>
    ${
      a.scd2 &&
      html`<p>
        <a href=${href('history', { key: a.key })}
          >History of a row of ${a.key} (by ${a.scd2.businessKey.join(', ')}) →</a
        >
      </p>`
    }
    <h2>
      SQL
      ${a.sqlPartition ? html`<span class="muted">rendered for ${a.dialect || a.engine}, partition ${a.sqlPartition}</span>` : ''}
    </h2>
    <pre class="sql" data-testid="sql">${a.sql || '(none)'}</pre>
  </section>`;
}
