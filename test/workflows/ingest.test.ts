/**
 * Ingestion as Temporal workflows against the real server: a worker in this process over an in-memory DuckDB
 * warehouse and the landing-folder loaders (FX files: the smallest wire format). Continuous mode lands files as
 * they appear, keeps going across continue-as-new without re-landing, stops on cancel; a failing source is
 * recorded and retried on the next pass; the micro-batch schedule starts one-pass workflows on its own.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowIdConflictPolicy, type WorkflowHandle } from '@temporalio/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { asset, daily, defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { upsertIngestSchedule } from '../../src/runtime/schedules.js';
import { RUN_KIND } from '../../src/runtime/search-attributes.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import type { SourceLoader } from '../../src/sources/types.js';
import type { ingestWorkflow } from '../../src/workflows/index.js';
import {
  ingestNowSignal,
  ingestProgressQuery,
  ingestWorkflowId,
  type IngestInput,
  type IngestProgress,
} from '../../src/workflows/ingest.js';
import { connectTestEnv, startWorker } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
let engine: Engine;
let ledger: MemoryLedger;
let dir: string;
const schedules: string[] = [];

/** A source whose pass takes 40 steps of 100 ms, heartbeating after each: stopping must cut it short. */
const slow = { steps: 0, passes: 0 };
const slowLoader: SourceLoader = {
  ingest: () => Promise.reject(new Error('not used')),
  async land(heartbeat) {
    slow.passes++;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 100));
      slow.steps++;
      heartbeat();
    }
    return { landed: 40, quarantined: 0 };
  },
};

const definitions = defineDefinitions({
  assets: [
    asset({
      key: 'raw.fx_rates',
      kind: 'fact',
      partitions: daily({ start: '2026-11-01' }),
      ingest: { source: 'fx', stream: 'daily' },
    }),
  ],
});

beforeAll(async () => {
  env = await connectTestEnv('ingest');
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  ledger = new MemoryLedger();
  dir = await mkdtemp(join(tmpdir(), 'tessera-ingest-wf-'));
  const activities = createActivities({
    definitions,
    engines: { duckdb: engine },
    defaultEngine: 'duckdb',
    ledger,
    loaders: { ...landingLoaders({ engine, landingDir: dir }), slow: slowLoader },
    alertRoutes: [],
    latenessMs: 0,
    logger: pino({ level: 'silent' }),
  });
  worker = await startWorker(env, activities);
});

afterAll(async () => {
  for (const id of schedules)
    await env?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await worker?.stop();
  await env?.close();
  await engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Rates for `day`, one row per currency. */
async function fxFile(day: string, currencies: readonly string[]): Promise<void> {
  await mkdir(join(dir, 'fx'), { recursive: true });
  const rows = currencies.map((c, i) => `${day},${c},${(1 + i / 10).toFixed(2)}`);
  await writeFile(join(dir, 'fx', `rates-${day}.csv`), ['date,currency,usd_rate', ...rows, ''].join('\n'));
}

const fxRows = async (): Promise<number> =>
  Number(
    (
      await engine.query<{ n: number }>('SELECT count(*)::INT AS n FROM raw.fx_rates').catch(() => [{ n: 0 }])
    )[0]?.n,
  );

function start(input: IngestInput, source = input.source): Promise<WorkflowHandle<typeof ingestWorkflow>> {
  return env.client.workflow.start<typeof ingestWorkflow>('ingestWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: ingestWorkflowId(env.taskQueue, source),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    typedSearchAttributes: [{ key: RUN_KIND, value: 'ingest' }],
  });
}

/** The latest run's progress once `ok` holds (queries follow continue-as-new: the handle has no run id). */
const progressWhen = (
  handle: WorkflowHandle<typeof ingestWorkflow>,
  ok: (p: IngestProgress) => boolean,
  timeoutMs = 20_000,
): Promise<IngestProgress> =>
  eventually(async () => {
    const p = await handle.query(ingestProgressQuery).catch(() => undefined);
    return p && ok(p) ? p : undefined;
  }, timeoutMs);

describe('ingestWorkflow, continuous', () => {
  it('lands files as they appear, continues as new without re-landing, and stops on cancel', async () => {
    const handle = await start({ source: 'fx', every: '1s', passesPerRun: 3 });
    await fxFile('2026-11-20', ['EUR', 'INR']);
    const first = await progressWhen(handle, (p) => p.rowsLanded === 2);
    expect(first).toMatchObject({
      source: 'fx',
      mode: 'continuous',
      lastWatermark: '2026-11-21T00:00:00.000Z',
    });
    expect(await fxRows()).toBe(2);

    await fxFile('2026-11-21', ['EUR', 'INR', 'GBP']);
    const second = await progressWhen(handle, (p) => p.rowsLanded === 5);
    expect(second.lastWatermark).toBe('2026-11-22T00:00:00.000Z');
    expect(await fxRows()).toBe(5);
    expect((await ledger.watermarks()).find((w) => w.source === 'fx')?.watermark).toBe(
      '2026-11-22T00:00:00.000Z',
    );

    // Continue-as-new every 3 passes: counters carry over, nothing lands twice.
    const later = await progressWhen(handle, (p) => p.runs >= 3);
    expect(later.rowsLanded).toBe(5);
    expect(later.passes).toBeGreaterThanOrEqual(6);
    await fxFile('2026-11-22', ['EUR']);
    const third = await progressWhen(handle, (p) => p.rowsLanded === 6);
    expect(await fxRows()).toBe(6);
    expect(third.runs).toBeGreaterThanOrEqual(3);

    // A second start keeps the running ingestion (one per source); a pass asked for now lands nothing.
    const again = await start({ source: 'fx', every: '1m' });
    expect(again.workflowId).toBe(handle.workflowId);
    const before = await handle.query(ingestProgressQuery);
    await handle.signal(ingestNowSignal);
    const rerun = await progressWhen(handle, (p) => p.passes > before.passes);
    expect(rerun).toMatchObject({ rowsLanded: 6, every: '1s' });
    expect(await fxRows()).toBe(6);

    // Stop: the workflow ends cancelled and nothing lands afterwards.
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    await fxFile('2026-11-23', ['EUR']);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await fxRows()).toBe(6);
    // Landed by the schedule test below.
  });

  it('stop cuts a pass in flight short (between heartbeats) and nothing runs after the workflow closed', async () => {
    const handle = await start({ source: 'slow', every: '1m' });
    await eventually(() => (slow.steps >= 5 ? true : undefined));
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const atClose = slow.steps;
    expect(atClose).toBeLessThan(40);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(slow).toEqual({ steps: atClose, passes: 1 });
  });

  it('records a failing pass and keeps going; a single pass fails the workflow', async () => {
    const handle = await start({ source: 'nope', every: '1s' });
    const p = await progressWhen(handle, (x) => x.failedPasses >= 2);
    expect(p.lastError).toMatch(/no loader is registered for source "nope"/);
    expect(p.lastErrorPass).toBe(p.passes);
    await handle.cancel();
    await handle.result().catch(() => undefined);

    const once = await env.client.workflow.start<typeof ingestWorkflow>('ingestWorkflow', {
      taskQueue: env.taskQueue,
      workflowId: `${ingestWorkflowId(env.taskQueue, 'nope')}-once`,
      args: [{ source: 'nope', mode: 'once' }],
    });
    const err = await once.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
  });
});

describe('ingestWorkflow, micro-batches', () => {
  it('a schedule starts one-pass workflows on its own (overlap SKIP)', async () => {
    const id = ingestWorkflowId(env.taskQueue, 'fx');
    schedules.push(id);
    expect(
      await upsertIngestSchedule(env.client, {
        scheduleId: id,
        workflowId: id,
        taskQueue: env.taskQueue,
        every: '2s',
        input: { source: 'fx' },
      }),
    ).toBe('created');
    const described = await env.client.schedule.getHandle(id).describe();
    expect(described.policies.overlap).toBe('SKIP');
    // The first scheduled pass lands the file written after the stop above.
    const pass = await eventually(async () => {
      const d = await env.client.schedule.getHandle(id).describe();
      const last = d.info.recentActions.at(0)?.action.workflow;
      if (!last) return undefined;
      const h = env.client.workflow.getHandle<typeof ingestWorkflow>(
        last.workflowId,
        last.firstExecutionRunId,
      );
      return h.result();
    }, 20_000);
    expect(pass).toMatchObject({ source: 'fx', mode: 'once', state: 'done', passes: 1 });
    expect(await fxRows()).toBe(7);
    await env.client.schedule.getHandle(id).delete();
  });
});
