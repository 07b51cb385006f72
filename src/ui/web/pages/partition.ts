/** One partition of an asset: every materialization attempt, its data version, rows and checks; the step in Temporal. */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import type { PartitionResponse } from '../../api-types.js';
import { href, useJson } from '../api.js';
import { Badge, time } from './common.js';

export function PartitionPage(props: { assetKey: string; partition: string }): VNode {
  const r = useJson<PartitionResponse>(
    `/api/partition?key=${encodeURIComponent(props.assetKey)}&partition=${encodeURIComponent(props.partition)}`,
  );
  if (r.error) return html`<p class="error">${r.error}</p>`;
  const p = r.data;
  if (!p) return html`<p class="muted">loading…</p>`;
  return html`<section class="partition-page">
    <p><a href=${href('asset', { key: p.assetKey })}>← ${p.assetKey}</a></p>
    <h1 data-testid="partition-title">
      ${p.assetKey} @ ${p.partitionKey || '(unpartitioned)'} <${Badge} health=${p.health} />
    </h1>
    <p>
      Step workflow <code>${p.stepWorkflowId}</code>:${' '}<a
        data-testid="temporal-link"
        href=${p.temporalUrl}
        target="_blank"
        rel="noopener"
        >open in the Temporal UI</a
      >
    </p>
    <h2>Materializations (newest first)</h2>
    ${
      p.materializations.length === 0
        ? html`<p class="muted">never materialized</p>`
        : p.materializations.map(
            (m) =>
              html`<div class=${`attempt ${m.status}`} data-testid="materialization">
                <table class="facts">
                  <tr>
                    <th>status</th>
                    <td class=${m.status === 'success' ? 'ok' : 'error'}>${m.status}</td>
                    <th>run</th>
                    <td><code>${m.runId}</code></td>
                  </tr>
                  <tr>
                    <th>rows</th>
                    <td data-testid="row-count">${m.rowCount}</td>
                    <th>data version</th>
                    <td><code>${m.dataVersion}</code></td>
                  </tr>
                  <tr>
                    <th>started</th>
                    <td>${time(m.startedAt)}</td>
                    <th>ended</th>
                    <td>${time(m.endedAt)}</td>
                  </tr>
                  <tr>
                    <th>code version</th>
                    <td><code>${m.codeVersion}</code></td>
                    <th>inputs</th>
                    <td>${Object.keys(m.inputDataVersions).length}</td>
                  </tr>
                </table>
                ${m.error && html`<pre class="error">${m.error}</pre>`}
                ${
                  m.checks.length > 0 &&
                  html`<table>
                    <tr>
                      <th>check</th>
                      <th>blocking</th>
                      <th>result</th>
                      <th>failing rows</th>
                      <th>detail</th>
                    </tr>
                    ${m.checks.map(
                      (c) =>
                        html`<tr>
                          <td>${c.name}</td>
                          <td>${c.blocking ? 'yes' : 'no'}</td>
                          <td class=${c.passed ? 'ok' : 'error'}>${c.passed ? 'passed' : 'FAILED'}</td>
                          <td>${c.failingRows}</td>
                          <td class="detail">${c.detail}</td>
                        </tr>`,
                    )}
                  </table>`
                }
                ${
                  Object.keys(m.inputDataVersions).length > 0 &&
                  html`<details>
                    <summary>input data versions</summary>
                    <table>
                      ${Object.entries(m.inputDataVersions).map(([k, v]) => {
                        const at = k.lastIndexOf('@');
                        return html`<tr>
                          <td>
                            <a href=${href('partition', { key: k.slice(0, at), partition: k.slice(at + 1) })}
                              >${k}</a
                            >
                          </td>
                          <td><code>${v}</code></td>
                        </tr>`;
                      })}
                    </table>
                  </details>`
                }
              </div>`,
          )
    }
  </section>`;
}
