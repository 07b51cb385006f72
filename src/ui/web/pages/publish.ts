/** Publish groups, live: what each serves, its flips and rollbacks, and what a waiting barrier waits on. */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import type { Meta, PublishGroupView, PublishResponse } from '../../api-types.js';
import { href, useJson } from '../api.js';
import { ActionButton, time } from './common.js';

const POLL_MS = 5_000;

function Group({ g, meta }: { g: PublishGroupView; meta: Meta }): VNode {
  return html`<div class="card" data-group=${g.name}>
    <h2>${g.name}</h2>
    ${g.description && html`<p>${g.description}</p>`}
    <p>
      Serves${' '}${
        g.serving
          ? html`<b data-testid="serving">${g.serving.version}</b> since ${time(g.serving.publishedAt)}
              (seq${' '}${g.serving.seq}${g.serving.rolledBack ? `, ${g.serving.rolledBack} rolled back` : ''})`
          : html`<i data-testid="serving">nothing yet (never published)</i>`
      }
    </p>
    <p class="muted">
      Assets: ${g.assets.map((k, i) => html`${i ? ', ' : ''}<a href=${href('asset', { key: k })}>${k}</a>`)}
    </p>
    ${g.waiting.map(
      (w) =>
        html`<div class="waiting" data-testid="waiting">
          <b>Waiting to publish ${w.partitionKey}</b> (barrier checked ${w.checks}×,${' '}<a
            href=${w.url}
            target="_blank"
            rel="noopener"
            >workflow</a
          >).${' '}Waiting on:
          <ul>
            ${w.waitingOn.map((x) => html`<li><code>${x}</code></li>`)}
          </ul>
        </div>`,
    )}
    ${
      g.barrier &&
      html`<p data-testid="barrier">
        Barrier for ${g.barrier.partitionKey}
        now:${' '}${
          g.barrier.ready
            ? html`<span class="ok">ready</span>`
            : html`<span class="error">waiting</span>${' '}on
                <ul>
                  ${g.barrier.waitingOn.slice(0, 50).map((x) => html`<li><code>${x}</code></li>`)}
                  ${g.barrier.waitingOn.length > 50 && html`<li>… ${g.barrier.waitingOn.length - 50} more</li>`}
                </ul>`
        }
      </p>`
    }
    ${
      g.history.length > 0 &&
      html`<details open=${g.history.length <= 6}>
        <summary>History (${g.history.length} flips)</summary>
        <table>
          <tr>
            <th>seq</th>
            <th>version</th>
            <th>published</th>
            <th>state</th>
          </tr>
          ${[...g.history].reverse().map(
            (h) =>
              html`<tr class=${h.rolledBack ? 'rolled-back' : ''}>
                <td>${h.seq}</td>
                <td><code>${h.version}</code></td>
                <td>${time(h.publishedAt)}</td>
                <td>
                  ${h.rolledBack ? 'rolled back' : h.version === g.serving?.version && h.seq === g.serving.seq ? 'serving' : ''}
                </td>
              </tr>`,
          )}
        </table>
      </details>`
    }
    ${
      meta.allowActions &&
      g.serving &&
      html`<${ActionButton}
        label="Roll back"
        path="/api/actions/rollback"
        body=${{ group: g.name }}
        confirm=${`Serve the version before ${g.serving.version} of ${g.name} again?`}
      />`
    }
  </div>`;
}

export function PublishPage({ meta }: { meta: Meta }): VNode {
  const r = useJson<PublishResponse>('/api/publish', POLL_MS);
  return html`<section>
    <h1>Publish groups <span class="muted live">live, every ${POLL_MS / 1000} s</span></h1>
    ${r.error && html`<p class="error">${r.error}</p>`}
    ${r.data?.notes.map((n) => html`<p class="muted">${n}</p>`)}
    ${r.data && r.data.groups.length === 0 && html`<p class="muted">no publish groups in this catalog</p>`}
    ${r.data?.groups.map((g) => html`<${Group} g=${g} meta=${meta} />`)}
  </section>`;
}
