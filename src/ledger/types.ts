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

/** Plain-data, synchronous view of the ledger that the (pure) planner reads. */
export interface LedgerView {
  /** Latest materialization attempt (success or failed) of one partition. */
  latest(assetKey: string, partitionKey: string): MaterializationRecord | undefined;
  /** Latest successful materialization of one partition. */
  latestSuccess(assetKey: string, partitionKey: string): MaterializationRecord | undefined;
}

/** A ledger store (SQLite embedded by default, PostgreSQL in production); all methods idempotent by key. */
export interface Ledger {
  /** Loads a view holding the latest records of the given assets (all partitions). */
  view(assetKeys: readonly string[]): Promise<LedgerView>;
  recordMaterialization(record: MaterializationRecord): Promise<void>;
  recordCheck(record: CheckResultRecord): Promise<void>;
  checkResults(assetKey: string, partitionKey: string, runId?: string): Promise<CheckResultRecord[]>;
  recordPublication(record: PublicationRecord): Promise<void>;
  publications(group: string): Promise<PublicationRecord[]>;
  setWatermark(record: WatermarkRecord): Promise<void>;
  watermarks(): Promise<WatermarkRecord[]>;
  upsertBackfill(record: BackfillRecord): Promise<void>;
  backfills(): Promise<BackfillRecord[]>;
  close(): Promise<void>;
}

export const stepId = (assetKey: string, partitionKey: string): string => `${assetKey}@${partitionKey}`;
