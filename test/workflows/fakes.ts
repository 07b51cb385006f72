/** In-memory fake activities that record what the workflows asked for. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type {
  Alert,
  BackfillProgress,
  BarrierStatus,
  FreshnessBreach,
  FreshnessInput,
  PublishGroupInput,
  StepResult,
  TesseraActivities,
  TickPlan,
} from '../../src/activities/types.js';
import type { Plan, PlanReason, PlanRequest, PlanStep } from '../../src/planner/types.js';

/** How a step misbehaves: non-retryable SQL error, failed blocking check, or `flaky` failures before succeeding. */
export type Failure = { kind: 'sql' } | { kind: 'check' } | { kind: 'flaky'; times: number };

export interface FakeOptions {
  /** Milliseconds a step takes (default 20). */
  delayMs?: number | ((step: PlanStep) => number);
  failures?: Record<string, Failure>;
  plans?: Record<string, Plan>;
  tick?: (asOf: string) => TickPlan;
  /** Freshness breaches to report (default none). */
  freshness?: (input: FreshnessInput) => readonly FreshnessBreach[];
}

export interface FakeState {
  /** materializeStep calls per step id (attempts included). */
  calls: Map<string, number>;
  successes: Map<string, number>;
  cancelled: string[];
  /** `start:<id>` / `end:<id>` in order. */
  events: string[];
  running: number;
  maxRunning: number;
  /** End time of each activity and start time of the next: for dispatch overhead. */
  starts: number[];
  ends: number[];
  alerts: Alert[];
  barrier: Map<string, BarrierStatus>;
  barrierChecks: number;
  published: PublishGroupInput[];
  backfills: BackfillProgress[];
  planRequests: PlanRequest[];
  freshnessChecks: FreshnessInput[];
}

/** Builds a plan from `{ 'asset@pk': ['upstream@pk', ...] }` (plan order = key order). */
export function makePlan(
  selection: string,
  graph: Record<string, readonly string[]>,
  reasons: Record<string, PlanReason> = {},
): Plan {
  const steps: PlanStep[] = Object.entries(graph).map(([id, upstream]) => {
    const at = id.lastIndexOf('@');
    return {
      id,
      assetKey: id.slice(0, at),
      partitionKey: id.slice(at + 1),
      reason: reasons[id] ?? 'missing',
      upstream,
      inputs: upstream,
    };
  });
  return { selection, range: undefined, steps, skippedFresh: 0 };
}

async function work(ms: number): Promise<void> {
  const ctx = Context.current();
  const until = Date.now() + ms;
  for (;;) {
    ctx.heartbeat();
    const left = until - Date.now();
    if (left <= 0) return;
    await ctx.sleep(Math.min(left, 100)); // rejects with CancelledFailure when the activity is cancelled
  }
}

export function createFakes(opts: FakeOptions = {}): { activities: TesseraActivities; state: FakeState } {
  const state: FakeState = {
    calls: new Map(),
    successes: new Map(),
    cancelled: [],
    events: [],
    running: 0,
    maxRunning: 0,
    starts: [],
    ends: [],
    alerts: [],
    barrier: new Map(),
    barrierChecks: 0,
    published: [],
    backfills: [],
    planRequests: [],
    freshnessChecks: [],
  };
  const bump = (m: Map<string, number>, k: string): number => {
    const n = (m.get(k) ?? 0) + 1;
    m.set(k, n);
    return n;
  };
  const activities: TesseraActivities = {
    async materializeStep({ step }): Promise<StepResult> {
      state.starts.push(performance.now());
      const attempt = bump(state.calls, step.id);
      state.events.push(`start:${step.id}`);
      state.running++;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      try {
        const delay = typeof opts.delayMs === 'function' ? opts.delayMs(step) : (opts.delayMs ?? 20);
        if (delay > 0) await work(delay);
        const failure = opts.failures?.[step.id];
        if (failure?.kind === 'sql')
          throw ApplicationFailure.nonRetryable('relation does not exist', 'SqlError');
        if (failure?.kind === 'flaky' && attempt <= failure.times)
          throw new Error(`flaky attempt ${attempt}`);
        const check = { name: 'unique_id', blocking: true, passed: failure?.kind !== 'check' };
        bump(state.successes, step.id);
        return {
          stepId: step.id,
          status: check.passed ? 'success' : 'failed',
          rowCount: 10,
          dataVersion: `v-${step.id}`,
          checks: [check],
        };
      } catch (err) {
        if (err instanceof CancelledFailure) state.cancelled.push(step.id);
        throw err;
      } finally {
        state.running--;
        state.events.push(`end:${step.id}`);
        state.ends.push(performance.now());
      }
    },
    async planRun(request): Promise<Plan> {
      state.planRequests.push(request);
      const plan = opts.plans?.[request.selection];
      if (!plan) throw ApplicationFailure.nonRetryable(`no plan for ${request.selection}`, 'ValidationError');
      const keys = request.partitionKeys ? new Set(request.partitionKeys) : undefined;
      const steps = plan.steps
        .filter((s) => !keys || keys.has(s.partitionKey))
        .map((s) => (request.force ? { ...s, reason: 'forced' as const } : s));
      return { ...plan, steps };
    },
    async sendAlert(alert) {
      state.alerts.push(alert);
    },
    async alertRoutes() {
      return ['fake'];
    },
    async deliverAlert({ alert }) {
      state.alerts.push(alert);
    },
    async barrierStatus({ group, partitionKey }) {
      state.barrierChecks++;
      return state.barrier.get(`${group}@${partitionKey}`) ?? { ready: false, waitingOn: ['not configured'] };
    },
    async publishGroup(input) {
      state.published.push(input);
      return { version: `${input.group}-${input.partitionKey}-${state.published.length}` };
    },
    async recordBackfill(progress) {
      state.backfills.push(progress);
    },
    async tickRequest({ asOf }) {
      if (!opts.tick) throw ApplicationFailure.nonRetryable('no tick configured', 'ValidationError');
      return opts.tick(asOf);
    },
    async freshnessBreaches(input) {
      state.freshnessChecks.push(input);
      return opts.freshness?.(input) ?? [];
    },
  };
  return { activities, state };
}

export { eventually } from '../helpers/eventually.js';

/**
 * Activities for one long-lived worker whose behaviour each test replaces: `use(options)` installs fresh fakes
 * and returns their state.
 */
export function switchableFakes(): { activities: TesseraActivities; use(options: FakeOptions): FakeState } {
  let current = createFakes();
  const names = Object.keys(current.activities) as (keyof TesseraActivities)[];
  const activities = Object.fromEntries(
    names.map((name) => [
      name,
      (...args: unknown[]): unknown => (current.activities[name] as (...a: unknown[]) => unknown)(...args),
    ]),
  ) as unknown as TesseraActivities;
  return {
    activities,
    use(options) {
      current = createFakes(options);
      return current.state;
    },
  };
}
