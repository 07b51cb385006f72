/** Activities the runtime implements itself (they need a Temporal client, not an engine or the ledger). */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { STEP_FAILED_ERROR_TYPE } from '../activities/types.js';
import type { AwaitStepInput, AwaitStepOutcome, RuntimeActivities, StepResult } from '../activities/types.js';

const isStepResult = (v: unknown): v is StepResult =>
  typeof v === 'object' && v !== null && 'stepId' in v && 'status' in v;

/** A step workflow returns (or fails with) one StepResult, a step batch workflow a list of them. */
const outcomeOf = (v: unknown): AwaitStepOutcome | undefined => {
  if (isStepResult(v)) return { outcome: 'completed', result: v };
  if (Array.isArray(v) && v.every(isStepResult)) return { outcome: 'completed_batch', results: v };
  return undefined;
};

/** `client` defaults to the worker's own (Context.current().client). */
export function createRuntimeActivities(
  deps: { client?: Client; heartbeatMs?: number } = {},
): RuntimeActivities {
  const heartbeatMs = deps.heartbeatMs ?? 5_000;
  return {
    async awaitStepWorkflow({ workflowId }: AwaitStepInput): Promise<AwaitStepOutcome> {
      const ctx = Context.current();
      const timer = setInterval(() => ctx.heartbeat(), heartbeatMs);
      try {
        const result: unknown = await Promise.race([
          (deps.client ?? ctx.client).workflow.getHandle(workflowId).result(),
          ctx.cancelled,
        ]);
        return outcomeOf(result) ?? { outcome: 'gone', reason: `${workflowId} returned no step result` };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { outcome: 'gone', reason: 'not found' };
        if (err instanceof WorkflowFailedError) {
          const cause = err.cause;
          const detail: unknown = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
          const outcome = outcomeOf(detail);
          if (cause instanceof ApplicationFailure && cause.type === STEP_FAILED_ERROR_TYPE && outcome) {
            return outcome;
          }
          return { outcome: 'gone', reason: err.message };
        }
        throw err;
      } finally {
        clearInterval(timer);
      }
    },
  };
}
