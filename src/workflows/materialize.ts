/** materializeWorkflow: run one plan (given, or planned from a request) with bounded concurrency. */
import { ApplicationFailure, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Plan, PlanStep } from '../planner/types.js';
import { ASSET_KEYS, RUN_KIND } from '../runtime/search-attributes.js';
import type { RunKind } from '../runtime/search-attributes.js';
import { control } from './activities.js';
import { runBatchAsChild } from './batch.js';
import { Dag } from './dag.js';
import type { DagHooks } from './dag.js';
import { executeStep, runStepAsChild } from './step.js';
import { progressQuery } from './types.js';
import type { MaterializeInput, MaterializeSummary, Progress, RunOptions, StepOutcome } from './types.js';

export const DEFAULT_CONCURRENCY = 4;
/**
 * The server rejects a search attribute value over 2 KB (and terminates the workflow task that set it): a run
 * over more assets than fit lists the first ones, in key order.
 */
const MAX_ASSET_KEYS_BYTES = 1_800;

export const EMPTY_PROGRESS: Progress = {
  total: 0,
  done: 0,
  failed: 0,
  skipped: 0,
  running: 0,
  pending: 0,
  runningSteps: [],
};

/**
 * How a run executes steps, per its mode. In `child` mode the steps of one batch (planner's `batch`: e.g. the
 * hours of a day) run in one step batch workflow; the other modes run every step alone.
 */
export function stepRunner(runId: string, opts: RunOptions): Pick<DagHooks, 'runStep' | 'runBatch'> {
  const base = {
    runId,
    force: opts.force ?? false,
    stepOptions: opts.stepOptions,
    uiBaseUrl: opts.uiBaseUrl,
  };
  if (opts.mode === 'activity') return { runStep: (step) => executeStep({ ...base, step }) };
  if (opts.mode === 'local') return { runStep: (step) => executeStep({ ...base, step, local: true }) };
  return {
    runStep: async (step) => (await runStepAsChild(step, base)).result,
    runBatch: (steps) => runBatchAsChild(steps, { ...base, concurrency: opts.concurrency }),
  };
}

/** Tags the current run with the assets it touches (searchable as `AssetKeys = "..."`). */
export function tagRun(kind: RunKind, steps: readonly PlanStep[]): void {
  const keys: string[] = [];
  let bytes = 2;
  for (const key of [...new Set(steps.map((s) => s.assetKey))].sort()) {
    bytes += key.length + 3; // quotes and comma of the JSON list; keys are ASCII in practice
    if (bytes > MAX_ASSET_KEYS_BYTES) break;
    keys.push(key);
  }
  upsertSearchAttributes([
    { key: ASSET_KEYS, value: keys },
    { key: RUN_KIND, value: kind },
  ]);
}

export function concurrencyOf(opts: RunOptions): number {
  const n = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(n) || n < 1) {
    throw ApplicationFailure.nonRetryable(
      `concurrency must be a positive integer, got ${n}`,
      'ValidationError',
    );
  }
  return n;
}

/** Runs a plan to the end in the current workflow; `onDag` exposes the executor for progress queries. */
export async function runPlan(
  plan: Plan,
  runId: string,
  opts: RunOptions,
  onDag: (dag: Dag) => void,
): Promise<MaterializeSummary> {
  const dag = new Dag(plan.steps, concurrencyOf(opts));
  onDag(dag);
  const outcomes = new Map<string, StepOutcome>();
  await dag.run({ ...stepRunner(runId, opts), onOutcome: (o) => outcomes.set(o.stepId, o) });
  const steps = plan.steps.map((s) => outcomes.get(s.id)).filter((o): o is StepOutcome => o !== undefined);
  return {
    runId,
    status: dag.failed > 0 ? 'failed' : 'success',
    total: dag.total,
    succeeded: dag.done,
    failed: dag.failed,
    skipped: dag.skipped,
    skippedFresh: plan.skippedFresh,
    steps,
  };
}

export async function planOf(input: MaterializeInput): Promise<Plan> {
  if (input.plan) return input.plan;
  if (input.request) {
    return control.planRun({ ...input.request, force: input.force ?? input.request.force ?? false });
  }
  throw ApplicationFailure.nonRetryable('materializeWorkflow needs a plan or a request', 'ValidationError');
}

/**
 * Materializes a plan. Failed steps alert once each (from the step) and skip their downstream; the run
 * completes with status 'failed' in the summary rather than failing, so its result is always readable.
 */
export async function materializeWorkflow(input: MaterializeInput): Promise<MaterializeSummary> {
  let dag: Dag | undefined;
  setHandler(progressQuery, () => dag?.progress() ?? EMPTY_PROGRESS);
  const plan = await planOf(input);
  tagRun('materialize', plan.steps);
  return runPlan(plan, workflowInfo().workflowId, input, (d) => (dag = d));
}
