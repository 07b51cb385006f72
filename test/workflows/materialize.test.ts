import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaterializeSummary, Progress } from '../../src/workflows/types.js';
import { progressQuery } from '../../src/workflows/types.js';
import type { materializeWorkflow } from '../../src/workflows/index.js';
import { stepWorkflowId } from '../../src/runtime/ids.js';
import { connectTestEnv, startWorker, UI_BASE_URL } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, makePlan, switchableFakes } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
const fakes = switchableFakes();
const use = fakes.use;

beforeAll(async () => {
  env = await connectTestEnv('materialize');
  worker = await startWorker(env, fakes.activities, { maxConcurrentActivityTaskExecutions: 20 });
});

afterAll(async () => {
  await worker?.stop();
  await env?.close();
});

function run(input: Parameters<typeof materializeWorkflow>[0], id = `test/run/${randomUUID()}`) {
  return env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: id,
    args: [{ uiBaseUrl: UI_BASE_URL, ...input }],
  });
}

describe('materializeWorkflow', () => {
  it('runs steps in dependency order with at most N in flight, and answers progress', async () => {
    const ns = env.ns;
    const graph: Record<string, string[]> = {
      [`${ns}.a@p1`]: [],
      [`${ns}.b@p1`]: [`${ns}.a@p1`],
      [`${ns}.c@p1`]: [`${ns}.b@p1`, `${ns}.a@p1`],
    };
    for (let i = 0; i < 7; i++) graph[`${ns}.leaf${i}@p1`] = [];
    const state = use({ delayMs: 300 });
    const handle = await run({ plan: makePlan('order', graph), concurrency: 3 });
    const mid = await eventually(async () => {
      const p: Progress = await handle.query(progressQuery);
      return p.running > 0 ? p : undefined;
    });
    expect(mid.total).toBe(10);
    expect(mid.running).toBeLessThanOrEqual(3);
    const summary = await handle.result();
    expect(summary.status).toBe('success');
    expect(summary.succeeded).toBe(10);
    expect(state.maxRunning).toBe(3);
    const at = (e: string): number => state.events.indexOf(e);
    expect(at(`end:${ns}.a@p1`)).toBeLessThan(at(`start:${ns}.b@p1`));
    expect(at(`end:${ns}.b@p1`)).toBeLessThan(at(`start:${ns}.c@p1`));
    const done = await handle.query(progressQuery);
    expect(done).toMatchObject({ total: 10, done: 10, failed: 0, running: 0, pending: 0 });
  });

  it('skips the downstream of a failed step, runs unrelated steps, alerts once per failed step', async () => {
    const ns = `${env.ns}f`;
    const s = (n: string): string => `${ns}.${n}@2026-11-24`;
    const graph = {
      [s('a')]: [],
      [s('b')]: [s('a')],
      [s('c')]: [s('b')],
      [s('d')]: [s('a')],
      [s('e')]: [],
      [s('flaky')]: [],
      [s('g')]: [s('flaky')],
      [s('checked')]: [],
      [s('h')]: [s('checked')],
    };
    const state = use({
      failures: {
        [s('a')]: { kind: 'sql' },
        [s('flaky')]: { kind: 'flaky', times: 1 },
        [s('checked')]: { kind: 'check' },
      },
    });
    const handle = await run({
      plan: makePlan('fail', graph),
      concurrency: 4,
      stepOptions: { initialInterval: '50ms' },
    });
    const summary: MaterializeSummary = await handle.result();
    const status = Object.fromEntries(summary.steps.map((o) => [o.stepId, o.status]));
    expect(status).toEqual({
      [s('a')]: 'failed',
      [s('b')]: 'skipped_upstream_failed',
      [s('c')]: 'skipped_upstream_failed',
      [s('d')]: 'skipped_upstream_failed',
      [s('e')]: 'success',
      [s('flaky')]: 'success',
      [s('g')]: 'success',
      [s('checked')]: 'failed',
      [s('h')]: 'skipped_upstream_failed',
    });
    expect(summary).toMatchObject({ status: 'failed', succeeded: 3, failed: 2, skipped: 4 });
    expect(state.calls.get(s('a'))).toBe(1); // non-retryable
    expect(state.calls.get(s('flaky'))).toBe(2);
    expect(state.calls.has(s('b'))).toBe(false);
    // Alerts are delivered by their own workflows, after the run moved on.
    await eventually(() => (state.alerts.length >= 2 ? true : undefined));
    expect(state.alerts.map((a) => [a.kind, a.assetKey]).sort()).toEqual([
      ['asset_failed', `${ns}.a`],
      ['check_failed', `${ns}.checked`],
    ]);
    const alert = state.alerts.find((a) => a.kind === 'asset_failed')!;
    expect(alert.error).toContain('SqlError');
    expect(alert.workflowId).toBe(stepWorkflowId(`${ns}.a`, '2026-11-24', env.taskQueue));
    expect(alert.runId).toBe(handle.workflowId);
    expect(alert.runUrl).toContain(
      `${UI_BASE_URL}/namespaces/default/workflows/${encodeURIComponent(alert.workflowId)}/`,
    );
  });

  it('builds a step once when two runs want it at the same time', async () => {
    const ns = `${env.ns}d`;
    const shared = `${ns}.shared@p`;
    const state = use({ delayMs: (step) => (step.id === shared ? 1_500 : 50) });
    const first = await run({ plan: makePlan('one', { [shared]: [], [`${ns}.x@p`]: [shared] }) });
    await eventually(() => (state.calls.get(shared) ? true : undefined));
    const second = await run({ plan: makePlan('two', { [shared]: [], [`${ns}.y@p`]: [shared] }) });
    const [a, b] = await Promise.all([first.result(), second.result()]);
    expect(a.status).toBe('success');
    expect(b.status).toBe('success');
    expect(state.calls.get(shared)).toBe(1);
    expect(b.steps.find((s) => s.stepId === shared)?.dataVersion).toBe(`v-${shared}`);
    expect(state.calls.get(`${ns}.y@p`)).toBe(1);
  });

  it.each(['activity', 'local'] as const)('runs steps without child workflows in %s mode', async (mode) => {
    const ns = `${env.ns}${mode}`;
    const state = use({
      failures: { [`${ns}.bad@p`]: { kind: 'sql' }, [`${ns}.flaky@p`]: { kind: 'flaky', times: 1 } },
    });
    const handle = await run({
      mode,
      stepOptions: { initialInterval: '50ms' },
      plan: makePlan('act', {
        [`${ns}.ok@p`]: [],
        [`${ns}.flaky@p`]: [],
        [`${ns}.bad@p`]: [],
        [`${ns}.after@p`]: [`${ns}.bad@p`],
      }),
    });
    const summary = await handle.result();
    expect(summary).toMatchObject({ succeeded: 2, failed: 1, skipped: 1 });
    expect(state.calls.get(`${ns}.flaky@p`)).toBe(2);
    await eventually(() => (state.alerts.length > 0 ? true : undefined));
    expect(state.alerts).toHaveLength(1);
    expect(state.alerts[0]!.workflowId).toBe(handle.workflowId);
  });

  it('scopes step ids by deployment (task queue) and gives step workflows an execution timeout', async () => {
    const ns = `${env.ns}d`;
    const shared = `${ns}.shared@p`;
    const state = use({ delayMs: (step) => (step.id === shared ? 1_000 : 20) });
    const otherQueue = `${env.taskQueue}-other`;
    const other = await startWorker(env, fakes.activities, { taskQueue: otherQueue });
    try {
      const here = await run({ plan: makePlan('here', { [shared]: [] }) });
      const there = await env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
        taskQueue: otherQueue,
        workflowId: `test/run/${randomUUID()}`,
        args: [{ plan: makePlan('there', { [shared]: [] }), stepOptions: { workflowTimeout: '1h' } }],
      });
      const results = await Promise.all([here.result(), there.result()]);
      expect(results.map((r) => r.succeeded)).toEqual([1, 1]);
      // Neither deployment waited on the other's step: each built it.
      expect(state.calls.get(shared)).toBe(2);
      const timeoutOf = async (queue: string): Promise<number> => {
        const d = await env.client.workflow.getHandle(stepWorkflowId(`${ns}.shared`, 'p', queue)).describe();
        expect(d.taskQueue).toBe(queue);
        return Number(d.raw.executionConfig?.workflowExecutionTimeout?.seconds ?? 0);
      };
      expect(await timeoutOf(env.taskQueue)).toBe(12 * 3600);
      expect(await timeoutOf(otherQueue)).toBe(3600);
    } finally {
      await other.stop();
    }
  });

  it('plans from a request and tags runs and steps with search attributes', async () => {
    const ns = `${env.ns}s`;
    const plan = makePlan(`+${ns}.mart`, { [`${ns}.src@d1`]: [], [`${ns}.mart@d1`]: [`${ns}.src@d1`] });
    const state = use({ plans: { [plan.selection]: plan } });
    const handle = await run({ request: { selection: plan.selection, partitionKeys: ['d1'] }, force: true });
    expect((await handle.result()).succeeded).toBe(2);
    expect(state.planRequests).toEqual([{ selection: plan.selection, partitionKeys: ['d1'], force: true }]);
    const ids = async (query: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const w of env.client.workflow.list({ query })) out.push(w.workflowId);
      return out.sort();
    };
    const steps = await eventually(async () => {
      const found = await ids(`AssetKey = "${ns}.mart" AND PartitionKey = "d1"`);
      return found.length > 0 ? found : undefined;
    });
    expect(steps).toEqual([stepWorkflowId(`${ns}.mart`, 'd1', env.taskQueue)]);
    const runs = await eventually(async () => {
      const found = await ids(`AssetKeys = "${ns}.src" AND TesseraRunKind = "materialize"`);
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toEqual([handle.workflowId]);
  });
});
