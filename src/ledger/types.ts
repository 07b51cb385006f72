/** The ledger: what has been materialized, checked, published; the planner's and barrier's memory. */

export type MaterializationStatus = 'success' | 'failed';

export interface MaterializationRecord {
  readonly assetKey: string;
  /** UNPARTITIONED ('') for unpartitioned assets. */
  readonly partitionKey: string;
  readonly runId: string;
  readonly codeVersion: string;
  /** Upstream `${assetKey}@${partitionKey}` → its dataVersion when this materialization read it. */
  readonly inputDataVersions: Readonly<Record<string, string>>;
  /** Content fingerprint of the written partition; equal content gives equal versions. */
  readonly dataVersion: string;
  readonly rowCount: number;
  readonly status: MaterializationStatus;
  readonly error?: string;
  /** ISO-8601 UTC. */
  readonly startedAt: string;
  readonly endedAt: string;
}

export interface CheckResultRecord {
  readonly assetKey: string;
  readonly partitionKey: string;
  readonly runId: string;
  readonly checkName: string;
  readonly blocking: boolean;
  readonly passed: boolean;
  readonly failingRows: number;
  readonly detail?: string;
  readonly checkedAt: string;
}

export interface PublicationRecord {
  readonly group: string;
  readonly version: string;
  /** Asset key → physical table name served by this version. */
  readonly tables: Readonly<Record<string, string>>;
  readonly runId: string;
  readonly publishedAt: string;
}

export interface WatermarkRecord {
  readonly source: string;
  /** ISO-8601 UTC instant up to which the source is known complete. */
  readonly watermark: string;
  readonly updatedAt: string;
}

export interface BackfillRecord {
  readonly backfillId: string;
  readonly selection: string;
  readonly from: string;
  readonly to: string;
  readonly status: 'running' | 'completed' | 'failed' | 'cancelled';
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * What the ledger knows of one partition: its latest attempt and its latest success. The planner's
 * freshness check reads the flat fields only; the full records are built on first use.
 */
export interface PartitionHead {
  /** Latest attempt (success or failed). */
  readonly latest: MaterializationRecord;
  /** Latest successful attempt, if any. */
  readonly latestSuccess: MaterializationRecord | undefined;
  /** `latest.status`. */
  readonly status: MaterializationStatus;
  /** `latest.codeVersion`. */
  readonly codeVersion: string;
  /**
   * The fingerprint of the latest attempt's inputs: `JSON.stringify(latest.inputDataVersions)` with the keys in
   * the order they were recorded (the order the step read them). Equal text means equal inputs; unequal text
   * proves nothing (another key order, PostgreSQL's normalized JSON), so a reader then compares the records.
   */
  readonly inputsText: string;
  /** `latestSuccess?.dataVersion`. */
  readonly successDataVersion: string | undefined;
}

/** Plain-data, synchronous view of the ledger that the (pure) planner reads. */
export interface LedgerView {
  /** Latest materialization attempt (success or failed) of one partition. */
  latest(assetKey: string, partitionKey: string): MaterializationRecord | undefined;
  /** Latest successful materialization of one partition. */
  latestSuccess(assetKey: string, partitionKey: string): MaterializationRecord | undefined;
  /** Every recorded partition of one asset (empty when none), by partition key: the planner's bulk read. */
  heads(assetKey: string): ReadonlyMap<string, PartitionHead>;
}

/** Filter for `Ledger.materializations` (the CLI status grid). */
export interface MaterializationFilter {
  /** Only these assets; all assets when omitted. */
  readonly assetKeys?: readonly string[];
  /**
   * Inclusive partition-key bounds, compared as strings (time partition keys sort chronologically).
   * Unpartitioned rows (key '') are always included so a grid still shows unpartitioned assets.
   */
  readonly from?: string;
  readonly to?: string;
  /** Only attempts with this status (e.g. 'success' → latest success per partition). */
  readonly status?: MaterializationStatus;
  /** Every attempt instead of only the latest per (asset, partition). Default false. */
  readonly all?: boolean;
}

/** A ledger store (SQLite embedded by default, PostgreSQL in production); all methods idempotent by key. */
export interface Ledger {
  /** Loads a view holding the latest records of the given assets (all partitions). */
  view(assetKeys: readonly string[]): Promise<LedgerView>;
  recordMaterialization(record: MaterializationRecord): Promise<void>;
  /**
   * Latest attempt per (asset, partition) matching the filter (or every attempt with `all`),
   * ordered by asset key, partition key, then newest attempt first.
   */
  materializations(filter?: MaterializationFilter): Promise<MaterializationRecord[]>;
  /** Every attempt of one partition, newest first. */
  history(assetKey: string, partitionKey: string): Promise<MaterializationRecord[]>;
  recordCheck(record: CheckResultRecord): Promise<void>;
  /** Check results of one partition (of one run when given), oldest first, then by check name. */
  checkResults(assetKey: string, partitionKey: string, runId?: string): Promise<CheckResultRecord[]>;
  /**
   * Records a published version of a group. Re-recording the same (group, version) with the same
   * tables is a no-op; with different tables it throws `LedgerConflictError` (history is immutable).
   */
  recordPublication(record: PublicationRecord): Promise<void>;
  /** Publications of a group, oldest first: the last one is the version being served. */
  publications(group: string): Promise<PublicationRecord[]>;
  /** Upserts a source's watermark; a watermark older than the stored one is ignored (never moves back). */
  setWatermark(record: WatermarkRecord): Promise<void>;
  /** All watermarks, by source. */
  watermarks(): Promise<WatermarkRecord[]>;
  upsertBackfill(record: BackfillRecord): Promise<void>;
  /** All backfills, newest (createdAt) first. */
  backfills(): Promise<BackfillRecord[]>;
  close(): Promise<void>;
}

export const stepId = (assetKey: string, partitionKey: string): string => `${assetKey}@${partitionKey}`;
