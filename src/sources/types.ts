/**
 * What every source shares: typed raw rows, the sink they land in, quarantine and watermarks.
 * Sources produce plain rows; a RawSink (implemented over an engine) lands them idempotently.
 */

/** SQL-ish column types a raw table may have; the sink maps them to the engine's types. */
export type RawColumnType =
  'varchar' | 'bigint' | 'double' | 'boolean' | 'timestamp' | 'date' | 'json' | 'decimal';

export interface RawColumn {
  readonly name: string;
  readonly type: RawColumnType;
}

/** JSON-safe values: bigints and decimals as strings or numbers, timestamps as ISO-8601 UTC strings. */
export type RawValue = string | number | boolean | null;
export type RawRow = Readonly<Record<string, RawValue>>;

/** Operation of a change: r = snapshot read, c = insert, u = update, d = delete, t = truncate (Debezium letters). */
export type ChangeOp = 'r' | 'c' | 'u' | 'd' | 't';

/**
 * Metadata columns every raw change row starts with; the table's own columns follow (the after image, or the
 * before image for deletes). `_lsn` is a zero-padded 16-hex-digit string so it sorts as text and as a number.
 */
export const CHANGE_META_COLUMNS: readonly RawColumn[] = [
  { name: '_lsn', type: 'varchar' },
  { name: '_seq', type: 'bigint' },
  { name: '_txid', type: 'bigint' },
  { name: '_commit_time', type: 'timestamp' },
  { name: '_op', type: 'varchar' },
];

export interface QuarantinedRecord {
  readonly source: string;
  /** The input exactly as received (a TSV line, a JSON message), so it can be replayed after a fix. */
  readonly raw: string;
  readonly reason: string;
  /** Where it came from: file and line, or topic/partition/offset. */
  readonly origin: string;
}

/** Lands rows durably and idempotently: a row whose dedupe key is already present is not inserted again. */
export interface RawWriteOptions {
  /**
   * A column whose value the dedupe key fixes (a change's `_commit_time`: every replay of it carries the
   * same one). A sink may then look for already-landed keys only among rows whose value lies in the
   * batch's range, instead of the whole table.
   */
  readonly pruneBy?: string;
}

export interface RawSink {
  /** Creates the table or adds new columns (additive drift); refuses incompatible type changes with an error. */
  ensureTable(table: string, columns: readonly RawColumn[], dedupeKey: readonly string[]): Promise<void>;
  /** Inserts in one transaction; returns how many rows were new. */
  write(
    table: string,
    rows: readonly RawRow[],
    dedupeKey: readonly string[],
    options?: RawWriteOptions,
  ): Promise<{ inserted: number }>;
  /** Quarantine table `raw.quarantine`, deduplicated on (source, origin). */
  quarantine(records: readonly QuarantinedRecord[]): Promise<void>;
}

/** How far a source is known to be complete (ISO-8601 UTC), reported to the ledger after each batch. */
export interface WatermarkReport {
  readonly source: string;
  readonly watermark: string;
}

/** One partition of an ingested asset, as the activity asks a loader for it. */
export interface IngestRequest {
  readonly assetKey: string;
  readonly stream: string;
  readonly partitionKey: string;
  /** ISO-8601 UTC window of the partition's time dimension, when it has one. */
  readonly window?: { readonly start: string; readonly end: string };
  /** Dimension name → key, for multi partitions. */
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly heartbeat: () => void;
}

export interface IngestResult {
  readonly rowCount: number;
  /** Content fingerprint of the partition's rows; equal rows give equal versions. */
  readonly dataVersion: string;
  readonly watermark?: WatermarkReport;
  /**
   * Inputs the landing pass behind this report set aside in `raw.quarantine` (with reasons and origins). The
   * materialize step records it as a non-blocking `quarantined` check, so runs, `tessera checks` and the ledger
   * show it. Undefined when the loader does not count them.
   */
  readonly quarantined?: number;
  /** The rows of the partition, so the asset's checks look at just them (default: the whole table). */
  readonly partition?:
    | { readonly type: 'window'; readonly column: string; readonly start: string; readonly end: string }
    | { readonly type: 'values'; readonly values: Readonly<Record<string, string>> };
}

/** What one landing pass did: rows newly landed (dedupe keys already present do not count) and the watermark. */
export interface LandResult {
  readonly landed: number;
  readonly quarantined: number;
  readonly watermark?: WatermarkReport;
  /** Hours/days whose rows changed after they were reported before (late data): their readers are stale. */
  readonly reopened?: readonly { readonly stream: string; readonly partitionKey: string }[];
}

/**
 * Lands what a source has into its raw tables (idempotently, by natural key) and reports one partition.
 * Registered by source name; the materialize activity calls it for assets with `ingest` options.
 */
export interface SourceLoader {
  ingest(request: IngestRequest): Promise<IngestResult>;
  /**
   * Lands everything new without reporting a partition: one pass of a continuous ingestion workflow. Bounded
   * (returns once caught up with what the source had when called), idempotent, heartbeats while it works.
   */
  land?(heartbeat: () => void): Promise<LandResult>;
}
