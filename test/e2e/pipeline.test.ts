/**
 * The whole runtime for real: a Temporal dev server, a worker running the real activities over a DuckDB file and
 * a SQLite ledger, workflows started by the client helpers the CLI uses, and alerts delivered to a local webhook.
 */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { Alert } from '../../src/activities/types.js';
import type { Definitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { startBackfill, startMaterialize, startPublish } from '../../src/runtime/index.js';
import type { BackfillSummary, MaterializeSummary, PublishResult } from '../../src/workflows/types.js';
import { USERS_LOG, usersCatalog, usersLoader, usersMartSql } from '../fixtures/users-catalog.js';
import { eventually } from '../helpers/eventually.js';
import {
  connectTestEnv,
  startWorker,
  UI_BASE_URL,
  type RunningWorker,
  type TemporalTestEnv,
} from '../helpers/temporal.js';

/** A real HTTP server standing in for a Slack-compatible webhook; records what it receives. */
async function webhookReceiver(): Promise<{ server: Server; url: string; received: unknown[] }> {
  const received: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

describe('pipeline on a real Temporal server, DuckDB and SQLite ledger', () => {
  let env: TemporalTestEnv;
  let engine: Engine;
  let ledger: Ledger;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let worker: RunningWorker | undefined;
  let prefix: string;

  beforeAll(async () => {
    env = await connectTestEnv('e2e');
    prefix = `${env.ns}_`;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
    engine = await createDuckDbEngine({ type: 'duckdb', path: join(dir, 'warehouse.duckdb') });
    ledger = await openLedger({ type: 'sqlite', path: join(dir, 'ledger.sqlite') });
    hook = await webhookReceiver();
  });
  afterAll(async () => {
    await worker?.stop();
    await engine?.close();
    await ledger?.close();
    hook?.server.close();
    await env?.close();
  });

  async function runWith(defs: Definitions, sourcePrefix = prefix): Promise<void> {
    await worker?.stop();
    const activities = createActivities({
      definitions: defs,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger,
      loaders: { user_db: usersLoader(engine, () => USERS_LOG, sourcePrefix) },
      alertRoutes: [{ name: 'growth-slack', type: 'slack', url: hook.url, match: { owners: ['growth'] } }],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });
    worker = await startWorker(env, activities);
  }

  it('materializes the graph through step workflows, then the barrier publishes the group', async () => {
    await runWith(usersCatalog(usersMartSql(prefix), prefix));
    const target = { taskQueue: env.taskQueue, uiBaseUrl: UI_BASE_URL };
    const run = await startMaterialize(env.client, target, {
      request: { selection: '*', range: { from: '2026-11-01', to: '2026-11-02' } },
      concurrency: 2,
    });
    const summary = (await run.result()) as MaterializeSummary;
    expect(summary.steps.filter((s) => s.status !== 'success')).toEqual([]);
    expect(summary.status).toBe('success');
    expect(summary.succeeded).toBe(7); // 2 raw days, the dimension, 2 snapshot days, 2 mart days
    const pub = await startPublish(env.client, target, {
      group: 'users',
      partitionKey: '2026-11-02',
      pollInitial: '1s',
      timeout: '1m',
    });
    const published = (await pub.result()) as PublishResult;
    expect(published.status).toBe('published');
    expect(
      await engine.query(
        `select country, users from ${prefix}marts.users_by_country where _partition_key = '2026-11-02'`,
      ),
    ).toEqual([{ country: 'FR', users: 2 }]);
    // The step workflows are findable in the Temporal UI by asset (visibility lags a little).
    let found = 0;
    for (let i = 0; i < 20 && found === 0; i++) {
      for await (const _ of env.client.workflow.list({
        query: `AssetKey = "${prefix}marts.users_by_country"`,
      }))
        found++;
      if (found === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(found).toBe(2);
  });

  it('a long backfill plans and runs one window at a time, each against the ledger the last one left', async () => {
    const p = `${prefix}w_`;
    await runWith(usersCatalog(usersMartSql(p), p), p);
    const target = { taskQueue: env.taskQueue, uiBaseUrl: UI_BASE_URL };
    const backfillId = `${env.ns}-windows`;
    const run = await startBackfill(env.client, target, {
      backfillId,
      request: { selection: '*', range: { from: '2026-11-01', to: '2026-11-03' } },
      only: 'missing',
      windowDays: 1,
    });
    const summary = (await run.result()) as BackfillSummary;
    // Three windows, three runs (continue-as-new between windows). Per window: its raw day, the dimension over
    // every day so far, its snapshot and mart day: the dimension is rebuilt as each window adds a day.
    expect(summary).toMatchObject({ status: 'completed', runs: 3, failed: 0, skipped: 0 });
    expect(summary.done).toBe(12);
    expect(summary.total).toBe(12);
    const dims = await ledger.view([`${p}core.dim_users`]);
    expect(dims.latestSuccess(`${p}core.dim_users`, '')).toBeDefined();
    for (const day of ['2026-11-01', '2026-11-02', '2026-11-03']) {
      expect(
        (await ledger.view([`${p}marts.users_by_country`])).latestSuccess(`${p}marts.users_by_country`, day),
      ).toBeDefined();
    }
    // Nothing is left to do: the same backfill again finds every partition fresh.
    const again = await startBackfill(env.client, target, {
      backfillId: `${backfillId}-again`,
      request: { selection: '*', range: { from: '2026-11-01', to: '2026-11-03' } },
      only: 'missing',
      windowDays: 1,
    });
    expect(((await again.result()) as BackfillSummary).done).toBe(0);
  });

  it('a failing asset skips its downstream, alerts once with a run link, and the group keeps its version', async () => {
    const before = await engine.query(`select * from ${prefix}marts.users_by_country order by all`);
    await runWith(
      usersCatalog(`select country, 1/0 as boom from ${prefix}core.users_daily where missing_column`, prefix),
    );
    const target = { taskQueue: env.taskQueue, uiBaseUrl: UI_BASE_URL };
    const run = await startMaterialize(env.client, target, {
      request: { selection: `${prefix}marts.users_by_country`, partitionKeys: ['2026-11-02'] },
    });
    const summary = (await run.result()) as MaterializeSummary;
    expect(summary.status).toBe('failed');
    expect(summary.failed).toBe(1);
    const alerts = hook.received as { text: string }[];
    // Alerts are delivered by their own workflow, after the run moved on.
    await eventually(() => (alerts.length > 0 ? true : undefined));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.text).toContain(`asset failed: ${prefix}marts.users_by_country @ 2026-11-02`);
    expect(alerts[0]?.text).toContain('missing_column');
    expect(alerts[0]?.text).toContain(`${UI_BASE_URL}/namespaces/default/workflows/`);
    const pub = await startPublish(env.client, target, {
      group: 'users',
      partitionKey: '2026-11-02',
      pollInitial: '1s',
      timeout: '3s',
    });
    const result = (await pub.result()) as PublishResult;
    expect(result.status).toBe('timed_out');
    expect(await engine.query(`select * from ${prefix}marts.users_by_country order by all`)).toEqual(before);
    await eventually(() => (hook.received.length > 1 ? true : undefined));
    expect((hook.received as Alert[]).length).toBe(2); // the barrier timeout alerts too, once
  });
});
