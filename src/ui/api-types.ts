/**
 * The JSON the UI server answers with, shared by the server (src/ui/server) and the browser bundle
 * (src/ui/web). Types only: nothing here runs.
 */

export type Health = 'fresh' | 'stale' | 'failed' | 'missing';

export interface Meta {
  readonly allowActions: boolean;
  readonly temporalUi: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly environment: string;
}

export interface GraphNode {
  readonly key: string;
  readonly kind: string;
  readonly group: string;
  readonly publishGroup: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Health of the asset's newest materialized partition ('missing' when it has none). */
  readonly health: Health;
  readonly latestPartition: string;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** Polyline from the upstream node to the downstream one, layout coordinates. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface GraphResponse {
  readonly selection: string;
  /** The newest day the ledger has a partition of. */
  readonly range: { readonly from: string; readonly to: string };
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** Milliseconds the layout took when it was computed (0 when served from the cache). */
  readonly layoutMs: number;
}

export interface CheckView {
  readonly name: string;
  readonly blocking: boolean;
  /** Result on the latest materialization of the latest partition that has one; null when never run. */
  readonly latest: {
    readonly partitionKey: string;
    readonly passed: boolean;
    readonly failingRows: number;
    readonly detail: string;
    readonly checkedAt: string;
  } | null;
}

export interface StripCell {
  readonly partitionKey: string;
  readonly health: Health;
  readonly rowCount: number | null;
}

export interface AssetResponse {
  readonly key: string;
  readonly kind: string;
  readonly description: string;
  readonly owners: readonly string[];
  readonly tags: readonly string[];
  readonly group: string;
  readonly publishGroup: string;
  readonly codeVersion: string;
  readonly partitions: string;
  readonly engine: string;
  readonly dialect: string;
  /** The SQL as the engine's dialect renders it for `sqlPartition`, or a note on how the asset is built. */
  readonly sql: string;
  readonly sqlPartition: string;
  readonly deps: readonly { readonly key: string; readonly mapping: string }[];
  readonly downstream: readonly string[];
  readonly checks: readonly CheckView[];
  readonly range: { readonly from: string; readonly to: string };
  readonly strip: readonly StripCell[];
  /** Rows the asset's source quarantined (raw assets with an ingest source), null when not applicable. */
  readonly quarantine: {
    readonly source: string;
    readonly total: number;
    readonly byDay: readonly { readonly day: string; readonly rows: number }[];
    readonly recent: readonly { readonly origin: string; readonly reason: string; readonly at: string }[];
    readonly note?: string;
  } | null;
  readonly scd2: { readonly businessKey: readonly string[] } | null;
}

export interface MaterializationView {
  readonly runId: string;
  readonly status: string;
  readonly error: string;
  readonly codeVersion: string;
  readonly dataVersion: string;
  readonly rowCount: number;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly inputDataVersions: Readonly<Record<string, string>>;
  readonly checks: readonly {
    readonly name: string;
    readonly blocking: boolean;
    readonly passed: boolean;
    readonly failingRows: number;
    readonly detail: string;
  }[];
}

export interface PartitionResponse {
  readonly assetKey: string;
  readonly partitionKey: string;
  readonly health: Health;
  readonly stepWorkflowId: string;
  readonly temporalUrl: string;
  readonly materializations: readonly MaterializationView[];
}

export interface PublishGroupView {
  readonly name: string;
  readonly description: string;
  readonly assets: readonly string[];
  readonly serving: {
    readonly version: string;
    readonly seq: number;
    readonly publishedAt: string;
    readonly rolledBack: number;
  } | null;
  /** The engine's publish history, oldest first: each flip, and whether a rollback withdrew it. */
  readonly history: readonly {
    readonly seq: number;
    readonly version: string;
    readonly publishedAt: string;
    readonly rolledBack: boolean;
  }[];
  /** The ledger's publications, oldest first. */
  readonly publications: readonly {
    readonly version: string;
    readonly publishedAt: string;
    readonly runId: string;
  }[];
  /** Publish workflows waiting on the barrier now, each with its live list. */
  readonly waiting: readonly {
    readonly partitionKey: string;
    readonly workflowId: string;
    readonly url: string;
    readonly checks: number;
    readonly waitingOn: readonly string[];
  }[];
  /** The barrier evaluated now for the group's next partition (the day after the served one). */
  readonly barrier: {
    readonly partitionKey: string;
    readonly ready: boolean;
    readonly waitingOn: readonly string[];
  } | null;
}

export interface PublishResponse {
  readonly groups: readonly PublishGroupView[];
  /** Why serving versions or workflows could not be read, when they could not. */
  readonly notes: readonly string[];
}

export interface BackfillView {
  readonly backfillId: string;
  readonly selection: string;
  readonly from: string;
  readonly to: string;
  readonly status: string;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly phase: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly url: string;
}

export interface FailedStepView {
  readonly assetKey: string;
  readonly partitionKey: string;
  readonly error: string;
  readonly endedAt: string;
  readonly runId: string;
  readonly url: string;
}

export interface RunsResponse {
  readonly backfills: readonly BackfillView[];
  readonly failedSteps: readonly FailedStepView[];
  readonly running: readonly {
    readonly workflowId: string;
    readonly type: string;
    readonly startTime: string;
    readonly url: string;
  }[];
  readonly notes: readonly string[];
}

export interface Scd2AssetView {
  readonly key: string;
  readonly businessKey: readonly string[];
  readonly tracked: readonly string[];
}

export type Cell = string | number | boolean | null;

export interface Scd2HistoryResponse {
  readonly assetKey: string;
  readonly businessKey: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly versions: readonly {
    readonly validFrom: string;
    readonly validTo: string | null;
    readonly row: Readonly<Record<string, Cell>>;
    /** Columns whose value differs from the previous version (all columns for the first). */
    readonly changed: readonly string[];
  }[];
}

export interface TableResponse {
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, Cell>>[];
  readonly truncated: boolean;
  readonly asOf?: string;
}

export interface ExperimentRow {
  readonly metric: string;
  readonly role: string;
  readonly variation: string;
  readonly users: number;
  readonly mean: number | null;
  readonly isBaseline: boolean;
  readonly lift: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  readonly pValue: number | null;
  readonly significant: boolean;
  readonly error: string | null;
  /** The CLI report's line for this row (formatted numbers). */
  readonly line: Readonly<Record<string, string>>;
}

export interface ExperimentResponse {
  readonly experiment: string;
  readonly day: string;
  readonly days: readonly string[];
  readonly liftType: string;
  readonly alpha: number | null;
  readonly srm: { readonly pValue: number | null; readonly mismatch: boolean };
  readonly users: readonly { readonly variation: string; readonly users: number }[];
  readonly multipleVariationUsers: number;
  readonly rows: readonly ExperimentRow[];
}

export interface ActionResponse {
  readonly message: string;
  readonly workflowId?: string;
  readonly url?: string;
}
