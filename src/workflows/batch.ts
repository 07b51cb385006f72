/**
 * Step batches: the steps of one asset that share a `batch` key (the hours of one day of an hourly asset, the
 * slices of one day of a multi-partitioned one; set by the planner) run in one child workflow with the id
 * `tessera/step/<scope>/<asset>/<batch>`. The batch id is the lock of every partition in it: each trigger derives
 * the same batch from the same definitions, so two triggers still never build one partition at once, and a
 * trigger that finds the batch running awaits it and takes the results of its own steps (building the others
 * after). One workflow instead of 24 cuts Temporal's per-step cost; its steps stay visible as activities and
 * through the `progress` query.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  executeChild,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { STEP_FAILED_ERROR_TYPE } from '../activities/types.js';
import type { StepResult } from '../activities/types.js';
import type { PlanStep } from '../planner/types.js';
import { stepWorkflowId } from '../runtime/ids.js';
import {
  ASSET_KEY,
  PARTITION_KEY,
  PARTITION_KEYS,
  RUN_KIND,
  partitionSearchKeys,
} from '../runtime/search-attributes.js';
import { waiting } from './activities.js';
import { Dag } from './dag.js';
import { DEFAULT_STEP_WORKFLOW_TIMEOUT, describeError, executeStep, failedResult } from './step.js';
import { progressQuery } from './types.js';
import type { StepWorkflowInput } from './types.js';

export interface StepBatchInput extends Omit<StepWorkflowInput, 'step' | 'local'> {
  /** Steps of one asset with one batch key, in plan order. */
  readonly steps: readonly PlanStep[];
  /** Steps of the batch in flight at once (default 4). */
  readonly concurrency?: number;
}

/** Runs the batch's steps (in their dependency order); fails, with the results as detail, when one failed. */
export async function stepBatchWorkflow(input: StepBatchInput): Promise<StepResult[]> {
  // The batch is its lane's only unit in flight: its own steps may overlap (the worker serializes what must be).
  const dag = new Dag(
    input.steps.map(({ lane: _lane, ...step }) => step),
    input.concurrency ?? 4,
  );
  setHandler(progressQuery, () => dag.progress());
  const results: StepResult[] = [];
  const { steps: _steps, concurrency: _concurrency, ...common } = input;
  await dag.run({
    runStep: async (step) => {
      const result = await executeStep({ ...common, step });
      results.push(result);
      return result;
    },
  });
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: STEP_FAILED_ERROR_TYPE,
      message: `${failed.length} of ${input.steps.length} steps failed: ${failed
        .slice(0, 3)
        .map((r) => `${r.stepId} (${r.error ?? 'unknown error'})`)
        .join('; ')}`,
      nonRetryable: true,
      details: [results],
    });
  }
  return results;
}

function resultsOf(err: ChildWorkflowFailure): readonly StepResult[] | undefined {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === STEP_FAILED_ERROR_TYPE) {
    const detail: unknown = cause.details?.[0];
    if (Array.isArray(detail)) return detail as StepResult[];
  }
  return undefined;
}

const MAX_ROUNDS = 20;

/**
 * Runs a batch as its child workflow, or awaits the run already holding the batch id and takes the results of
 * our steps from it; steps it did not build are started again (in our own batch) once it has finished.
 */
export async function runBatchAsChild(
  steps: readonly PlanStep[],
  input: Omit<StepBatchInput, 'steps'>,
): Promise<StepResult[]> {
  const first = steps[0]!;
  const workflowId = stepWorkflowId(
    first.assetKey,
    first.batch ?? first.partitionKey,
    workflowInfo().taskQueue,
  );
  const taken: StepResult[] = [];
  let todo = steps;
  for (let round = 0; todo.length > 0; round++) {
    try {
      taken.push(
        ...(await executeChild(stepBatchWorkflow, {
          workflowId,
          args: [{ ...input, steps: todo }],
          typedSearchAttributes: [
            { key: ASSET_KEY, value: first.assetKey },
            { key: PARTITION_KEY, value: first.batch ?? first.partitionKey },
            { key: PARTITION_KEYS, value: partitionSearchKeys(todo.map((s) => s.partitionKey)) },
            { key: RUN_KIND, value: 'step' },
          ],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          workflowExecutionTimeout: input.stepOptions?.workflowTimeout ?? DEFAULT_STEP_WORKFLOW_TIMEOUT,
        })),
      );
      return taken;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        if (round >= MAX_ROUNDS) {
          return [...taken, ...todo.map((s) => failedResult(s.id, `gave up waiting for ${workflowId}`))];
        }
        const outcome = await waiting.awaitStepWorkflow({ workflowId });
        const theirs =
          outcome.outcome === 'completed_batch'
            ? outcome.results
            : outcome.outcome === 'completed'
              ? [outcome.result]
              : [];
        const byId = new Map(theirs.map((r) => [r.stepId, r]));
        taken.push(...todo.flatMap((s) => byId.get(s.id) ?? []));
        todo = todo.filter((s) => !byId.has(s.id));
        if (todo.length > 0) log.info('building the batch steps the awaited run did not', { workflowId });
        continue;
      }
      if (CancellationScope.current().consideredCancelled) throw err;
      if (err instanceof ChildWorkflowFailure) {
        const results = resultsOf(err);
        if (results) return [...taken, ...results];
        return [...taken, ...todo.map((s) => failedResult(s.id, describeError(err)))];
      }
      throw err;
    }
  }
  return taken;
}
