import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPublish } from '../../src/runtime/client.js';
import { publishWorkflowId } from '../../src/runtime/ids.js';
import { publishProgressQuery, recheckSignal } from '../../src/workflows/types.js';
import { connectTestEnv, startWorker, UI_BASE_URL } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, switchableFakes } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
const fakes = switchableFakes();

beforeAll(async () => {
  env = await connectTestEnv('publish');
  worker = await startWorker(env, fakes.activities);
});

afterAll(async () => {
  await worker?.stop();
  await env?.close();
});

describe('publishWorkflow', () => {
  it('waits for the barrier, re-checks on signal, then flips the group once', async () => {
    const group = `${env.ns}-revenue`;
    const state = fakes.use({});
    state.barrier.set(`${group}@2026-11-24`, { ready: false, waitingOn: ['marts.daily_revenue@2026-11-24'] });
    const target = { taskQueue: env.taskQueue, uiBaseUrl: UI_BASE_URL };
    // A long poll interval: only the recheck signal can make this test finish quickly.
    const handle = await startPublish(env.client, target, {
      group,
      partitionKey: '2026-11-24',
      pollInitial: '1h',
      timeout: '2h',
    });
    expect(handle.workflowId).toBe(publishWorkflowId(group, '2026-11-24', env.taskQueue));
    const waiting = await eventually(async () => {
      const p = await handle.query(publishProgressQuery);
      return p.checks >= 1 ? p : undefined;
    });
    expect(waiting).toMatchObject({ ready: false, waitingOn: ['marts.daily_revenue@2026-11-24'] });
    expect(state.published).toHaveLength(0);

    await handle.signal(recheckSignal);
    await eventually(() => state.barrierChecks >= 2 || undefined);
    expect(state.published).toHaveLength(0);

    state.barrier.set(`${group}@2026-11-24`, { ready: true, waitingOn: [] });
    // Starting it again attaches to the waiting run and nudges it (signal-with-start).
    const again = await startPublish(env.client, target, { group, partitionKey: '2026-11-24' });
    expect(again.workflowId).toBe(handle.workflowId);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'published', version: `${group}-2026-11-24-1` });
    expect(state.published).toEqual([{ group, partitionKey: '2026-11-24', runId: handle.workflowId }]);
    expect(state.alerts).toHaveLength(0);
  });

  it('times out: alerts barrier_timeout once and keeps the previous version', async () => {
    const group = `${env.ns}-roas`;
    const state = fakes.use({});
    state.barrier.set(`${group}@2026-11-23`, {
      ready: false,
      waitingOn: ['watermark ads_meta < 2026-11-24T02:00Z'],
    });
    const handle = await env.client.workflow.start('publishWorkflow', {
      taskQueue: env.taskQueue,
      workflowId: `test/publish/${randomUUID()}`,
      args: [
        { group, partitionKey: '2026-11-23', timeout: '1500ms', pollInitial: '200ms', pollMax: '400ms' },
      ],
    });
    const result: unknown = await handle.result();
    expect(result).toMatchObject({
      status: 'timed_out',
      waitingOn: ['watermark ads_meta < 2026-11-24T02:00Z'],
    });
    expect(state.barrierChecks).toBeGreaterThanOrEqual(2);
    expect(state.published).toHaveLength(0);
    await eventually(() => (state.alerts.length > 0 ? true : undefined));
    expect(state.alerts).toHaveLength(1);
    expect(state.alerts[0]).toMatchObject({
      kind: 'barrier_timeout',
      group,
      partitionKey: '2026-11-23',
      workflowId: handle.workflowId,
      runId: handle.workflowId,
    });
    expect(state.alerts[0]!.error).toContain('watermark ads_meta');
  });
});
