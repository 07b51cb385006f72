/**
 * `tessera ui`: a Hono app on Node's HTTP server. JSON under /api (read-only unless actions are allowed), the
 * browser bundle at /app.js, and one HTML page that routes in the browser (#/graph, #/asset/<key>, ...).
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { ConfigError } from '../../config/index.js';
import type { CliContext } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import type { Via } from '../../cli/warehouse.js';
import { DslError } from '../../dsl/index.js';
import type { Meta } from '../api-types.js';
import { backfillAction, materializeAction, rollbackAction } from './actions.js';
import { experiment, experimentKeys, scd2AsOf, scd2Assets, scd2History } from './analysis.js';
import { buildBundle } from './bundle.js';
import { assetPage, graph, partitionPage } from './catalog.js';
import { GraphLayouter } from './layout.js';
import { publishPage, runsPage } from './operations.js';
import { WarehouseReader } from './warehouse.js';

export interface UiServerOptions {
  readonly ctx: CliContext;
  readonly host: string;
  readonly port: number;
  readonly allowActions: boolean;
  /** How to reach the warehouse (the CLI's --via); `tessera dev` reads through its own worker. */
  readonly via: Via;
}

export interface UiServer {
  readonly url: string;
  /** The whole catalog's graph layout, computed in the background from start-up. */
  readonly warm: Promise<void>;
  close(): Promise<void>;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="/app.js"></script>
</body>
</html>
`;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `k.<column>=value` query parameters: a business key. */
function keyValues(c: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.req.query()))
    if (name.startsWith('k.') && value !== '') out[name.slice(2)] = value;
  return out;
}

function required(c: Context, name: string): string {
  const v = c.req.query(name);
  if (v === undefined || v === '') throw new UsageError(`query parameter "${name}" is required`);
  return v;
}

function optionalRange(c: Context): { from: string; to: string } | undefined {
  const from = c.req.query('from');
  const to = c.req.query('to');
  if (from === undefined && to === undefined) return undefined;
  if (!from || !to || !DATE.test(from) || !DATE.test(to) || from > to)
    throw new UsageError('from and to go together, as dates like 2026-11-03, from before to');
  return { from, to };
}

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const { ctx } = o;
  // Definitions and config load (and fail) before the address is printed.
  await ctx.definitions();
  const bundle = await buildBundle();
  const warehouse = new WarehouseReader(ctx, o.via);
  const layouter = new GraphLayouter(join(ctx.config.stateDir, 'ui'));
  const deps = { ctx, warehouse, layouter };
  const meta: Meta = {
    allowActions: o.allowActions,
    temporalUi: ctx.target.uiBaseUrl,
    namespace: ctx.config.temporal.namespace,
    taskQueue: ctx.target.taskQueue,
    environment: ctx.config.environment,
  };

  const app = new Hono();
  app.onError((e, c) => {
    const usage = e instanceof UsageError || e instanceof DslError || e instanceof ConfigError;
    return c.json({ error: e.message }, usage ? 400 : 500);
  });
  app.get('/', (c) => c.html(PAGE));
  app.get('/:file{(app|chunk-[A-Z0-9]+)\\.js}', (c) => {
    const js = bundle.files.get(c.req.param('file'));
    return js === undefined
      ? c.notFound()
      : c.body(js, 200, { 'content-type': 'text/javascript; charset=utf-8' });
  });
  app.get('/app.css', (c) => c.body(bundle.css, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.get('/api/meta', (c) => c.json(meta));
  app.get('/api/graph', async (c) => c.json(await graph(deps, c.req.query('select') || '*')));
  app.get('/api/asset', async (c) => c.json(await assetPage(deps, required(c, 'key'), optionalRange(c))));
  app.get('/api/partition', async (c) =>
    c.json(await partitionPage(deps, required(c, 'key'), c.req.query('partition') ?? '')),
  );
  app.get('/api/publish', async (c) => c.json(await publishPage(deps)));
  app.get('/api/runs', async (c) => c.json(await runsPage(deps)));
  app.get('/api/scd2', async (c) => c.json(await scd2Assets(ctx)));
  app.get('/api/scd2/history', async (c) =>
    c.json(await scd2History(deps, required(c, 'key'), keyValues(c))),
  );
  app.get('/api/scd2/asof', async (c) => {
    const limit = Number(c.req.query('limit') ?? '200');
    if (!Number.isInteger(limit) || limit <= 0 || limit > 10_000)
      throw new UsageError('limit takes a whole number from 1 to 10000');
    return c.json(await scd2AsOf(deps, required(c, 'key'), required(c, 'at'), keyValues(c), limit));
  });
  app.get('/api/experiments', async (c) => c.json(await experimentKeys(deps)));
  app.get('/api/experiment', async (c) => {
    const day = c.req.query('day');
    if (day !== undefined && !DATE.test(day))
      throw new UsageError(`day "${day}" is not a date like 2026-11-03`);
    return c.json(await experiment(deps, required(c, 'key'), day));
  });

  // Actions: refused unless allowed; JSON bodies only (a cross-site form cannot send one without a preflight),
  // and a browser's Origin, when sent, must be this server.
  app.use('/api/actions/*', async (c, next) => {
    if (!o.allowActions)
      return c.json({ error: 'actions are off: start the UI with `tessera ui --allow-actions`' }, 403);
    if (!(c.req.header('content-type') ?? '').startsWith('application/json'))
      return c.json({ error: 'actions take a JSON body' }, 415);
    const origin = c.req.header('origin');
    if (origin !== undefined && new URL(origin).host !== c.req.header('host'))
      return c.json({ error: 'cross-origin action refused' }, 403);
    return next();
  });
  app.post('/api/actions/materialize', async (c) => c.json(await materializeAction(ctx, await c.req.json())));
  app.post('/api/actions/backfill', async (c) => c.json(await backfillAction(ctx, await c.req.json())));
  app.post('/api/actions/rollback', async (c) =>
    c.json(await rollbackAction(ctx, await c.req.json(), o.via)),
  );

  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: o.host, port: o.port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // Lay out the whole catalog now, so the first visit finds it ready.
  const warm = graph(deps, '*').then(
    () => undefined,
    () => undefined,
  );
  return {
    url: `http://${host}:${address.port}`,
    warm,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Browsers keep idle connections open; they would hold close() for minutes.
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closed;
      await layouter.close();
    },
  };
}
