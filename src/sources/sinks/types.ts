import type { RawColumn, RawColumnType, RawRow, RawSink, RawWriteOptions } from '../types.js';

/**
 * What change-data sources need from a sink beyond RawSink: the raw table's current columns (to detect
 * drift before writing) and a small checkpoint store living next to the data (snapshot completion).
 */
export interface CdcSink extends RawSink {
  /** Undefined when the table does not exist. */
  describe(table: string): Promise<readonly RawColumn[] | undefined>;
  getCheckpoint(key: string): Promise<string | undefined>;
  putCheckpoint(key: string, value: string): Promise<void>;
  /** Removes the snapshot rows (`_op = 'r'`) landed at `lsn`: the leftovers of an interrupted snapshot. */
  discardSnapshot(table: string, lsn: string): Promise<number>;
  /**
   * Optional: `write` in two steps. The rows are serialized now, against the table's current columns, and
   * inserted when `run` is called, so a caller can serialize its next batch while this one is inserted.
   * Undefined when the sink cannot (it does not know the table, or a row has a column the table lacks): call
   * `write` then.
   */
  prepareWrite?(
    table: string,
    rows: readonly RawRow[],
    dedupeKey: readonly string[],
    options?: RawWriteOptions,
  ): PreparedWrite | undefined;
}

/** Rows serialized for one table by `CdcSink.prepareWrite`; `run` inserts them (once). */
export interface PreparedWrite {
  run(): Promise<{ inserted: number }>;
}

/** ensureTable refused a type change that would lose or corrupt data. */
export class IncompatibleColumnError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly oldType: RawColumnType,
    readonly newType: RawColumnType,
  ) {
    super(`${table}.${column} is ${oldType} and cannot hold ${newType} values`);
    this.name = 'IncompatibleColumnError';
  }
}

export const CHANGE_DEDUPE_KEY: readonly string[] = ['_lsn', '_seq'];
export const QUARANTINE_TABLE = 'raw.quarantine';
/** `raw.quarantine`'s columns and key: one row per (source, origin), whatever path landed it. */
export const QUARANTINE_COLUMNS: readonly RawColumn[] = [
  { name: 'source', type: 'varchar' },
  { name: 'origin', type: 'varchar' },
  { name: 'reason', type: 'varchar' },
  { name: 'raw', type: 'varchar' },
  { name: 'quarantined_at', type: 'timestamp' },
];
export const QUARANTINE_KEY: readonly string[] = ['source', 'origin'];
