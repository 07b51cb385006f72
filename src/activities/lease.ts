/**
 * Step leases, the activity side: `leasedMaterializeStep` claims a step's lease before materializing it, renews it
 * on a timer while the step runs (a local activity cannot heartbeat, so the lease is its liveness), and releases it
 * with the result; `awaitStepLease` is what a refused run waits on. The workflow side is src/workflows/lease.ts.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { heartbeat } from './heartbeat.js';
import type { StepLeaseStore } from './lease-store.js';
import {
  STEP_LEASE_BUSY_ERROR_TYPE,
  stepLeaseKey,
  type AwaitStepLeaseInput,
  type AwaitStepLeaseOutcome,
  type LeaseActivities,
  type StepLeaseBusy,
} from '../runtime/lease-types.js';
import type { MaterializeStepInput, StepResult } from './types.js';

export interface StepLeaseOptions {
  /** How long a claim holds without renewal: a dead worker's steps are taken over after this (default 60 s). */
  readonly ttlMs?: number;
  /** Renewal period (default a quarter of the TTL). */
  readonly renewMs?: number;
  /** First wait between reads of a held lease, growing to `maxPollMs` (defaults 100 ms and 2 s). */
  readonly pollMs?: number;
  readonly maxPollMs?: number;
  /** Clock (epoch ms); tests pin it. */
  readonly nowMs?: () => number;
}

export const DEFAULT_LEASE_TTL_MS = 60_000;

interface Resolved {
  readonly store: StepLeaseStore;
  readonly ttlMs: number;
  readonly renewMs: number;
  readonly pollMs: number;
  readonly maxPollMs: number;
  readonly nowMs: () => number;
  readonly logger?: Logger;
}

const resolve = (store: StepLeaseStore, opts: StepLeaseOptions, logger?: Logger): Resolved => {
  const ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  return {
    store,
    ttlMs,
    renewMs: opts.renewMs ?? Math.max(1, Math.floor(ttlMs / 4)),
    pollMs: opts.pollMs ?? 100,
    maxPollMs: opts.maxPollMs ?? 2_000,
    nowMs: opts.nowMs ?? Date.now,
    ...(logger ? { logger } : {}),
  };
};

/** The deployment scope of the running activity (its task queue, as in step workflow ids); '' outside one. */
function activityScope(): string {
  try {
    return Context.current().info.taskQueue;
  } catch {
    return '';
  }
}

/** What a leased step does when another live run holds its lease. */
export type WhenLeaseHeld =
  /** Fail the attempt at once, non-retryable, with `StepLeaseBusy`: the workflow waits and takes that run's result. */
  | 'refuse'
  /**
   * Wait for the lease inside the activity, then build: for a caller with no workflow to wait in, an ingest pass
   * restating a re-opened partition. It builds even when the holder left a result, since the restatement is for
   * content that changed after that build read it.
   */
  | 'wait';

/**
 * Wraps materializeStep: claim, build (renewing), release with the result. An attempt that throws releases
 * without a result, so whoever waits builds the step itself.
 */
export function leasedMaterializeStep(
  store: StepLeaseStore,
  opts: StepLeaseOptions,
  build: (input: MaterializeStepInput) => Promise<StepResult>,
  logger?: Logger,
  whenHeld: WhenLeaseHeld = 'refuse',
): (input: MaterializeStepInput) => Promise<StepResult> {
  const d = resolve(store, opts, logger);
  return async (input) => {
    const key = stepLeaseKey(activityScope(), input.step.assetKey, input.step.partitionKey);
    const holder = input.runId;
    for (;;) {
      const claim = await d.store.claim(key, holder, d.ttlMs, d.nowMs());
      if (claim.claimed) return holding(d, key, holder, claim.generation, () => build(input));
      if (whenHeld === 'wait') {
        d.logger?.info({ key, holder: claim.holder }, `${input.step.id} waits for the run building it`);
        await untilFreeOrExpired(d, key);
        continue;
      }
      const busy: StepLeaseBusy = {
        key,
        holder: claim.holder,
        expiresAt: new Date(claim.expiresMs).toISOString(),
      };
      throw ApplicationFailure.create({
        type: STEP_LEASE_BUSY_ERROR_TYPE,
        message: `${input.step.id} is being built by run ${claim.holder}`,
        nonRetryable: true,
        details: [busy],
      });
    }
  };
}

/** Builds under a claimed lease: renews it on a timer, releases it with the result (or none, on a throw). */
async function holding(
  d: Resolved,
  key: string,
  holder: string,
  generation: number,
  build: () => Promise<StepResult>,
): Promise<StepResult> {
  let lost = false;
  const renew = setInterval(() => {
    d.store.renew(key, holder, generation, d.ttlMs, d.nowMs()).then(
      (held) => {
        if (!held && !lost) {
          lost = true;
          d.logger?.warn(
            { key, holder },
            'step lease lost (expired and taken over): the step may build twice',
          );
        }
      },
      (err: unknown) => d.logger?.warn({ key, err: String(err) }, 'step lease not renewed'),
    );
  }, d.renewMs);
  let result: StepResult | undefined;
  try {
    result = await build();
    return result;
  } finally {
    clearInterval(renew);
    // A failed release only delays waiters until the TTL: never fail a step that is built and recorded for it.
    await d.store
      .release(key, holder, generation, result)
      .catch((err: unknown) => d.logger?.warn({ key, err: String(err) }, 'step lease not released'));
  }
}

/**
 * Reads the lease row until its state changes: no duration decides the outcome, only the holder's writes (or its
 * expiry, which is the holder's silence). The wait between reads grows so a long step costs few reads.
 */
async function untilFreeOrExpired(d: Resolved, key: string): Promise<AwaitStepLeaseOutcome> {
  for (let wait = d.pollMs; ; wait = Math.min(d.maxPollMs, wait * 2)) {
    const row = await d.store.read(key);
    if (!row) return { outcome: 'gone' };
    if (row.holder === null) {
      return { outcome: 'released', by: row.releasedBy ?? '', ...(row.result ? { result: row.result } : {}) };
    }
    if (row.expiresMs <= d.nowMs()) return { outcome: 'expired', holder: row.holder };
    heartbeat();
    await pause(wait);
  }
}

/** A wait that ends early (throwing) when the activity is cancelled. */
async function pause(ms: number): Promise<void> {
  let cancelled: Promise<never> | undefined;
  try {
    cancelled = Context.current().cancelled;
  } catch {
    // Not in an activity: nothing cancels it.
  }
  let timer: NodeJS.Timeout | undefined;
  const slept = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  try {
    await (cancelled ? Promise.race([slept, cancelled]) : slept);
  } finally {
    clearTimeout(timer);
  }
}

export function createLeaseActivities(
  store: StepLeaseStore,
  opts: StepLeaseOptions = {},
  logger?: Logger,
): LeaseActivities {
  const d = resolve(store, opts, logger);
  return {
    awaitStepLease: ({ key }: AwaitStepLeaseInput): Promise<AwaitStepLeaseOutcome> =>
      untilFreeOrExpired(d, key),
  };
}
