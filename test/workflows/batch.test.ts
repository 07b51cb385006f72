import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/planner/types.js';
import { stepWorkflowId } from '../../src/runtime/ids.js';
import type { materializeWorkflow } from '../../src/workflows/index.js';
import type { MaterializeInput } from '../../src/workflows/types.js';
import { connectTestEnv, startWorker, UI_BASE_URL } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, makePlan, switchableFakes } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
const fakes = switchableFakes();

beforeAll(async () => {
  env = await connectTestEnv('batch');
  worker = await startWorker(env, fakes.activities, { maxConcurrentActivityTaskExecutions: 20 });
});

afterAll(async () => {
  await worker?.stop();
  await env?.close();
});

const run = (input: MaterializeInput) =>
  env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: `test/run/${randomUUID()}`,
    args: [{ uiBaseUrl: UI_BASE_URL, ...input }],
  });

/** Hours of day `d1`..: `asset@dNThh` steps batched by day, optionally on a lane. */
function hourly(plan: Plan, lane?: string): Plan {
  return {
    ...plan,
    steps: plan.steps.map((s) =>
      /T\d\d$/.test(s.partitionKey)
        ? { ...s, batch: s.partitionKey.slice(0, 2), ...(lane ? { lane } : {}) }
        : s,
    ),
  };
}

async function childIds(runId: string): Promise<string[]> {
  const h = await env.client.workflow.getHandle(runId).fetchHistory();
  return (h.events ?? []).flatMap((e) => {
    const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    return id ? [id] : [];
  });
}

describe('step batches', () => {
  it('runs the hours of a day in one workflow; a failed hour fails alone and skips its readers', async () => {
    const ns = env.ns;
    const hours = ['T00', 'T01', 'T02', 'T03'].map((h) => `${ns}.h@d1${h}`);
    const graph: Record<string, string[]> = Object.fromEntries(hours.map((h) => [h, []]));
    graph[`${ns}.day@d1`] = hours.slice(0, 2);
    graph[`${ns}.late@d1`] = hours.slice(2);
    const state = fakes.use({ failures: { [hours[2]!]: { kind: 'sql' } } });
    const handle = await run({ plan: hourly(makePlan('batch', graph)), concurrency: 4 });
    const summary = await handle.result();
    expect(summary).toMatchObject({ status: 'failed', succeeded: 4, failed: 1, skipped: 1 });
    const status = Object.fromEntries(summary.steps.map((s) => [s.stepId, s.status]));
    expect(status[hours[2]!]).toBe('failed');
    expect(status[`${ns}.late@d1`]).toBe('skipped_upstream_failed');
    expect(status[`${ns}.day@d1`]).toBe('success');
    expect([...state.calls.values()].every((n) => n === 1)).toBe(true);
    // One child for the four hours (id: the batch), one for the daily reader; none for the skipped step.
    const batchId = stepWorkflowId(`${ns}.h`, 'd1', env.taskQueue);
    expect(await childIds(handle.workflowId)).toEqual([
      batchId,
      stepWorkflowId(`${ns}.day`, 'd1', env.taskQueue),
    ]);
    // The batch is red in the UI (one step failed) and alerted once, for that step.
    const described = await env.client.workflow.getHandle(batchId).describe();
    expect(described.status.name).toBe('FAILED');
    // Alerts are delivered by their own workflow, after the run moved on.
    await eventually(() => (state.alerts.length > 0 ? true : undefined));
    expect(state.alerts.map((a) => `${a.kind} ${a.assetKey}@${a.partitionKey} ${a.workflowId}`)).toEqual([
      `asset_failed ${ns}.h@d1T02 ${batchId}`,
    ]);
  });

  it('runs one batch per lane at a time', async () => {
    const ns = `${env.ns}l`;
    const graph: Record<string, string[]> = {};
    for (const d of ['d1', 'd2', 'd3']) for (const h of ['T00', 'T01']) graph[`${ns}.src@${d}${h}`] = [];
    const state = fakes.use({ delayMs: 150 });
    const summary = await (
      await run({ plan: hourly(makePlan('lane', graph), 'source'), concurrency: 4 })
    ).result();
    expect(summary.succeeded).toBe(6);
    // The two hours of a day may overlap; days never do.
    const at = (e: string): number => state.events.indexOf(e);
    expect(at(`end:${ns}.src@d1T00`)).toBeLessThan(at(`start:${ns}.src@d2T00`));
    expect(at(`end:${ns}.src@d1T01`)).toBeLessThan(at(`start:${ns}.src@d2T01`));
    expect(at(`end:${ns}.src@d2T01`)).toBeLessThan(at(`start:${ns}.src@d3T00`));
    expect(state.maxRunning).toBe(2);
  });

  it('starts the ready unit with the most steps ahead of it first', async () => {
    const ns = `${env.ns}p`;
    const graph = {
      [`${ns}.lonely@d1`]: [],
      [`${ns}.head@d1`]: [],
      [`${ns}.mid@d1`]: [`${ns}.head@d1`],
      [`${ns}.tail@d1`]: [`${ns}.mid@d1`],
    };
    const state = fakes.use({});
    // head (3 steps ahead), then mid (2); lonely and tail tie at 1: plan order.
    const summary = await (
      await run({ plan: makePlan('prio', graph), concurrency: 1, mode: 'activity' })
    ).result();
    expect(summary.succeeded).toBe(4);
    expect(state.events.filter((e) => e.startsWith('start:'))).toEqual(
      ['head', 'mid', 'lonely', 'tail'].map((a) => `start:${ns}.${a}@d1`),
    );
  });

  it('a run that finds the batch running takes its results and builds only the rest', async () => {
    const ns = `${env.ns}a`;
    const [t0, t1, t2] = ['T00', 'T01', 'T02'].map((h) => `${ns}.h@d1${h}`) as [string, string, string];
    const state = fakes.use({ delayMs: (s) => (s.id === t0 ? 1_500 : 50) });
    const first = await run({ plan: hourly(makePlan('a1', { [t0]: [], [t1]: [] })) });
    await eventually(() => (state.calls.get(t0) ? true : undefined));
    const second = await run({ plan: hourly(makePlan('a2', { [t1]: [], [t2]: [] })) });
    const [a, b] = await Promise.all([first.result(), second.result()]);
    expect(a.succeeded).toBe(2);
    expect(b.succeeded).toBe(2);
    expect([t0, t1, t2].map((id) => state.calls.get(id))).toEqual([1, 1, 1]);
    expect(b.steps.find((s) => s.stepId === t1)?.dataVersion).toBe(`v-${t1}`);
  });
});
