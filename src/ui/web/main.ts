/**
 * The browser side of `tessera ui`: preact components written with htm (tagged templates, so no JSX compiler),
 * routed on the URL's hash: #/graph, #/asset?key=, #/partition?key=&partition=, #/publish, #/runs, #/history,
 * #/experiments.
 */
import { html } from 'htm/preact';
import { render, type VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Meta } from '../api-types.js';
import { useJson } from './api.js';
import { AssetPage } from './pages/asset.js';
import { GraphPage } from './pages/graph.js';
import { HistoryPage } from './pages/history.js';
import { PartitionPage } from './pages/partition.js';
import { PublishPage } from './pages/publish.js';
import { RunsPage } from './pages/runs.js';

/** The experiments page with its charts, loaded when first shown. */
function Experiments(props: { experiment: string; day: string }): VNode {
  const [page, setPage] = useState<((p: { experiment: string; day: string }) => VNode) | undefined>(
    undefined,
  );
  useEffect(() => {
    void import('./pages/experiments.js').then((m) => setPage(() => m.ExperimentsPage));
  }, []);
  return page ? html`<${page} ...${props} />` : html`<p class="muted">loading…</p>`;
}

interface Route {
  readonly name: string;
  readonly params: URLSearchParams;
}

function currentRoute(): Route {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [name = '', query = ''] = raw.split('?', 2);
  return { name: name || 'graph', params: new URLSearchParams(query) };
}

const NAV: readonly [string, string][] = [
  ['graph', 'Asset graph'],
  ['publish', 'Publish groups'],
  ['runs', 'Backfills & runs'],
  ['history', 'Row history'],
  ['experiments', 'Experiments'],
];

const READ_ONLY: Meta = {
  allowActions: false,
  temporalUi: '',
  namespace: '',
  taskQueue: '',
  environment: '',
};

function page(route: Route, meta: Meta): VNode {
  const p = (k: string) => route.params.get(k) ?? '';
  switch (route.name) {
    case 'asset':
      return html`<${AssetPage}
        key=${p('key')}
        assetKey=${p('key')}
        from=${p('from')}
        to=${p('to')}
        meta=${meta}
      />`;
    case 'partition':
      return html`<${PartitionPage} assetKey=${p('key')} partition=${p('partition')} />`;
    case 'publish':
      return html`<${PublishPage} meta=${meta} />`;
    case 'runs':
      return html`<${RunsPage} meta=${meta} />`;
    case 'history':
      return html`<${HistoryPage} assetKey=${p('key')} params=${route.params} />`;
    case 'experiments':
      return html`<${Experiments} experiment=${p('key')} day=${p('day')} />`;
    default:
      return html`<${GraphPage} selection=${route.params.get('select') ?? '*'} />`;
  }
}

function App(): VNode {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const meta = useJson<Meta>('/api/meta');
  const section = route.name === 'asset' || route.name === 'partition' ? 'graph' : route.name;
  return html`
    <header>
      <a class="brand" href="#/graph">Tessera</a>
      <nav>
        ${NAV.map(
          ([name, label]) =>
            html`<a href=${`#/${name}`} class=${section === name ? 'active' : ''} data-nav=${name}
              >${label}</a
            >`,
        )}
      </nav>
      ${
        meta.data &&
        html`<span class="where"
          >${`${meta.data.environment} · task queue ${meta.data.taskQueue} · `}<a
            href=${meta.data.temporalUi}
            target="_blank"
            rel="noopener"
            >Temporal UI</a
          >${' · '}${meta.data.allowActions ? html`<b class="actions-on">actions on</b>` : 'read-only'}</span
        >`
      }
    </header>
    <main>
      ${meta.error && html`<p class="error">${meta.error}</p>`} ${page(route, meta.data ?? READ_ONLY)}
    </main>
  `;
}

const root = document.getElementById('app');
if (root) render(html`<${App} />`, root);
