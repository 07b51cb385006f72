/**
 * Alert delivery under a broken route (issue 15, finding 3): one webhook answering 500 must not repeat the alert
 * on the healthy routes nor hold the run up; the catalog's owner routes (Definitions.alertRoutes) are delivered.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { asset, defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import type { materializeWorkflow } from '../../src/workflows/index.js';
import type { AlertDelivery } from '../../src/workflows/alert.js';
import { connectTestEnv, startWorker, UI_BASE_URL } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { createFakes, eventually, makePlan } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
let engine: Engine;
let server: Server;
let hookStatus = 500;
const hookCalls: unknown[] = [];
const logged: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hookCalls.push(JSON.parse(body));
      res.writeHead(hookStatus).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  env = await connectTestEnv('alerts');
  const ns = env.ns;
  const definitions = defineDefinitions({
    assets: [
      asset({ key: `${ns}.owned`, kind: 'fact', sql: 'select 1 as x', owners: ['growth'] }),
      asset({ key: `${ns}.other`, kind: 'fact', sql: 'select 1 as x', owners: ['finance'] }),
    ],
    // The catalog routes the growth team's assets to its webhook; the deployment adds a log route for all.
    alertRoutes: [{ name: 'growth-hook', type: 'webhook', url, match: { owners: ['growth'] } }],
  });
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString());
      done();
    },
  });
  const real = createActivities({
    definitions,
    engines: { duckdb: engine },
    defaultEngine: 'duckdb',
    ledger: new MemoryLedger(),
    alertRoutes: [{ name: 'log', type: 'log' }],
    latenessMs: 0,
    logger: pino({ level: 'error' }, sink),
  });
  const fakes = createFakes({
    failures: { [`${ns}.owned@p`]: { kind: 'check' }, [`${ns}.other@p`]: { kind: 'check' } },
  });
  worker = await startWorker(env, {
    ...fakes.activities,
    alertRoutes: real.alertRoutes,
    deliverAlert: real.deliverAlert,
  });
});

afterAll(async () => {
  await worker?.stop();
  await env?.close();
  await engine?.close();
  await new Promise((r) => server?.close(r));
});

const alertsLogged = (asset: string) =>
  logged.filter((l) => l.includes('"route":"log"') && l.includes(`"assetKey":"${asset}"`)).length;

describe('alert routes', () => {
  it('a webhook answering 500 is retried alone, never repeats the log route, never holds the run', async () => {
    const ns = env.ns;
    const handle = await env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
      taskQueue: env.taskQueue,
      workflowId: `test/run/${randomUUID()}`,
      args: [
        {
          uiBaseUrl: UI_BASE_URL,
          plan: makePlan('alerts', { [`${ns}.owned@p`]: [], [`${ns}.other@p`]: [] }),
        },
      ],
    });
    // The run ends while the growth webhook still fails: it never waited for delivery.
    const summary = await handle.result();
    expect(summary).toMatchObject({ status: 'failed', failed: 2 });
    const ownedAlert = await eventually(async () => {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({
        query: `TesseraRunKind = 'alert' AND AssetKey = '${ns}.owned'`,
      })) {
        ids.push(w.workflowId);
      }
      return ids.length === 1 ? ids[0] : undefined;
    }, 20_000);
    const running = await env.client.workflow.getHandle(ownedAlert).describe();
    expect(running.status.name).toBe('RUNNING');
    // The owner's route is tried again and again (its own activity); the log route delivered each alert once.
    await eventually(() => (hookCalls.length >= 2 ? true : undefined), 30_000);
    expect(alertsLogged(`${ns}.owned`)).toBe(1);
    expect(alertsLogged(`${ns}.other`)).toBe(1);
    // Only the growth team's asset went to the growth route.
    expect(hookCalls.every((c) => (c as { assetKey?: string }).assetKey === `${ns}.owned`)).toBe(true);

    hookStatus = 200;
    const deliveries = (await env.client.workflow.getHandle(ownedAlert).result()) as AlertDelivery[];
    expect([...deliveries].sort((a, b) => a.route.localeCompare(b.route))).toEqual([
      { route: 'growth-hook', delivered: true },
      { route: 'log', delivered: true },
    ]);
    expect(alertsLogged(`${ns}.owned`)).toBe(1);
    expect(hookCalls.at(-1)).toMatchObject({
      kind: 'check_failed',
      assetKey: `${ns}.owned`,
      partitionKey: 'p',
    });
  });
});
