import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/planner/types.js';
import { backfillWorkflowId, stepWorkflowId } from '../../src/runtime/ids.js';
import { ASSET_KEYS } from '../../src/runtime/search-attributes.js';
import type { backfillWorkflow, materializeWorkflow } from '../../src/workflows/index.js';
import type { BackfillInput, BackfillProgressView } from '../../src/workflows/types.js';
import { backfillProgressQuery } from '../../src/workflows/types.js';
import { connectTestEnv, startWorker } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, makePlan, switchableFakes } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker | undefined;
const fakes = switchableFakes();

beforeAll(async () => {
  env = await connectTestEnv('backfill');
  worker = await startWorker(env, fakes.activities, { shutdownGraceTime: '100ms' });
});

afterAll(async () => {
  await worker?.stop();
  await env?.close();
});

/** `days` daily partitions of `assets` chained a → b → ... (each partition depends on the same day upstream). */
function dailyPlan(selection: string, assets: string[], days: number): Plan {
  const graph: Record<string, string[]> = {};
  for (let d = 1; d <= days; d++) {
    const pk = `2026-11-${String(d).padStart(2, '0')}`;
    assets.forEach((a, i) => (graph[`${a}@${pk}`] = i === 0 ? [] : [`${assets[i - 1]}@${pk}`]));
  }
  return makePlan(selection, graph);
}

function start(input: Omit<BackfillInput, 'backfillId'>, backfillId = randomUUID()) {
  return env.client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: backfillWorkflowId(backfillId),
    args: [{ backfillId, ...input }],
  });
}

describe('backfillWorkflow', () => {
  it('runs only the missing, only the failed, or all steps', async () => {
    const ns = `${env.ns}o`;
    const s = (n: string): string => `${ns}.${n}@2026-11-01`;
    const plan = makePlan(
      `${ns}.*`,
      {
        [s('m1')]: [],
        [s('m2')]: [s('m1')],
        [s('f1')]: [],
        [s('f2')]: [],
        [s('c1')]: [],
        [s('c2')]: [s('c1')],
      },
      {
        [s('f1')]: 'failed_before',
        [s('f2')]: 'failed_before',
        [s('c1')]: 'code_changed',
        [s('c2')]: 'upstream_changed',
      },
    );
    const request = { selection: plan.selection, range: { from: '2026-11-01', to: '2026-11-01' } };
    const ran = async (only: BackfillInput['only']): Promise<string[]> => {
      const state = fakes.use({ plans: { [plan.selection]: plan }, delayMs: 0 });
      const summary = await (await start({ request, only, concurrency: 3 })).result();
      expect(summary.status).toBe('completed');
      expect(state.backfills.at(-1)).toMatchObject({ status: 'completed', done: summary.total, failed: 0 });
      expect(state.planRequests[0]!.force).toBe(only === 'all');
      return [...state.calls.keys()].sort();
    };
    expect(await ran('missing')).toEqual([s('f1'), s('f2'), s('m1'), s('m2')]);
    expect(await ran('failed')).toEqual([s('f1'), s('f2')]);
    expect(await ran('all')).toHaveLength(6);
  });

  it('continues as new every N steps and still runs each step once, in order', async () => {
    const ns = `${env.ns}c`;
    const plan = dailyPlan('can', [`${ns}.a`, `${ns}.b`], 6);
    const state = fakes.use({ plans: { can: plan }, delayMs: 0 });
    const handle = await start({
      request: { selection: 'can' },
      only: 'all',
      concurrency: 2,
      stepsPerRun: 4,
    });
    const summary = await handle.result();
    expect(summary).toMatchObject({ status: 'completed', total: 12, done: 12, runs: 3 });
    expect([...state.calls.values()].every((n) => n === 1)).toBe(true);
    expect(state.calls.size).toBe(12);
    const at = (e: string): number => state.events.indexOf(e);
    for (let d = 1; d <= 6; d++) {
      const pk = `2026-11-0${d}`;
      expect(at(`end:${ns}.a@${pk}`)).toBeLessThan(at(`start:${ns}.b@${pk}`));
    }
    const progress = await handle.query(backfillProgressQuery);
    expect(progress).toMatchObject({ total: 12, done: 12, runs: 3, phase: 'done' });
    // Search attributes set by the first run survive continue-as-new.
    const last = await handle.describe();
    expect(last.runId).not.toBe(handle.firstExecutionRunId);
    expect(last.typedSearchAttributes.get(ASSET_KEYS)).toEqual([`${ns}.a`, `${ns}.b`]);
  });

  it('resumes on a new worker after the first is shut down mid-run', async () => {
    const ns = `${env.ns}r`;
    const plan = dailyPlan('resume', [`${ns}.a`], 8);
    const state = fakes.use({ plans: { resume: plan }, delayMs: 1_000 });
    const handle = await start({
      request: { selection: 'resume' },
      only: 'all',
      concurrency: 2,
      stepOptions: { initialInterval: '100ms', heartbeatTimeout: '2s' },
    });
    // Two steps done and the next two just started (each takes 1s): stop now interrupts both.
    await eventually(() => (state.successes.size >= 2 && state.running === 2) || undefined);
    let interrupted: string[];
    try {
      await worker!.stop(); // in-flight steps get 100ms (shutdownGraceTime), then are cancelled and retried
      interrupted = state.cancelled.slice();
    } finally {
      worker = await startWorker(env, fakes.activities, { shutdownGraceTime: '100ms' });
    }
    expect(interrupted.length).toBeGreaterThan(0);
    const mid: BackfillProgressView = await handle.query(backfillProgressQuery);
    expect(mid.total).toBe(8);
    const summary = await handle.result();
    expect(summary).toMatchObject({ status: 'completed', done: 8, failed: 0 });
    expect(state.successes.size).toBe(8);
    expect([...state.successes.values()].every((n) => n === 1)).toBe(true);
    for (const [id, calls] of state.calls) expect(calls).toBe(interrupted.includes(id) ? 2 : 1);
  });

  it('cancels cleanly: steps in flight are cancelled, no new ones start, status recorded', async () => {
    const ns = `${env.ns}x`;
    const plan = dailyPlan('cancel', [`${ns}.a`], 10);
    const state = fakes.use({ plans: { cancel: plan }, delayMs: 5_000 });
    const handle = await start({ request: { selection: 'cancel' }, only: 'all', concurrency: 3 });
    await eventually(() => state.running === 3 || undefined);
    await handle.cancel();
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(state.cancelled.sort()).toEqual([...state.calls.keys()].sort());
    expect(state.calls.size).toBe(3);
    expect(state.running).toBe(0);
    expect(state.backfills.at(-1)).toMatchObject({ status: 'cancelled', done: 0 });
    const first = plan.steps[0]!;
    const child = await env.client.workflow
      .getHandle(stepWorkflowId(first.assetKey, first.partitionKey, env.taskQueue))
      .describe();
    expect(child.status.name).toBe('CANCELLED');
  });

  it('does not rebuild a step a concurrent run is building', async () => {
    const ns = `${env.ns}s`;
    const plan = dailyPlan('shared', [`${ns}.a`], 3);
    const busy = plan.steps[1]!;
    const state = fakes.use({ plans: { shared: plan }, delayMs: (s) => (s.id === busy.id ? 1_500 : 50) });
    const scheduled = await env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
      taskQueue: env.taskQueue,
      workflowId: `test/run/${randomUUID()}`,
      args: [{ plan: makePlan('one', { [busy.id]: [] }) }],
    });
    await eventually(() => (state.calls.get(busy.id) ? true : undefined));
    const summary = await (await start({ request: { selection: 'shared' }, only: 'all' })).result();
    expect(summary).toMatchObject({ status: 'completed', done: 3 });
    expect((await scheduled.result()).status).toBe('success');
    expect(state.calls.get(busy.id)).toBe(1);
  });
});
