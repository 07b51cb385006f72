/**
 * Step leases, the shapes workflows see (pure: imported by workflow code). A lease row in the ledger database,
 * keyed like a step workflow id (`<scope>/<asset>/<partition>`), says which run is building the step and until when
 * its claim holds. materializeStep claims it before building and releases it with its result after; a run that
 * finds it held by another live run gets a `StepLeaseBusy` failure, waits for the row (awaitStepLease) and takes
 * the holder's result: the exclusivity of `child` mode without a workflow per step.
 */
import type { StepResult } from '../activities/types.js';

/** ApplicationFailure type (non-retryable) of a materializeStep refused because another run holds the lease. */
export const STEP_LEASE_BUSY_ERROR_TYPE = 'StepLeaseBusy';

/** The detail of a `StepLeaseBusy` failure: whom to wait for. */
export interface StepLeaseBusy {
  readonly key: string;
  /** The run holding the lease. */
  readonly holder: string;
  /** When the holder's claim lapses unless renewed (ISO). */
  readonly expiresAt: string;
}

export interface AwaitStepLeaseInput {
  readonly key: string;
  /** The holder the caller was refused by (for logs). */
  readonly holder: string;
}

/**
 * - `released`: the holder finished; `result` is what its step returned (absent when it ended without one: its
 *   attempt threw or was cancelled, so the step is still to build);
 * - `expired`: the holder stopped renewing (its worker died): the lease is free to take over;
 * - `gone`: no lease row (nothing to wait for).
 */
export type AwaitStepLeaseOutcome =
  | { readonly outcome: 'released'; readonly by: string; readonly result?: StepResult }
  | { readonly outcome: 'expired'; readonly holder: string }
  | { readonly outcome: 'gone' };

export interface LeaseActivities {
  /** Waits until the step's lease is released or expires; heartbeats while waiting. */
  awaitStepLease(input: AwaitStepLeaseInput): Promise<AwaitStepLeaseOutcome>;
}

/** The lease key of a step: the step workflow id's scope, asset and partition (`<scope>/<asset>/<partition>`). */
export const stepLeaseKey = (scope: string, assetKey: string, partitionKey: string): string =>
  `${scope}/${assetKey}/${partitionKey}`;

export const isStepLeaseBusy = (v: unknown): v is StepLeaseBusy =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { key?: unknown }).key === 'string' &&
  typeof (v as { holder?: unknown }).holder === 'string';
