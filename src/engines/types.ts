import type { CheckSpec } from '../dsl/types.js';

/**
 * The engine contract: the few primitives every engine implements (DuckDB now; Trino, BigQuery, Spark later).
 * All writes are idempotent: calling one twice with the same input leaves the same tables.
 * Values crossing this boundary are JSON-safe (see `JsonValue`); timestamps are ISO-8601 UTC strings.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** One result row. Integers beyond 2^53 and infinite timestamps come back as strings. */
export type Row = Record<string, JsonValue>;
/** A bind parameter (`?` or `$1` in the SQL). */
export type SqlParam = string | number | boolean | null;

/** Which rows of a table form one partition. */
export type PartitionSelector =
  /** Equality on one or more columns, e.g. `{ platform: 'meta', day: '2026-11-24' }`. */
  | { readonly type: 'values'; readonly values: Readonly<Record<string, string | number | boolean>> }
  /** Half-open time window `[start, end)` on `column`; start/end are ISO-8601 instants. */
  | { readonly type: 'window'; readonly column: string; readonly start: string; readonly end: string };

export interface ColumnInfo {
  readonly name: string;
  /** The engine's own spelling, e.g. `DECIMAL(18,2)`, `TIMESTAMP WITH TIME ZONE`. */
  readonly type: string;
}

export type SchemaChange =
  | { readonly type: 'add_column'; readonly column: string; readonly newType: string }
  | {
      readonly type: 'widen_column';
      readonly column: string;
      readonly oldType: string;
      readonly newType: string;
    }
  /** The select no longer produces the column: it is kept, NULL in rows written from now on. */
  | { readonly type: 'keep_dropped'; readonly column: string; readonly oldType: string };

export interface ReplacePartitionRequest {
  /** `schema.name`; the schema is created on demand, the table on first run from the select's schema. */
  readonly table: string;
  readonly partition: PartitionSelector;
  /** Must produce only rows of the partition (a PartitionMismatchError says how many did not). */
  readonly selectSql: string;
}

export interface ReplaceTableRequest {
  readonly table: string;
  readonly selectSql: string;
}

export interface WriteResult {
  readonly table: string;
  readonly rowCount: number;
  /** Order-independent content fingerprint of what was written: equal content gives an equal version. */
  readonly dataVersion: string;
  readonly schemaChanges: readonly SchemaChange[];
}

/** 'tessera': valid_from, valid_to, is_current, is_deleted, source_lsn, row_hash. 'dbt': see docs/engines.md. */
export type Scd2ColumnNaming = 'tessera' | 'dbt';

export interface Scd2TargetSpec {
  readonly target: string;
  readonly businessKey: readonly string[];
  readonly tracked: readonly string[];
  readonly columnNames?: Scd2ColumnNaming;
}

export interface Scd2ChangesMergeRequest extends Scd2TargetSpec {
  /** A table name (`raw.users_changes`) or a SELECT producing change rows. */
  readonly changes: string;
  /** Source ordering column (LSN, offset): a total order of the log, monotone in commit time. */
  readonly orderBy: string;
  readonly commitTimeColumn: string;
  /** 'c' create, 'u' update, 'r' snapshot read (all upserts), 'd' delete. */
  readonly opColumn: string;
  /**
   * For a log appended in commit order (a raw change log): read only changes committed at most this many
   * seconds before the table's newest version, so an engine skips the history (zone maps on the commit time)
   * and a merge costs what the new changes cost, not what the log holds. A change committed earlier and above
   * the high-water mark would be refused as late; with this set it is not read. Unset: the whole relation.
   */
  readonly lateWindowSeconds?: number;
  /**
   * When `orderBy` is an expression that concatenates plain columns of `changes` as fixed-width text (a raw
   * change log's `_pos`: RAW_LOG_ORDER_PARTS in dialect/scd2-log.ts), those columns in order. The merge then
   * also filters them by the high-water mark's parts, which engines prune by min/max (zone maps) where a filter
   * on the expression evaluates it for every row. Every value must fit its width.
   */
  readonly orderParts?: readonly Scd2OrderPart[];
}

/** One column of an ordering expression (Scd2ChangesMergeRequest.orderParts). */
export interface Scd2OrderPart {
  readonly column: string;
  /** Characters the column takes in the expression (text: its fixed width; numeric: zero-padded to it). */
  readonly width: number;
  /** A non-negative integer column, zero-padded in the expression (compared as a number). */
  readonly numeric?: boolean;
}

export interface Scd2SnapshotMergeRequest extends Scd2TargetSpec {
  /** Full state of the source at `snapshotTime`; keys missing from it are deleted. */
  readonly snapshotSql: string;
  /** ISO-8601 instant; becomes valid_from of new versions. */
  readonly snapshotTime: string;
}

export interface Scd2MergeResult {
  readonly target: string;
  /** Change rows applied (after dropping replays at or below the table's high-water mark). */
  readonly appliedChanges: number;
  readonly insertedVersions: number;
  /** Current versions closed by a newer one (fast path). */
  readonly closedVersions: number;
  /** Keys re-derived from their whole history because a change shares the current version's commit time. */
  readonly rederivedKeys: number;
  readonly rowCount: number;
  readonly dataVersion: string;
}

export interface SnapshotAsOfRequest {
  readonly scd2Table: string;
  /** ISO-8601 instant. */
  readonly asOf: string;
  readonly columnNames?: Scd2ColumnNaming;
  /** Columns to return; default every column of the SCD2 table. */
  readonly columns?: readonly string[];
}

/**
 * One publication of an asset: the rows of the partitions it changes, appended to the asset's published store.
 * A later flip serves them together with the partitions the group already served (docs/engines.md, "Publish").
 */
export interface VersionedTableRequest {
  /** `schema.name` of the published asset, e.g. `marts.daily_revenue`. */
  readonly assetKey: string;
  /** Any text; reduced to [a-z0-9_]. */
  readonly version: string;
  /** Must produce only rows of `partitions` (a PartitionMismatchError says how many did not). */
  readonly selectSql: string;
  /**
   * The partitions this publication replaces: `column` holds each row's key. A listed key without rows is
   * published empty. Absent: the asset is unpartitioned and the select replaces all of it.
   */
  readonly partitions?: { readonly column: string; readonly keys: readonly string[] };
}

export interface PublishedPartition {
  readonly rowCount: number;
  /** Fingerprint of the partition's rows, equal to the `dataVersion` replacePartition reported for them. */
  readonly dataVersion: string;
  /** True when an earlier publication held the same content: nothing was written for it. */
  readonly reused: boolean;
}

export interface VersionedTableResult extends WriteResult {
  /** By partition key ('' for an unpartitioned asset). */
  readonly partitions: Readonly<Record<string, PublishedPartition>>;
}

export interface FlipRequest {
  readonly group: string;
  /** Asset key (the stable name analysts query) → the publication (`table` of createVersionedTable) to serve. */
  readonly tables: Readonly<Record<string, string>>;
  /** Default: a hash of `tables`. */
  readonly version?: string;
  readonly runId?: string;
}

export interface PublishState {
  readonly group: string;
  readonly version: string;
  /** Position in the group's history, 1-based. */
  readonly seq: number;
  readonly tables: Readonly<Record<string, string>>;
  readonly runId: string | null;
  /** ISO-8601 UTC. */
  readonly publishedAt: string;
  /** True when a rollback withdrew this version. */
  readonly rolledBack: boolean;
}

export interface FlipResult {
  readonly state: PublishState;
  /** False when the group already served exactly these tables (idempotent re-flip). */
  readonly changed: boolean;
}

export interface CheckRunOptions {
  /** Check only this partition (not applied to `scd2_intervals`, which needs whole histories). */
  readonly partition?: PartitionSelector;
  /** Needed by `scd2_intervals`. */
  readonly scd2?: { readonly businessKey: readonly string[]; readonly columnNames?: Scd2ColumnNaming };
  /** ISO-8601 instant `freshness` compares against; default: now. */
  readonly now?: string;
  /** Table of quarantined rows, needed by `quarantine_rate` (same partition filter applies). */
  readonly quarantineTable?: string;
}

export interface CheckRunResult {
  readonly name: string;
  readonly passed: boolean;
  /** Rows violating the check; aggregate checks (row_count, freshness, quarantine_rate) report 0 or 1. */
  readonly failingRows: number;
  readonly detail: string;
}

export interface Engine {
  /** Registry name, e.g. 'duckdb'. */
  readonly name: string;
  /** Run one or more statements; nothing is returned. */
  execute(sql: string): Promise<void>;
  query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;

  replacePartition(req: ReplacePartitionRequest): Promise<WriteResult>;
  replaceTable(req: ReplaceTableRequest): Promise<WriteResult>;

  mergeScd2FromChanges(req: Scd2ChangesMergeRequest): Promise<Scd2MergeResult>;
  mergeScd2FromSnapshot(req: Scd2SnapshotMergeRequest): Promise<Scd2MergeResult>;
  /** SELECT of the rows live at `asOf` (pure rendering, no I/O). */
  snapshotAsOfSql(req: SnapshotAsOfRequest): string;
  /**
   * Table time travel, where the engine keeps table snapshots (Iceberg on Trino): a SELECT of `table` as it was
   * committed at the ISO instant `asOf`. Undefined on engines without it (`tessera query --committed-at` refuses).
   */
  tableAsOfSql?(table: string, asOf: string): string;

  /** Appends a publication's partitions to the asset's published store; `table` is the publication's id. */
  createVersionedTable(req: VersionedTableRequest): Promise<VersionedTableResult>;
  /** Serves the publications in `tables` over what the group served (their partitions replace the same keys). */
  flipPublishGroup(req: FlipRequest): Promise<FlipResult>;
  /** Re-points the group to the version before the current one; throws when there is none. */
  rollbackPublishGroup(group: string): Promise<FlipResult>;
  /** Oldest first; undefined-free (empty when never published). */
  publishHistory(group: string): Promise<PublishState[]>;

  /** Undefined when the table (or view) does not exist. */
  describeTable(table: string): Promise<ColumnInfo[] | undefined>;
  /** Adds new columns / widens types so `selectSql` fits `table`; throws SchemaEvolutionError otherwise. */
  evolveSchema(table: string, selectSql: string): Promise<SchemaChange[]>;

  runCheck(check: CheckSpec, table: string, options?: CheckRunOptions): Promise<CheckRunResult>;

  close(): Promise<void>;
}
