/**
 * One step = one partition of one asset. `stepWorkflow` is the child workflow with the predictable id
 * `tessera/step/<taskQueue>/<asset>/<partition>`: Temporal runs at most one workflow per id, so two triggers of
 * one deployment never build the same partition at once; a trigger that finds the step running awaits that run
 * and takes its result. An execution timeout bounds how long an orphan (its worker gone) can hold the id.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  ParentClosePolicy,
  TemporalFailure,
  TimeoutFailure,
  WorkflowIdReusePolicy,
  executeChild,
  isCancellation,
  log,
  patched,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { STEP_FAILED_ERROR_TYPE } from '../activities/types.js';
import type { AlertKind, StepResult } from '../activities/types.js';
import type { PlanStep } from '../planner/types.js';
import { alertWorkflowId, stepWorkflowId, unscopedStepWorkflowId } from '../runtime/ids.js';
import {
  ASSET_KEY,
  PARTITION_KEY,
  PARTITION_KEYS,
  RUN_KIND,
  partitionSearchKeys,
} from '../runtime/search-attributes.js';
import { workflowUrl } from '../runtime/ui.js';
import { control, localStepActivities, stepActivities, waiting } from './activities.js';
import { alertWorkflow } from './alert.js';
import { materializeUnderLease } from './lease.js';
import type { StepWorkflowInput } from './types.js';

/** A readable one-liner for a failure: `SqlError: column x does not exist`, `timeout (HEARTBEAT)`. */
export function describeError(err: unknown): string {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return e.type ? `${e.type}: ${e.message}` : e.message;
  if (e instanceof TimeoutFailure) return `timeout (${e.timeoutType ?? 'unknown'})`;
  if (e instanceof TemporalFailure || e instanceof Error) return e.message;
  return String(e);
}

export const failedResult = (stepId: string, error: string): StepResult => ({
  stepId,
  status: 'failed',
  rowCount: 0,
  dataVersion: '',
  checks: [],
  error,
});

/** Marks runs whose alerts are their own workflows (older histories deliver them inline via sendAlert). */
export const ALERT_WORKFLOW_PATCH = 'tessera-alert-workflow';

/**
 * Raises one alert: starts its alertWorkflow (abandoned child, id once per alert per run) and returns as soon
 * as it started, so delivery, retries of a broken route included, never delay the run. A failure to start it
 * is logged, never fails the run.
 */
export async function alert(
  kind: AlertKind,
  fields: { assetKey?: string; partitionKey?: string; group?: string; error: string; runId: string },
  uiBaseUrl: string | undefined,
): Promise<void> {
  const info = workflowInfo();
  const runUrl = workflowUrl(info.workflowId, {
    baseUrl: uiBaseUrl,
    namespace: info.namespace,
    runId: info.runId,
  });
  const payload = { kind, ...fields, workflowId: info.workflowId, runUrl };
  try {
    if (!patched(ALERT_WORKFLOW_PATCH)) {
      await control.sendAlert(payload);
      return;
    }
    const subject = fields.assetKey ?? `group:${fields.group ?? ''}`;
    await startChild(alertWorkflow, {
      workflowId: alertWorkflowId(info.taskQueue, kind, subject, fields.partitionKey ?? '', fields.runId),
      args: [{ alert: payload }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        ...(fields.assetKey ? [{ key: ASSET_KEY, value: fields.assetKey }] : []),
        { key: PARTITION_KEY, value: fields.partitionKey ?? '' },
        { key: RUN_KIND, value: 'alert' },
      ],
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // Raised already for this run (an awaited step, a replayed task): once is the point.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    log.warn('alert not raised', { kind, error: describeError(err) });
  }
}

/**
 * Materializes a step in the current workflow (activity + alert). Used by stepWorkflow and by runs in
 * `activity` and `local` mode, where the step's lease (src/workflows/lease.ts) is what keeps a second run from
 * building it at the same time. A cancellation of the current scope propagates; any other error becomes a failed
 * result.
 */
export async function executeStep(input: StepWorkflowInput): Promise<StepResult> {
  const { step, runId } = input;
  let result: StepResult;
  let kind: AlertKind = 'check_failed';
  try {
    const activities = input.local
      ? localStepActivities(input.stepOptions)
      : stepActivities(input.stepOptions);
    // Another run holding the step's lease is waited for and its result taken (it alerted, if it failed).
    const run = await materializeUnderLease(step.id, () =>
      activities.materializeStep({ runId, step, force: input.force }),
    );
    if (run.attached) return run.result;
    result = run.result;
  } catch (err) {
    if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
    result = failedResult(step.id, describeError(err));
    kind = 'asset_failed';
  }
  if (result.status === 'failed') {
    const failedChecks = result.checks.filter((c) => c.blocking && !c.passed).map((c) => c.name);
    const error = result.error ?? `blocking checks failed: ${failedChecks.join(', ')}`;
    result = { ...result, error };
    await alert(
      kind,
      { assetKey: step.assetKey, partitionKey: step.partitionKey, error, runId },
      input.uiBaseUrl,
    );
  }
  return result;
}

/** The child workflow per step. Fails (status Failed in the UI) when the step fails; the StepResult is the detail. */
export async function stepWorkflow(input: StepWorkflowInput): Promise<StepResult> {
  const result = await executeStep(input);
  if (result.status === 'failed') {
    throw ApplicationFailure.create({
      type: STEP_FAILED_ERROR_TYPE,
      message: `${input.step.id} failed: ${result.error ?? 'unknown error'}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

function stepResultOf(err: ChildWorkflowFailure): StepResult | undefined {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === STEP_FAILED_ERROR_TYPE) {
    const detail: unknown = cause.details?.[0];
    if (detail && typeof detail === 'object' && 'stepId' in detail) return detail as StepResult;
  }
  return undefined;
}

export interface StepRun {
  readonly result: StepResult;
  /** True when another run was already building the step and its result was taken. */
  readonly attached: boolean;
}

const MAX_ATTACH_ROUNDS = 20;

/** Marks runs that use deployment-scoped step ids and step execution timeouts (older histories use neither). */
export const STEP_ID_SCOPE_PATCH = 'tessera-step-id-scope';

/**
 * Default step workflow execution timeout: longer than materializeStep's worst case (4 attempts of 2 h with
 * backoff), short enough that an orphan on a dead task queue frees its id within a day.
 */
export const DEFAULT_STEP_WORKFLOW_TIMEOUT: Duration = '12h';

/** The step's workflow id (and timeout) for this run: scoped by the run's task queue (the deployment). */
function stepChildId(step: PlanStep, input: Omit<StepWorkflowInput, 'step'>) {
  if (!patched(STEP_ID_SCOPE_PATCH)) {
    return { workflowId: unscopedStepWorkflowId(step.assetKey, step.partitionKey) };
  }
  return {
    workflowId: stepWorkflowId(step.assetKey, step.partitionKey, workflowInfo().taskQueue),
    workflowExecutionTimeout: input.stepOptions?.workflowTimeout ?? DEFAULT_STEP_WORKFLOW_TIMEOUT,
  };
}

/** Runs a step as the child workflow `tessera/step/<scope>/<asset>/<partition>`, or awaits the run building it. */
export async function runStepAsChild(
  step: PlanStep,
  input: Omit<StepWorkflowInput, 'step'>,
): Promise<StepRun> {
  const ids = stepChildId(step, input);
  const workflowId = ids.workflowId;
  for (let round = 0; ; round++) {
    try {
      const result = await executeChild(stepWorkflow, {
        ...ids,
        args: [{ ...input, step }],
        typedSearchAttributes: [
          { key: ASSET_KEY, value: step.assetKey },
          { key: PARTITION_KEY, value: step.partitionKey },
          { key: PARTITION_KEYS, value: partitionSearchKeys([step.partitionKey]) },
          { key: RUN_KIND, value: 'step' },
        ],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      return { result, attached: false };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        if (round >= MAX_ATTACH_ROUNDS) {
          return { result: failedResult(step.id, `gave up waiting for ${workflowId}`), attached: true };
        }
        const outcome = await waiting.awaitStepWorkflow({ workflowId });
        if (outcome.outcome === 'completed') return { result: outcome.result, attached: true };
        log.info('awaited step run ended without an outcome; starting our own', {
          workflowId,
          reason: outcome.outcome === 'gone' ? outcome.reason : 'a batch, not this step',
        });
        continue;
      }
      if (CancellationScope.current().consideredCancelled) throw err;
      if (err instanceof ChildWorkflowFailure) {
        return { result: stepResultOf(err) ?? failedResult(step.id, describeError(err)), attached: false };
      }
      throw err;
    }
  }
}
