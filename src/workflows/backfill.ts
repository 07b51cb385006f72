/**
 * backfillWorkflow: many partitions with bounded concurrency (a sliding window over the plan's DAG), progress
 * in the ledger, continue-as-new carrying the steps not yet run, cancellation that cancels the steps in flight.
 * Resumable by construction: a crashed worker's run is replayed by the next worker; steps are child workflows
 * with predictable ids, so a step that a schedule is building at the same time is awaited, not duplicated.
 */
import {
  CancellationScope,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BackfillProgress } from '../activities/types.js';
import type { PartitionRange } from '../dsl/partitions/types.js';
import type { PlanStep } from '../planner/types.js';
import { filterPlan, splitRange } from '../planner/windows.js';
import { control, planning } from './activities.js';
import { Dag } from './dag.js';
import { EMPTY_PROGRESS, concurrencyOf, stepRunner, tagRun } from './materialize.js';
import { backfillProgressQuery } from './types.js';
import type {
  BackfillCarry,
  BackfillInput,
  BackfillProgressView,
  BackfillSummary,
  StepOutcome,
} from './types.js';

export const DEFAULT_STEPS_PER_RUN = 500;
const DEFAULT_PROGRESS_EVERY = 25;
const MAX_LISTED_FAILURES = 200;

/** Plans of ranges longer than this many days are planned and run one window at a time (splitRange). */
export const DEFAULT_WINDOW_DAYS = 14;
/** Backfills recorded before windows planned the whole range at once; replays of them still do. */
const WINDOWS_PATCH = 'tessera-backfill-windows';

/** One window's steps, planned against the ledger as it stands when the window starts. */
async function planWindow(
  input: BackfillInput,
  range: PartitionRange | undefined,
): Promise<{ steps: PlanStep[]; skippedFresh: number }> {
  const plan = await control.planRun({
    ...input.request,
    ...(range ? { range } : {}),
    force: input.only === 'all',
  });
  const steps = filterPlan(plan, input.only);
  tagRun('backfill', steps);
  return { steps, skippedFresh: plan.skippedFresh + plan.steps.length - steps.length };
}

async function firstCarry(input: BackfillInput): Promise<BackfillCarry> {
  const base = {
    done: 0,
    failed: 0,
    skipped: 0,
    failedSteps: [],
    createdAt: workflowInfo().startTime.toISOString(),
    runs: 1,
  };
  const range = input.request.range;
  const windowDays = input.windowDays ?? DEFAULT_WINDOW_DAYS;
  const windows = range ? splitRange(range, windowDays) : [];
  if (windows.length > 1 && patched(WINDOWS_PATCH)) {
    const counts = await planning.planBackfillWindows({
      request: input.request,
      only: input.only,
      windowDays,
    });
    const [first, ...rest] = windows;
    const w = await planWindow(input, first);
    const estimates = counts.windows.slice(1).map((c) => c.steps);
    return {
      ...base,
      remaining: w.steps,
      total: w.steps.length + estimates.reduce((a, b) => a + b, 0),
      skippedFresh: w.skippedFresh,
      windows: rest,
      estimates,
    };
  }
  const w = await planWindow(input, undefined);
  return { ...base, remaining: w.steps, total: w.steps.length, skippedFresh: w.skippedFresh };
}

/** The next window of a windowed backfill, planned now; the total trades its estimate for the real count. */
async function nextWindow(input: BackfillInput, carry: BackfillCarry): Promise<BackfillCarry> {
  const [range, ...rest] = carry.windows ?? [];
  const [estimate = 0, ...estimates] = carry.estimates ?? [];
  const w = await planWindow(input, range);
  return {
    ...carry,
    remaining: w.steps,
    total: carry.total - estimate + w.steps.length,
    skippedFresh: carry.skippedFresh + w.skippedFresh,
    windows: rest,
    estimates,
  };
}

export async function backfillWorkflow(input: BackfillInput): Promise<BackfillSummary> {
  const concurrency = concurrencyOf(input);
  const stepsPerRun = input.stepsPerRun ?? DEFAULT_STEPS_PER_RUN;
  const progressEvery = input.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  let phase: BackfillProgressView['phase'] = 'planning';
  let carry: BackfillCarry | undefined = input.carried;
  let dag: Dag | undefined;

  const counts = (): { done: number; failed: number; skipped: number } => ({
    done: (carry?.done ?? 0) + (dag?.done ?? 0),
    failed: (carry?.failed ?? 0) + (dag?.failed ?? 0),
    skipped: (carry?.skipped ?? 0) + (dag?.skipped ?? 0),
  });
  setHandler(backfillProgressQuery, (): BackfillProgressView => {
    const p = dag?.progress() ?? EMPTY_PROGRESS;
    const c = counts();
    const total = carry?.total ?? 0;
    return {
      ...p,
      ...c,
      total,
      pending: total - c.done - c.failed - c.skipped - p.running,
      backfillId: input.backfillId,
      runs: carry?.runs ?? 1,
      phase,
    };
  });

  // Ledger writes in the background are chained so they land in order and never fail the backfill.
  let recorded: Promise<void> = Promise.resolve();
  const progressOf = (status: BackfillProgress['status']): BackfillProgress | undefined => {
    if (!carry) return undefined;
    const range = input.request.range;
    const keys = input.request.partitionKeys ?? [];
    return {
      backfillId: input.backfillId,
      selection: input.request.selection,
      from: range?.from ?? keys[0] ?? '',
      to: range?.to ?? keys[keys.length - 1] ?? '',
      status,
      total: carry.total,
      ...counts(),
      createdAt: carry.createdAt,
    };
  };
  const recordInBackground = (status: BackfillProgress['status']): void => {
    const progress = progressOf(status);
    if (!progress) return;
    recorded = recorded
      .then(() => control.recordBackfill(progress))
      .catch((err: unknown) => log.warn('backfill progress not recorded', { error: String(err) }));
  };
  const recordNow = async (status: BackfillProgress['status']): Promise<void> => {
    const progress = progressOf(status);
    await recorded;
    if (progress) await control.recordBackfill(progress);
  };

  const failedSteps: StepOutcome[] = [...(carry?.failedSteps ?? [])];
  try {
    carry ??= await firstCarry(input);
    if (carry.remaining.length === 0 && (carry.windows?.length ?? 0) > 0)
      carry = await nextWindow(input, carry);
    const current = carry;
    phase = 'running';
    recordInBackground('running');
    dag = new Dag(current.remaining, concurrency);
    let finished = 0;
    const result = await dag.run({
      ...stepRunner(workflowInfo().workflowId, { ...input, force: input.only === 'all' }),
      onOutcome: (o) => {
        finished++;
        if (o.status !== 'success' && failedSteps.length < MAX_LISTED_FAILURES) failedSteps.push(o);
        if (finished % progressEvery === 0) recordInBackground('running');
      },
      shouldPause: () => {
        const pause = finished >= stepsPerRun || workflowInfo().continueAsNewSuggested;
        if (pause) phase = 'draining';
        return pause;
      },
    });
    if (result.paused) {
      await recordNow('running');
      const next: BackfillCarry = {
        ...current,
        ...counts(),
        remaining: result.remaining,
        failedSteps,
        runs: current.runs + 1,
      };
      return await continueAsNew<typeof backfillWorkflow>({ ...input, carried: next });
    }
    if ((current.windows?.length ?? 0) > 0) {
      // The window is done: the next one is planned by the next run, against the ledger this one left.
      await recordNow('running');
      const next: BackfillCarry = {
        ...current,
        ...counts(),
        remaining: [],
        failedSteps,
        runs: current.runs + 1,
      };
      return await continueAsNew<typeof backfillWorkflow>({ ...input, carried: next });
    }
    phase = 'done';
    const c = counts();
    await recordNow(c.failed > 0 ? 'failed' : 'completed');
    return {
      backfillId: input.backfillId,
      status: c.failed > 0 ? 'failed' : 'completed',
      total: current.total,
      ...c,
      skippedFresh: current.skippedFresh,
      failedSteps,
      runs: current.runs,
    };
  } catch (err) {
    if (isCancellation(err)) {
      phase = 'done';
      await CancellationScope.nonCancellable(() => recordNow('cancelled'));
    }
    throw err;
  }
}
