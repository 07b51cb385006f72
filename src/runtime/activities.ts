/** Activities the runtime implements itself (they need a Temporal client, not an engine or the ledger). */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { STEP_FAILED_ERROR_TYPE } from '../activities/types.js';
import type { AwaitStepInput, AwaitStepOutcome, RuntimeActivities, StepResult } from '../activities/types.js';

const isStepResult = (v: unknown): v is StepResult =>
  typeof v === 'object' && v !== null && 'stepId' in v && 'status' in v;

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
        if (!isStepResult(result))
          return { outcome: 'gone', reason: `${workflowId} returned no step result` };
        return { outcome: 'completed', result };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { outcome: 'gone', reason: 'not found' };
        if (err instanceof WorkflowFailedError) {
          const cause = err.cause;
          const detail: unknown = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
          if (
            cause instanceof ApplicationFailure &&
            cause.type === STEP_FAILED_ERROR_TYPE &&
            isStepResult(detail)
          ) {
            return { outcome: 'completed', result: detail };
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
