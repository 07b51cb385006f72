/**
 * Inputs, outputs, queries and signals of Tessera's workflows. Plain data only: all of it is stored in
 * workflow histories and must stay backward compatible (add optional fields; never rename).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { StepResult } from '../activities/types.js';
import type { PartitionRange } from '../dsl/partitions/types.js';
import type { Plan, PlanRequest, PlanStep } from '../planner/types.js';
import type { BackfillOnly } from '../planner/windows.js';

/**
 * How steps are dispatched.
 * - `child` (default): one child workflow per step with id `tessera/step/<taskQueue>/<asset>/<partition>`;
 *   a step already running elsewhere is awaited, never started twice. Costs a workflow per step.
 * - `activity`: the materializeStep activity straight from the run. Several times cheaper. Exclusivity comes from
 *   the step's lease in the ledger database (src/activities/lease.ts, every mode claims it): a second run
 *   building the same partition waits for the lease and takes the first run's result.
 * - `local`: materializeStep as a local activity in the worker running the workflow: cheapest, with the same
 *   lease. For short steps (minutes at most; e.g. DuckDB): a local activity keeps the workflow task open while it
 *   runs (its default start-to-close timeout is 10m), and every step of a run runs on the run's worker.
 */
export type StepMode = 'child' | 'activity' | 'local';

/** Activity tuning for steps (defaults in src/workflows/activities.ts). */
export interface StepOptions {
  readonly startToCloseTimeout?: Duration;
  readonly heartbeatTimeout?: Duration;
  readonly maximumAttempts?: number;
  readonly initialInterval?: Duration;
  readonly maximumInterval?: Duration;
  /** Execution timeout of a step workflow (`child` mode; default 12h): bounds how long an orphan holds its id. */
  readonly workflowTimeout?: Duration;
}

/** Shared knobs of every run that executes steps. */
export interface RunOptions {
  /**
   * Max units in flight (default 4): a unit is a step, or in `child` mode a batch, which itself runs at most this
   * many of its steps at once (the worker's activity slots bound what really runs).
   */
  readonly concurrency?: number;
  readonly force?: boolean;
  readonly mode?: StepMode;
  readonly stepOptions?: StepOptions;
  /** Temporal Web UI base for alert links (default http://127.0.0.1:8233). */
  readonly uiBaseUrl?: string;
}

export interface MaterializeInput extends RunOptions {
  /** A ready plan, or a request the workflow plans through the planRun activity. */
  readonly plan?: Plan;
  readonly request?: PlanRequest;
}

export type StepStatus = 'success' | 'failed' | 'skipped_upstream_failed';

export interface StepOutcome {
  readonly stepId: string;
  readonly status: StepStatus;
  readonly error?: string;
  readonly rowCount?: number;
  readonly dataVersion?: string;
  /** Inputs the step's ingest pass quarantined (absent when none). */
  readonly quarantined?: number;
}

export interface Progress {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly skipped: number;
  /** Steps started and not finished (every step of a batch in flight counts). */
  readonly running: number;
  readonly pending: number;
  /** Ids of the steps in flight (at most 50). */
  readonly runningSteps: readonly string[];
}

export interface MaterializeSummary {
  readonly runId: string;
  readonly status: 'success' | 'failed';
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly skippedFresh: number;
  readonly steps: readonly StepOutcome[];
}

/** Input of the per-step child workflow. */
export interface StepWorkflowInput {
  readonly runId: string;
  readonly step: PlanStep;
  readonly force: boolean;
  /** Run materializeStep as a local activity (mode `local`). */
  readonly local?: boolean;
  readonly stepOptions?: StepOptions;
  readonly uiBaseUrl?: string;
}

/** Which steps of the planned range a backfill runs (defined with filterPlan in the planner). */
export type { BackfillOnly } from '../planner/windows.js';

export interface BackfillInput extends Omit<RunOptions, 'force'> {
  readonly backfillId: string;
  readonly request: PlanRequest;
  readonly only: BackfillOnly;
  /** Continue-as-new after this many finished steps in one run (default 500). */
  readonly stepsPerRun?: number;
  /** Write progress to the ledger every this many finished steps (default 25). */
  readonly progressEvery?: number;
  /** Longer date ranges are planned and run this many days at a time (default 14). */
  readonly windowDays?: number;
  /** Carried across continue-as-new; never set by callers. */
  readonly carried?: BackfillCarry;
}

export interface BackfillCarry {
  readonly remaining: readonly PlanStep[];
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly skipped: number;
  readonly skippedFresh: number;
  readonly failedSteps: readonly StepOutcome[];
  readonly createdAt: string;
  readonly runs: number;
  /** Windows of a long range not planned yet, with the step counts estimated for them at the start. */
  readonly windows?: readonly PartitionRange[];
  readonly estimates?: readonly number[];
}

export interface BackfillSummary {
  readonly backfillId: string;
  readonly status: 'completed' | 'failed';
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly skipped: number;
  readonly skippedFresh: number;
  /** Failed and skipped steps (at most 200 listed). */
  readonly failedSteps: readonly StepOutcome[];
  /** Workflow runs this backfill took (1 + continue-as-new count). */
  readonly runs: number;
}

export interface BackfillProgressView extends Progress {
  readonly backfillId: string;
  readonly runs: number;
  readonly phase: 'planning' | 'running' | 'draining' | 'done';
}

export interface PublishInput {
  readonly group: string;
  readonly partitionKey: string;
  /** Allowed lateness passed to the barrier (default 0). */
  readonly lateness?: Duration;
  /** Give up (alert, keep the previous version) after this long (default 6h). */
  readonly timeout?: Duration;
  /** Barrier poll backoff: first wait, doubled up to max (defaults 5s and 1m). */
  readonly pollInitial?: Duration;
  readonly pollMax?: Duration;
  /** Tessera run id the publication is recorded under (default: this workflow's id). */
  readonly runId?: string;
  readonly uiBaseUrl?: string;
}

export type PublishResult =
  | { readonly status: 'published'; readonly version: string; readonly checks: number }
  | { readonly status: 'timed_out'; readonly waitingOn: readonly string[]; readonly checks: number };

export interface PublishProgress {
  readonly ready: boolean;
  readonly waitingOn: readonly string[];
  readonly checks: number;
}

export interface ScheduleTickInput extends RunOptions {
  readonly schedule: string;
  readonly selection: string;
  readonly publishGroups?: readonly string[];
  /** ISO time the tick stands for; default: the schedule's scheduled time, else the workflow's start time. */
  readonly asOf?: string;
  readonly publish?: Omit<PublishInput, 'group' | 'partitionKey'>;
}

export interface ScheduleTickResult {
  readonly asOf: string;
  readonly materialize: MaterializeSummary;
  /** Publish workflows started (or signalled, when already running) — they outlive the tick. */
  readonly publishWorkflowIds: readonly string[];
  /** Freshness alert workflows started: breaches first seen by this tick (absent in older runs). */
  readonly freshnessAlerts?: readonly string[];
}

export const progressQuery = defineQuery<Progress>('progress');
export const backfillProgressQuery = defineQuery<BackfillProgressView>('progress');
export const publishProgressQuery = defineQuery<PublishProgress>('progress');
/** Re-evaluate the publish barrier now instead of at the next poll. */
export const recheckSignal = defineSignal('recheck');

export type { StepResult };
