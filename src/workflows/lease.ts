/**
 * Step leases, the workflow side (see src/activities/lease.ts). materializeStep refuses a step whose lease another
 * live run holds (`StepLeaseBusy`); the run then waits on the lease (awaitStepLease, a heartbeating activity) and
 * takes the holder's result, as a `child` run attaches to a running step workflow. A holder that ended without a
 * result (its attempt failed) or whose lease expired (its worker died) leaves the step to build: claim again.
 *
 * Replay: a step that was never refused issues exactly the commands it did before leases (one materializeStep);
 * only a refusal, which older activity code never returned, adds the wait.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyActivities,
} from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../activities/types.js';
import type { StepResult } from '../activities/types.js';
import { STEP_LEASE_BUSY_ERROR_TYPE, isStepLeaseBusy } from '../runtime/lease-types.js';
import type { LeaseActivities, StepLeaseBusy } from '../runtime/lease-types.js';

/** awaitStepLease: waits as long as a step may run; heartbeats while it reads the lease. */
const leaseWaiting = proxyActivities<LeaseActivities>({
  startToCloseTimeout: '12h',
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: {
    initialInterval: '1s',
    maximumInterval: '10s',
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** The holder a materializeStep failure names when it was refused for a held lease. */
export function leaseBusyOf(err: unknown): StepLeaseBusy | undefined {
  // A remote activity's failure wraps the ApplicationFailure in an ActivityFailure; look through it.
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || cause.type !== STEP_LEASE_BUSY_ERROR_TYPE) return undefined;
  const detail: unknown = cause.details?.[0];
  return isStepLeaseBusy(detail) ? detail : undefined;
}

const MAX_LEASE_ROUNDS = 20;

export interface LeasedRun {
  readonly result: StepResult;
  /** True when another run held the step and its result was taken (that run raised any alert). */
  readonly attached: boolean;
}

/**
 * Runs `materialize` (one materializeStep call); while it is refused for a held lease, waits for the lease and
 * takes the holder's result, or tries again when the holder left none. Other failures propagate unchanged.
 */
export async function materializeUnderLease(
  stepId: string,
  materialize: () => Promise<StepResult>,
): Promise<LeasedRun> {
  for (let round = 0; ; round++) {
    let busy: StepLeaseBusy | undefined;
    try {
      return { result: await materialize(), attached: false };
    } catch (err) {
      busy = leaseBusyOf(err);
      if (!busy || round >= MAX_LEASE_ROUNDS) throw err;
    }
    const outcome = await leaseWaiting.awaitStepLease({ key: busy.key, holder: busy.holder });
    if (outcome.outcome === 'released' && outcome.result) {
      return { result: outcome.result, attached: true };
    }
    log.info('step lease freed without a result; claiming it', {
      stepId,
      holder: busy.holder,
      outcome: outcome.outcome,
    });
  }
}
