/**
 * The activity interface: every piece of I/O the workflows in src/workflows may ask for.
 *
 * Workflows import this file as types only. `TesseraActivities` is implemented by the engine/ledger layer
 * (`createActivities(deps)`); `RuntimeActivities` by src/runtime (it needs a Temporal client). Inputs and
 * outputs are plain JSON data: they are stored in workflow histories.
 */
import type { BackfillRecord } from '../ledger/types.js';
import type { Plan, PlanRequest, PlanStep } from '../planner/types.js';
import type { BackfillOnly } from '../planner/windows.js';
import type { PartitionRange } from '../dsl/partitions/types.js';

/** Outcome of one blocking or non-blocking check on a materialized partition. */
export interface StepCheckResult {
  readonly name: string;
  readonly blocking: boolean;
  readonly passed: boolean;
  readonly detail?: string;
}

/**
 * Result of materializing one step. A failed blocking check makes the step `failed` (the data is written
 * but must not feed downstream steps or publication); non-blocking failures leave it `success`.
 */
export interface StepResult {
  readonly stepId: string;
  readonly status: 'success' | 'failed';
  readonly rowCount: number;
  readonly dataVersion: string;
  readonly checks: readonly StepCheckResult[];
  /** Inputs its ingest pass quarantined (ingested assets; absent when none). */
  readonly quarantined?: number;
  readonly error?: string;
}

export interface MaterializeStepInput {
  /** Tessera run id (the orchestrating workflow's id) recorded in the ledger. */
  readonly runId: string;
  readonly step: PlanStep;
  readonly force: boolean;
}

export type AlertKind = 'asset_failed' | 'check_failed' | 'barrier_timeout' | 'freshness_breach';

export interface Alert {
  readonly kind: AlertKind;
  readonly assetKey?: string;
  readonly partitionKey?: string;
  readonly group?: string;
  readonly error: string;
  /** Tessera run id (orchestrating workflow id). */
  readonly runId: string;
  /** The workflow where it happened (a step workflow, a publish workflow, ...). */
  readonly workflowId: string;
  /** Temporal Web UI link to that workflow. */
  readonly runUrl: string;
}

export interface DeliverAlertInput {
  readonly alert: Alert;
  readonly route: string;
}

export interface BarrierStatusInput {
  readonly group: string;
  readonly partitionKey: string;
  /** Allowed lateness after the partition's end before watermarks must have passed it. */
  readonly latenessMs: number;
}

export interface BarrierStatus {
  readonly ready: boolean;
  /** Human-readable reasons: `asset@partition not materialized`, `watermark user_db < ...`, failed checks. */
  readonly waitingOn: readonly string[];
}

export interface PublishGroupInput {
  readonly group: string;
  readonly partitionKey: string;
  readonly runId: string;
}

/** Progress of a backfill written to the ledger (BackfillRecord without the timestamp the store sets). */
export interface BackfillProgress extends Omit<BackfillRecord, 'updatedAt'> {
  readonly skipped: number;
}

export interface TickRequestInput {
  readonly schedule: string;
  readonly selection: string;
  readonly publishGroups: readonly string[];
  /** ISO-8601 UTC scheduled time of the tick. */
  readonly asOf: string;
}

/** What a schedule tick runs: the selection's latest closed partitions, then which group partitions to publish. */
export interface TickPlan {
  readonly request: PlanRequest;
  readonly publish: readonly { readonly group: string; readonly partitionKey: string }[];
}

export interface FreshnessInput {
  readonly selection: string;
  /** ISO-8601 UTC time of the check (a schedule tick's time). */
  readonly asOf: string;
}

/** A partition that should have been materialized `maxLagMinutes` after its window ended, and is not. */
export interface FreshnessBreach {
  readonly assetKey: string;
  readonly partitionKey: string;
  readonly error: string;
}

/** A read-only query on the warehouse, run by the worker that holds it (`tessera query`). */
export interface RunQueryInput {
  /** One SELECT (or WITH … SELECT, FROM …, VALUES …) statement; anything else is rejected. */
  readonly sql: string;
  /** Rows returned at most; `truncated` says when there were more. */
  readonly limit: number;
  /** ISO-8601 UTC instant: SCD2 assets the SQL reads are replaced by their state as of then. */
  readonly asOf?: string;
  /** ISO-8601 instant: the assets' tables the SQL reads (marts aside) as the engine committed them then. */
  readonly committedAt?: string;
  /** Engine name from config (default: the default engine). */
  readonly engine?: string;
}

export interface QueryColumn {
  readonly name: string;
  /** The engine's spelling of the type, e.g. `VARCHAR`, `TIMESTAMP WITH TIME ZONE`. */
  readonly type: string;
}

/** Rows of a query, JSON-safe (see engines' JsonValue). */
export interface QueryResult {
  readonly columns: readonly QueryColumn[];
  readonly rows: readonly Readonly<Record<string, QueryValue>>[];
  readonly truncated: boolean;
  /** SCD2 assets replaced by their as-of snapshot (with `asOf`). */
  readonly asOfAssets?: readonly string[];
  /** Assets read through the engine's time travel (with `committedAt`). */
  readonly committedAtAssets?: readonly string[];
}
export type QueryValue = null | boolean | number | string | QueryValue[] | { [key: string]: QueryValue };

/** The ApplicationFailure type of a query refused before it ran (not one read-only statement, bad --as-of use). */
export const QUERY_REJECTED_ERROR_TYPE = 'QueryRejected';

export interface RollbackGroupInput {
  readonly group: string;
}

export interface RollbackGroupResult {
  readonly group: string;
  /** The version served now (the one before the withdrawn version). */
  readonly version: string;
  readonly seq: number;
  readonly tables: Readonly<Record<string, string>>;
  readonly publishedAt: string;
}

export interface IngestSourceInput {
  /** Source name, as registered with the worker's loaders (`ingest: { source }` of raw assets). */
  readonly source: string;
  /** Run id that restated partitions are recorded under in the ledger (the ingest workflow's id). */
  readonly runId: string;
}

/** One landing pass of a source (`ingestSource`). */
export interface IngestPassResult {
  readonly source: string;
  /** Rows new to the raw tables (rows already present do not count). */
  readonly landed: number;
  readonly quarantined: number;
  /** ISO-8601 UTC instant the source is complete up to, also recorded in the ledger. */
  readonly watermark?: string;
  /** Partitions the loader reported re-opened by late data. */
  readonly reopened: number;
  /** `asset@partition` re-reported with a new data version: their readers plan as `upstream_changed`. */
  readonly restated: readonly string[];
  /** ISO-8601 UTC end of the pass (workflow code reads no clock). */
  readonly finishedAt: string;
}

/** Implemented by the engine/ledger layer. Every method is idempotent for equal inputs. */
export interface TesseraActivities {
  /**
   * Materializes one partition and runs its checks; heartbeats while the engine works. Throws
   * `ApplicationFailure.nonRetryable(message, type)` with a type from NON_RETRYABLE_ERROR_TYPES for errors a
   * retry cannot fix; any other error is retried by the workflow's retry policy.
   */
  materializeStep(input: MaterializeStepInput): Promise<StepResult>;
  planRun(request: PlanRequest): Promise<Plan>;
  /**
   * A long backfill's windows with the steps each would run as the ledger stands now (the progress total; each
   * window is planned for real when it starts). Optional so fakes need not have it: short ranges never call it.
   */
  planBackfillWindows?(input: BackfillWindowsInput): Promise<BackfillWindows>;
  /** Legacy (workflows recorded before alertWorkflow): every route, each delivered once, failures logged. */
  sendAlert(alert: Alert): Promise<void>;
  /** Names of the routes an alert goes to (config and catalog routes matching its asset's owners or tags). */
  alertRoutes(alert: Alert): Promise<readonly string[]>;
  /** Delivers an alert to one route; throws when it failed (retried on its own by alertWorkflow). */
  deliverAlert(input: DeliverAlertInput): Promise<void>;
  barrierStatus(input: BarrierStatusInput): Promise<BarrierStatus>;
  /** Flips the group to the versions materialized for the partition, atomically. */
  publishGroup(input: PublishGroupInput): Promise<{ readonly version: string }>;
  recordBackfill(progress: BackfillProgress): Promise<void>;
  tickRequest(input: TickRequestInput): Promise<TickPlan>;
  /** Freshness breaches of the selection's assets as of a time (their `freshness.maxLagMinutes`). */
  freshnessBreaches(input: FreshnessInput): Promise<readonly FreshnessBreach[]>;
  /**
   * Warehouse access for the CLI while this worker holds the warehouse (DuckDB allows one writing process).
   * Optional so fakes need not implement them; createActivities always does.
   */
  runQuery?(input: RunQueryInput): Promise<QueryResult>;
  /** Re-points a publish group to its previous version. Not idempotent: run at most once per request. */
  rollbackGroup?(input: RollbackGroupInput): Promise<RollbackGroupResult>;
  /** One bounded landing pass of a source (ingest workflows); heartbeats; optional so fakes need not have it. */
  ingestSource?(input: IngestSourceInput): Promise<IngestPassResult>;
}

export interface AwaitStepInput {
  readonly workflowId: string;
}

/** `completed`: the step workflow ran to an outcome (success or failed step); `gone`: it was cancelled, terminated or is not found. */
export type AwaitStepOutcome =
  | { readonly outcome: 'completed'; readonly result: StepResult }
  /** A step batch workflow (several partitions of one asset) ran to an outcome: the results of what it ran. */
  | { readonly outcome: 'completed_batch'; readonly results: readonly StepResult[] }
  | { readonly outcome: 'gone'; readonly reason: string };

/** Implemented by src/runtime/activities.ts (needs a Temporal client). */
export interface RuntimeActivities {
  /** Waits for a step workflow started by someone else and returns its outcome; heartbeats while waiting. */
  awaitStepWorkflow(input: AwaitStepInput): Promise<AwaitStepOutcome>;
}

export type Activities = TesseraActivities & RuntimeActivities;

/** ApplicationFailure types the workflows never retry (besides any failure created with nonRetryable). */
export const NON_RETRYABLE_ERROR_TYPES = [
  'SqlError',
  'ValidationError',
  'PermissionError',
  'ConfigError',
  'PartitionError',
] as const;
export type NonRetryableErrorType = (typeof NON_RETRYABLE_ERROR_TYPES)[number];

/** The ApplicationFailure type a failed step workflow ends with; its first detail is the StepResult. */
export const STEP_FAILED_ERROR_TYPE = 'StepFailed';

export interface BackfillWindowsInput {
  readonly request: PlanRequest;
  readonly only: BackfillOnly;
  readonly windowDays: number;
}

export interface BackfillWindows {
  readonly windows: readonly { readonly range: PartitionRange; readonly steps: number }[];
  readonly skippedFresh: number;
}
