import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshnessWorkflowId } from '../../src/runtime/ids.js';
import type { scheduleTickWorkflow } from '../../src/workflows/index.js';
import type { ScheduleTickInput } from '../../src/workflows/types.js';
import { connectTestEnv, startWorker, UI_BASE_URL } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, makePlan, switchableFakes } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
const fakes = switchableFakes();

beforeAll(async () => {
  env = await connectTestEnv('tick');
  worker = await startWorker(env, fakes.activities);
});

afterAll(async () => {
  await worker?.stop();
  await env?.close();
});

const tick = (input: Omit<ScheduleTickInput, 'schedule' | 'publishGroups'>) =>
  env.client.workflow.execute<typeof scheduleTickWorkflow>('scheduleTickWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: `test/tick/${randomUUID()}`,
    args: [{ schedule: 'daily', publishGroups: [], uiBaseUrl: UI_BASE_URL, ...input }],
  });

describe('scheduleTickWorkflow freshness', () => {
  it('alerts a freshness breach once, however many ticks see it', async () => {
    const ns = env.ns;
    const plan = makePlan(`${ns}.fresh`, { [`${ns}.fresh@d2`]: [] });
    const late = new Set([`${ns}.late@d1`]);
    const state = fakes.use({
      plans: { [plan.selection]: plan },
      tick: () => ({ request: { selection: plan.selection, partitionKeys: ['d2'] }, publish: [] }),
      freshness: () =>
        [...late].map((id) => ({
          assetKey: id.split('@')[0]!,
          partitionKey: id.split('@')[1]!,
          error: 'not materialized 60 min after its window ended',
        })),
    });
    const freshAlerts = () => state.alerts.filter((a) => a.kind === 'freshness_breach');
    const first = await tick({ selection: plan.selection, asOf: '2026-11-03T02:00:00Z' });
    expect(first.materialize.succeeded).toBe(1);
    const id = freshnessWorkflowId(`${ns}.late`, 'd1', env.taskQueue);
    expect(first.freshnessAlerts).toEqual([id]);
    await eventually(() => (freshAlerts().length > 0 ? true : undefined));
    expect(state.freshnessChecks).toEqual([{ selection: plan.selection, asOf: '2026-11-03T02:00:00Z' }]);

    // The next tick still sees the breach: no second alert. A new breach alerts once.
    const second = await tick({ selection: plan.selection, asOf: '2026-11-03T03:00:00Z' });
    expect(second.freshnessAlerts).toEqual([]);
    late.add(`${ns}.late@d2`);
    const third = await tick({ selection: plan.selection, asOf: '2026-11-04T02:00:00Z' });
    expect(third.freshnessAlerts).toEqual([freshnessWorkflowId(`${ns}.late`, 'd2', env.taskQueue)]);
    await eventually(() => (freshAlerts().length > 1 ? true : undefined));
    await env.client.workflow.getHandle(third.freshnessAlerts![0]!).result();
    expect(freshAlerts().map((a) => `${a.assetKey}@${a.partitionKey}`)).toEqual([
      `${ns}.late@d1`,
      `${ns}.late@d2`,
    ]);
    expect(freshAlerts()[0]).toMatchObject({
      error: 'not materialized 60 min after its window ended',
      workflowId: id,
      runUrl: expect.stringContaining(encodeURIComponent(id)) as unknown,
    });
  });
});
