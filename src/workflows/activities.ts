/** Activity proxies with their timeouts and retry policies. Workflow code; activities imported as types only. */
import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../activities/types.js';
import type { Activities } from '../activities/types.js';
import type { StepOptions } from './types.js';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** materializeStep: long, heartbeating, retried with backoff; cancellation waits for the engine to stop. */
export function stepActivities(opts: StepOptions = {}): Pick<Activities, 'materializeStep'> {
  return proxyActivities<Activities>({
    startToCloseTimeout: opts.startToCloseTimeout ?? '2h',
    heartbeatTimeout: opts.heartbeatTimeout ?? '1m',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: opts.initialInterval ?? '5s',
      backoffCoefficient: 2,
      maximumInterval: opts.maximumInterval ?? '2m',
      maximumAttempts: opts.maximumAttempts ?? 4,
      nonRetryableErrorTypes,
    },
  });
}

/**
 * materializeStep as a local activity (mode `local`): runs in the worker that runs the workflow, no task queue
 * round trip, no heartbeats. For short steps only: a local activity holds the workflow task open while it runs.
 */
export function localStepActivities(opts: StepOptions = {}): Pick<Activities, 'materializeStep'> {
  return proxyLocalActivities<Activities>({
    startToCloseTimeout: opts.startToCloseTimeout ?? '10m',
    localRetryThreshold: '10s',
    retry: {
      initialInterval: opts.initialInterval ?? '5s',
      backoffCoefficient: 2,
      maximumInterval: opts.maximumInterval ?? '2m',
      maximumAttempts: opts.maximumAttempts ?? 4,
      nonRetryableErrorTypes,
    },
  });
}

/** Short control-plane calls (planner, ledger, alerts, barrier): quick timeouts, generous retries. */
export const control = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 10,
    nonRetryableErrorTypes,
  },
});

/** The optional control-plane activities a workflow needs (fakes may leave them out when a test never calls them). */
export const planning = proxyActivities<Pick<Required<Activities>, 'planBackfillWindows'>>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
});

/** publishGroup flips tables: a few attempts only, each idempotent. */
export const publishing = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes },
});

/** awaitStepWorkflow: waits as long as a step may run; heartbeats every few seconds. */
export const waiting = proxyActivities<Activities>({
  startToCloseTimeout: '12h',
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});

/**
 * deliverAlert: one route of one alert, in alertWorkflow (off the data path). Backs off to 10 minutes between
 * attempts, for about a day, so an outage of the receiving end loses nothing; 4xx answers are not retried.
 */
export const delivering = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    maximumAttempts: 150,
    nonRetryableErrorTypes,
  },
});
