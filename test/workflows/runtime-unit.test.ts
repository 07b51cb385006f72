import { describe, expect, it } from 'vitest';
import { temporalConfigFromEnv } from '../../src/runtime/config.js';
import { publishWorkflowId, scheduleId, scheduleNameFromId, stepWorkflowId } from '../../src/runtime/ids.js';
import { workflowUrl } from '../../src/runtime/ui.js';
import { filterPlan } from '../../src/planner/index.js';
import { makePlan } from './fakes.js';

describe('runtime helpers', () => {
  it('builds predictable ids', () => {
    expect(stepWorkflowId('core.dim_users', '2026-11-24', 'tessera')).toBe(
      'tessera/step/tessera/core.dim_users/2026-11-24',
    );
    expect(stepWorkflowId('core.config', '', 'prod')).toBe('tessera/step/prod/core.config/');
    expect(publishWorkflowId('revenue', '2026-11-24')).toBe('tessera/publish/revenue/2026-11-24');
    expect(scheduleNameFromId(scheduleId('daily'))).toBe('daily');
    expect(scheduleNameFromId('other/daily')).toBeUndefined();
  });

  it('links to the Temporal UI with encoded ids', () => {
    expect(workflowUrl('tessera/step/a.b/2026-11-24|meta', { runId: 'r1' })).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows/tessera%2Fstep%2Fa.b%2F2026-11-24%7Cmeta/r1',
    );
    expect(workflowUrl('w', { baseUrl: 'https://temporal.example.com/', namespace: 'prod' })).toBe(
      'https://temporal.example.com/namespaces/prod/workflows/w',
    );
  });

  it('reads connection config from the environment, validated', () => {
    expect(temporalConfigFromEnv({})).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'tessera',
      uiBaseUrl: 'http://127.0.0.1:8233',
    });
    expect(temporalConfigFromEnv({ TESSERA_TEMPORAL_PORT: '7300', TESSERA_TASK_QUEUE: 'q' })).toMatchObject({
      address: '127.0.0.1:7300',
      taskQueue: 'q',
    });
    expect(() => temporalConfigFromEnv({ TESSERA_TEMPORAL_ADDRESS: 'nohost' })).toThrow(/host:port/);
  });

  it('filters a backfill plan by planner reason', () => {
    const plan = makePlan(
      's',
      { 'a@1': [], 'b@1': ['a@1'], 'c@1': [] },
      { 'a@1': 'code_changed', 'b@1': 'failed_before', 'c@1': 'missing' },
    );
    expect(filterPlan(plan, 'all').map((s) => s.id)).toEqual(['a@1', 'b@1', 'c@1']);
    expect(filterPlan(plan, 'missing').map((s) => s.id)).toEqual(['b@1', 'c@1']);
    expect(filterPlan(plan, 'failed').map((s) => s.id)).toEqual(['b@1']);
  });

  it('keeps the stale readers of every step a backfill rebuilds', () => {
    const plan = makePlan(
      's',
      { 'raw@1': [], 'dim@': ['raw@1'], 'mart@1': ['dim@'], 'other@1': [] },
      {
        'raw@1': 'missing',
        'dim@': 'upstream_changed',
        'mart@1': 'upstream_changed',
        'other@1': 'upstream_changed',
      },
    );
    expect(filterPlan(plan, 'missing').map((s) => s.id)).toEqual(['raw@1', 'dim@', 'mart@1']);
  });
});
