/**
 * ingestWorkflow: a source's ingestion outside materializations (issue #6, "Capture").
 * - `continuous`: loop { ingestSource; wait `every` (or an `ingestNow` signal) }, continue-as-new after
 *   `passesPerRun` passes or when Temporal suggests it, carrying the counters. Id `tessera/ingest/<queue>/<source>`
 *   (started with USE_EXISTING: one running ingestion per source). Cancelling it stops it between files.
 * - `once`: one pass, then done; what a micro-batch Schedule starts every N minutes (overlap SKIP).
 * A failed pass (after the activity's retries) is recorded as `lastError` and the loop goes on: a source that
 * needs a person (schema drift) keeps failing visibly until fixed, then resumes by itself.
 */
import {
  ActivityCancellationType,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../activities/types.js';
import type { Activities, IngestPassResult } from '../activities/types.js';
import { ID_PREFIX } from '../runtime/ids.js';

export type IngestMode = 'continuous' | 'once';

export interface IngestActivityOptions {
  readonly startToCloseTimeout?: Duration;
  readonly heartbeatTimeout?: Duration;
  readonly maximumAttempts?: number;
  readonly initialInterval?: Duration;
}

export interface IngestInput {
  readonly source: string;
  /** Default `continuous`. */
  readonly mode?: IngestMode;
  /** Wait between passes in continuous mode (default 1m). */
  readonly every?: Duration;
  /** Continue-as-new after this many passes (default 200). */
  readonly passesPerRun?: number;
  readonly activity?: IngestActivityOptions;
  /** Carried across continue-as-new; never set by callers. */
  readonly carried?: IngestProgress;
}

export interface IngestProgress {
  readonly source: string;
  readonly mode: IngestMode;
  /** The wait between passes (continuous mode). */
  readonly every?: string;
  readonly state: 'landing' | 'waiting' | 'stopped' | 'done';
  /** Passes finished, failed ones included. */
  readonly passes: number;
  readonly failedPasses: number;
  readonly rowsLanded: number;
  readonly quarantined: number;
  /** Partitions re-reported because late data changed them. */
  readonly restated: number;
  readonly lastWatermark?: string;
  readonly lastPassAt?: string;
  readonly lastError?: string;
  /** The pass number `lastError` happened at (compare with `passes` to tell an old error). */
  readonly lastErrorPass?: number;
  /** Workflow runs so far (1 + continue-as-new count). */
  readonly runs: number;
}

export const ingestProgressQuery = defineQuery<IngestProgress>('progress');
/** Run a pass now instead of at the end of the wait. */
export const ingestNowSignal = defineSignal('ingestNow');

export const DEFAULT_INGEST_EVERY = '1m';
export const DEFAULT_PASSES_PER_RUN = 200;

/** `tessera/ingest/<taskQueue>/<source>`: the continuous workflow's id and the micro-batch schedule's id. */
export const ingestWorkflowId = (taskQueue: string, source: string): string =>
  `${ID_PREFIX}/ingest/${taskQueue}/${source}`;

function ingestActivities(o: IngestActivityOptions = {}): Pick<Required<Activities>, 'ingestSource'> {
  return proxyActivities<Required<Activities>>({
    startToCloseTimeout: o.startToCloseTimeout ?? '1h',
    // A pass heartbeats between files; one large file may take a while.
    heartbeatTimeout: o.heartbeatTimeout ?? '2m',
    // Stop waits for the pass to stop (between files), so nothing lands after the workflow is closed.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: o.initialInterval ?? '5s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: o.maximumAttempts ?? 3,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

const messageOf = (err: unknown): string => {
  const e = err as { message?: string; cause?: { message?: string } };
  return e.cause?.message ?? e.message ?? String(err);
};

function afterPass(p: IngestProgress, r: IngestPassResult): IngestProgress {
  return {
    ...p,
    passes: p.passes + 1,
    rowsLanded: p.rowsLanded + r.landed,
    quarantined: p.quarantined + r.quarantined,
    restated: p.restated + r.restated.length,
    lastPassAt: r.finishedAt,
    ...(r.watermark !== undefined ? { lastWatermark: r.watermark } : {}),
  };
}

export async function ingestWorkflow(input: IngestInput): Promise<IngestProgress> {
  const mode = input.mode ?? 'continuous';
  const passesPerRun = input.passesPerRun ?? DEFAULT_PASSES_PER_RUN;
  const { ingestSource } = ingestActivities(input.activity);
  let p: IngestProgress = input.carried
    ? { ...input.carried, runs: input.carried.runs + 1 }
    : {
        source: input.source,
        mode,
        ...(mode === 'continuous' ? { every: String(input.every ?? DEFAULT_INGEST_EVERY) } : {}),
        state: 'landing',
        passes: 0,
        failedPasses: 0,
        rowsLanded: 0,
        quarantined: 0,
        restated: 0,
        runs: 1,
      };
  let wake = false;
  setHandler(ingestProgressQuery, () => p);
  setHandler(ingestNowSignal, () => {
    wake = true;
  });

  try {
    for (let n = 1; ; n++) {
      wake = false; // a signal arriving during the pass asks for the next one right after it
      p = { ...p, state: 'landing' };
      try {
        p = afterPass(p, await ingestSource({ source: input.source, runId: workflowInfo().workflowId }));
      } catch (err) {
        if (isCancellation(err) || mode === 'once') throw err;
        const error = messageOf(err);
        p = { ...p, passes: p.passes + 1, failedPasses: p.failedPasses + 1, lastError: error };
        p = { ...p, lastErrorPass: p.passes };
        log.warn('ingestion pass failed', { source: input.source, error });
      }
      if (mode === 'once') {
        p = { ...p, state: 'done' };
        return p;
      }
      if (n >= passesPerRun || workflowInfo().continueAsNewSuggested) {
        return await continueAsNew<typeof ingestWorkflow>({ ...input, carried: { ...p, state: 'waiting' } });
      }
      p = { ...p, state: 'waiting' };
      await condition(() => wake, input.every ?? DEFAULT_INGEST_EVERY);
    }
  } catch (err) {
    if (isCancellation(err)) p = { ...p, state: 'stopped' };
    throw err;
  }
}
