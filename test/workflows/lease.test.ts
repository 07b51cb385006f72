/**
 * Cross-run exclusivity without a workflow per step, through the real Temporal server: two workers in this
 * process, each with its own activities over its own connections to one SQLite ledger file (ledger and step
 * leases), run two materializations that both want one step. The step's source blocks at a gate the test opens
 * only once the second run is seen waiting on the lease (its history shows awaitStepLease), so the overlap is a
 * fact, not a hope. The step is built once: one loader call, one success in the ledger, and the second run reports
 * the first run's data version. A lease left by a dead run (never released, expired) is taken over, both when it
 * is found expired at the claim and when it expires while a run waits on it. Nothing waits for a duration.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { openSqliteLeaseStore, type StepLeaseStore } from '../../src/activities/lease-store.js';
import { stepLeaseKey, type LeaseActivities } from '../../src/runtime/lease-types.js';
import type { TesseraActivities } from '../../src/activities/types.js';
import { asset, daily, defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { openSqliteLedger, type Ledger } from '../../src/ledger/index.js';
import { stepWorkflowId } from '../../src/runtime/ids.js';
import type { SourceLoader } from '../../src/sources/types.js';
import type { materializeWorkflow } from '../../src/workflows/index.js';
import type { MaterializeSummary, StepMode } from '../../src/workflows/types.js';
import { connectTestEnv, startWorker, UI_BASE_URL } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, makePlan } from './fakes.js';

const DAY = '2026-11-01';
const CASES: readonly (readonly [StepMode, StepMode])[] = [
  ['local', 'local'],
  ['activity', 'activity'],
  ['local', 'child'],
];

let env: TemporalTestEnv;
let dir: string;
let engine: Engine;
let worker: RunningWorker;
/** Runs whose steps use the second activities (own ledger and lease connections). */
const second = new Set<string>();
const ledgers: Ledger[] = [];
const stores: StepLeaseStore[] = [];
/** The test's own view of the ledger and the leases (a third connection, as the CLI would have). */
let ledger: Ledger;
let leases: StepLeaseStore;

/** The source of every gated asset: counts builds and holds each at the gate until the test opens it. */
const gate = {
  calls: new Map<string, number>(),
  open: Promise.resolve(),
  release: (): void => undefined,
  close(): void {
    this.open = new Promise<void>((r) => (this.release = r));
  },
};
const gated: SourceLoader = {
  async ingest(req) {
    const n = (gate.calls.get(req.assetKey) ?? 0) + 1;
    gate.calls.set(req.assetKey, n);
    await gate.open;
    if (req.assetKey === key('failing') && n === 1) throw new Error('the source broke');
    return { rowCount: 3, dataVersion: `v-${req.assetKey}-${n}` };
  },
};

const key = (name: string): string => `${env.ns}.${name}`;
const names = [...CASES.map((_, i) => `shared${i}`), 'dead', 'expiring', 'failing'];

beforeAll(async () => {
  env = await connectTestEnv('lease');
  dir = mkdtempSync(join(tmpdir(), 'tessera-lease-'));
  const path = join(dir, 'ledger.sqlite');
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  const definitions = defineDefinitions({
    assets: names.map((n) =>
      asset({
        key: key(n),
        kind: 'fact',
        partitions: daily({ start: DAY }),
        ingest: { source: 'gated', stream: n },
      }),
    ),
  });
  ledger = await openSqliteLedger(path);
  leases = openSqliteLeaseStore(path);
  const instances = [];
  for (let i = 0; i < 2; i++) {
    const own = await openSqliteLedger(path);
    const store = openSqliteLeaseStore(path);
    ledgers.push(own);
    stores.push(store);
    instances.push(
      createActivities({
        definitions,
        engines: { duckdb: engine },
        defaultEngine: 'duckdb',
        ledger: own,
        leases: store,
        leaseOptions: { pollMs: 50, maxPollMs: 200 },
        loaders: { gated },
        alertRoutes: [],
        latenessMs: 0,
        logger: pino({ level: 'silent' }),
      }),
    );
  }
  // One worker per task queue and process (the SDK refuses a second): the second run's steps go to the activities
  // over the second pair of connections, as if another worker process ran them.
  const [one, two] = instances as [(typeof instances)[number], (typeof instances)[number]];
  const routed: TesseraActivities & LeaseActivities = {
    ...one,
    materializeStep: (input) => (second.has(input.runId) ? two : one).materializeStep(input),
    awaitStepLease: (input) => two.awaitStepLease(input),
  };
  worker = await startWorker(env, routed);
});

afterAll(async () => {
  gate.release();
  await worker?.stop();
  await env?.close();
  await Promise.all([...ledgers, ledger].map((l) => l?.close()));
  await Promise.all([...stores, leases].map((s) => s?.close()));
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(name: string, mode: StepMode, onSecond = false, maximumAttempts?: number) {
  const workflowId = `test/lease/${randomUUID()}`;
  if (onSecond) second.add(workflowId);
  return env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
    taskQueue: env.taskQueue,
    workflowId,
    args: [
      {
        plan: makePlan(name, { [`${key(name)}@${DAY}`]: [] }),
        mode,
        uiBaseUrl: UI_BASE_URL,
        stepOptions: { initialInterval: '100ms', ...(maximumAttempts ? { maximumAttempts } : {}) },
      },
    ],
  });
}

/** Whether a workflow's history has scheduled awaitStepLease (the run is waiting on another's lease). */
async function waitsOnLease(workflowId: string): Promise<boolean> {
  try {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).some(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitStepLease',
    );
  } catch {
    return false; // the step workflow of a `child` run may not exist yet
  }
}

async function successes(assetKey: string): Promise<string[]> {
  const attempts = await ledger.history(assetKey, DAY);
  return attempts.filter((a) => a.status === 'success').map((a) => a.runId);
}

const outcome = (s: MaterializeSummary, assetKey: string) =>
  s.steps.find((o) => o.stepId === `${assetKey}@${DAY}`);

describe('step leases', () => {
  it.each(CASES.map((c, i) => [...c, i] as const))(
    'builds a step once when a %s run and a %s run want it at the same time',
    async (firstMode, secondMode, i) => {
      const name = `shared${i}`;
      const assetKey = key(name);
      gate.close();
      const first = await run(name, firstMode);
      // The first run holds the lease and is inside the build.
      await eventually(() => (gate.calls.get(assetKey) === 1 ? true : undefined), 60_000);
      const later = await run(name, secondMode, true);
      const waiting = [later.workflowId, stepWorkflowId(assetKey, DAY, env.taskQueue)];
      await eventually(
        async () => ((await Promise.all(waiting.map(waitsOnLease))).some(Boolean) ? true : undefined),
        60_000,
      );
      gate.release();
      const [a, b] = await Promise.all([first.result(), later.result()]);
      expect(a.status).toBe('success');
      expect(b.status).toBe('success');
      expect(gate.calls.get(assetKey)).toBe(1);
      expect(await successes(assetKey)).toEqual([first.workflowId]);
      expect(outcome(b, assetKey)?.dataVersion).toBe(`v-${assetKey}-1`);
      expect(outcome(a, assetKey)?.dataVersion).toBe(`v-${assetKey}-1`);
      const lease = await leases.read(stepLeaseKey(env.taskQueue, assetKey, DAY));
      expect(lease).toMatchObject({ holder: null, releasedBy: first.workflowId });
    },
    120_000,
  );

  it('takes over the lease of a dead run that expired before the claim', async () => {
    const assetKey = key('dead');
    const leaseKey = stepLeaseKey(env.taskQueue, assetKey, DAY);
    // Claimed at the epoch for a minute and never renewed or released: its holder is long gone.
    expect(await leases.claim(leaseKey, 'test/dead-run', 60_000, 0)).toMatchObject({ claimed: true });
    const handle = await run('dead', 'local');
    const summary = await handle.result();
    expect(summary.status).toBe('success');
    expect(gate.calls.get(assetKey)).toBe(1);
    expect(await successes(assetKey)).toEqual([handle.workflowId]);
    expect(await leases.read(leaseKey)).toMatchObject({
      holder: null,
      generation: 2,
      releasedBy: handle.workflowId,
    });
  }, 60_000);

  it('takes over a lease that expires while the run waits on it', async () => {
    const assetKey = key('expiring');
    const leaseKey = stepLeaseKey(env.taskQueue, assetKey, DAY);
    const now = Date.now();
    // A live holder (its lease runs for a day) that will die without releasing.
    expect(await leases.claim(leaseKey, 'test/dying-run', 86_400_000, now)).toMatchObject({
      claimed: true,
      generation: 1,
    });
    const handle = await run('expiring', 'local');
    await eventually(async () => ((await waitsOnLease(handle.workflowId)) ? true : undefined), 60_000);
    expect(gate.calls.get(assetKey)).toBeUndefined();
    // Its last renewal said "until long ago": the lease has lapsed, as a dead worker's does.
    expect(await leases.renew(leaseKey, 'test/dying-run', 1, 0, 0)).toBe(true);
    const summary = await handle.result();
    expect(summary.status).toBe('success');
    expect(gate.calls.get(assetKey)).toBe(1);
    expect(await successes(assetKey)).toEqual([handle.workflowId]);
    expect(await leases.read(leaseKey)).toMatchObject({ holder: null, releasedBy: handle.workflowId });
  }, 60_000);

  it('builds the step itself when the run it waited on failed without a result', async () => {
    const assetKey = key('failing');
    gate.close();
    const first = await run('failing', 'local', false, 1);
    await eventually(() => (gate.calls.get(assetKey) === 1 ? true : undefined), 60_000);
    const later = await run('failing', 'local', true);
    await eventually(async () => ((await waitsOnLease(later.workflowId)) ? true : undefined), 60_000);
    gate.release();
    const [a, b] = await Promise.all([first.result(), later.result()]);
    expect(a.status).toBe('failed');
    expect(outcome(a, assetKey)?.error).toContain('the source broke');
    expect(b.status).toBe('success');
    expect(gate.calls.get(assetKey)).toBe(2);
    expect(outcome(b, assetKey)?.dataVersion).toBe(`v-${assetKey}-2`);
    expect(await successes(assetKey)).toEqual([later.workflowId]);
  }, 120_000);
});
