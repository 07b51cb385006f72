import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../src/dsl/types.js';
import {
  applySchedules,
  listScheduleIds,
  pauseSchedule,
  scheduleStatus,
  triggerSchedule,
} from '../../src/runtime/schedules.js';
import type { ApplySchedulesOptions } from '../../src/runtime/schedules.js';
import { publishWorkflowId } from '../../src/runtime/ids.js';
import type { ScheduleTickResult } from '../../src/workflows/types.js';
import { connectTestEnv, startWorker } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, makePlan, switchableFakes } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
let opts: ApplySchedulesOptions;
const fakes = switchableFakes();

beforeAll(async () => {
  env = await connectTestEnv('schedules');
  worker = await startWorker(env, fakes.activities);
  // A prefix of our own, so this file never touches other schedules on the shared server.
  opts = { taskQueue: env.taskQueue, idPrefix: `tessera/schedule/${env.ns}/`, tick: { concurrency: 2 } };
});

afterAll(async () => {
  if (opts) await applySchedules(env.client, [], opts).catch(() => undefined);
  await worker?.stop();
  await env?.close();
});

const YEARLY = '0 3 1 1 *'; // never fires during a test

describe('applySchedules', () => {
  it('creates, leaves unchanged, updates and deletes', async () => {
    const daily: ScheduleSpec = {
      name: 'daily',
      cron: YEARLY,
      selection: 'tag:daily',
      publishGroups: ['revenue'],
    };
    const hourly: ScheduleSpec = {
      name: 'hourly',
      cron: YEARLY,
      timezone: 'Asia/Kolkata',
      selection: 'tag:hourly',
    };

    expect(await applySchedules(env.client, [daily, hourly], opts)).toEqual({
      created: ['daily', 'hourly'],
      updated: [],
      deleted: [],
      unchanged: [],
    });
    expect(await applySchedules(env.client, [hourly, daily], opts)).toEqual({
      created: [],
      updated: [],
      deleted: [],
      unchanged: ['hourly', 'daily'],
    });

    await pauseSchedule(env.client, 'daily', 'maintenance', opts.idPrefix);
    const changed = { ...daily, cron: '0 4 1 1 *' };
    const dry = await applySchedules(env.client, [changed, hourly], { ...opts, dryRun: true });
    expect(dry.updated).toEqual(['daily']);
    expect(await applySchedules(env.client, [changed, hourly], opts)).toEqual({
      created: [],
      updated: ['daily'],
      deleted: [],
      unchanged: ['hourly'],
    });
    const status = await scheduleStatus(env.client, 'daily', opts.idPrefix);
    expect(status).toMatchObject({ paused: true, note: 'maintenance' }); // an update keeps the pause

    // Deletion finds schedules through visibility, which lags creation by a moment.
    await eventually(
      async () => (await listScheduleIds(env.client, opts.idPrefix)).length === 2 || undefined,
    );
    expect(await applySchedules(env.client, [changed], opts)).toEqual({
      created: [],
      updated: [],
      deleted: ['hourly'],
      unchanged: ['daily'],
    });
  });

  it('trigger runs a tick: materialize the latest partitions, then publish the groups', async () => {
    const ns = env.ns;
    const plan = makePlan(`tag:${ns}`, {
      [`${ns}.fact@2026-11-24`]: [],
      [`${ns}.mart@2026-11-24`]: [`${ns}.fact@2026-11-24`],
    });
    const group = `${ns}-revenue`;
    const state = fakes.use({
      plans: { [plan.selection]: plan },
      tick: () => ({
        request: { selection: plan.selection, partitionKeys: ['2026-11-24'] },
        publish: [{ group, partitionKey: '2026-11-24' }],
      }),
    });
    state.barrier.set(`${group}@2026-11-24`, { ready: true, waitingOn: [] });
    await applySchedules(
      env.client,
      [{ name: 'tick', cron: YEARLY, selection: plan.selection, publishGroups: [group] }],
      opts,
    );
    await triggerSchedule(env.client, 'tick', opts.idPrefix);
    const workflowId = await eventually(
      async () => (await scheduleStatus(env.client, 'tick', opts.idPrefix)).recentWorkflowIds[0],
    );
    const result: ScheduleTickResult = await env.client.workflow.getHandle(workflowId).result();
    expect(result.materialize).toMatchObject({ status: 'success', succeeded: 2 });
    expect(result.publishWorkflowIds).toEqual([publishWorkflowId(group, '2026-11-24', env.taskQueue)]);
    const published = await env.client.workflow.getHandle(result.publishWorkflowIds[0]!).result();
    expect(published).toMatchObject({ status: 'published' });
    expect(state.published).toHaveLength(1);
    expect(Date.parse(result.asOf)).toBeGreaterThan(Date.now() - 60_000);
  });
});
