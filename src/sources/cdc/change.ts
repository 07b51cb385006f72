import type { ChangeOp, RawColumn, RawRow, RawValue } from '../types.js';

/**
 * A decoded change, the same whichever transport delivered it (logical decoding or Debezium). The lander
 * turns it into a raw row: meta columns, then `values` after PII rules.
 *
 * Ordering key (`lsn`, `seq`): `lsn` is the end LSN of the transaction's commit record (where a slot
 * resumes after it; Debezium's `lsn_commit`), so it is unique per transaction and increases in commit
 * order; `seq` is the change's position in the transaction. Snapshot rows carry the slot's consistent
 * point and a content-derived `seq` (canonical.snapshotSeq).
 */
export interface ChangeRecord {
  /** Source table, unqualified (`users`). */
  readonly table: string;
  readonly op: ChangeOp;
  /** 16 hex digits. */
  readonly lsn: string;
  readonly seq: number | string;
  readonly txid: number | null;
  /** Canonical ISO-8601 UTC. */
  readonly commitTime: string;
  /** The table's columns as the change describes them, in table order (empty for truncates). */
  readonly columns: readonly RawColumn[];
  /** After image; before image for deletes; empty for truncates. */
  readonly values: Readonly<Record<string, RawValue>>;
  /** True when `columns` is the table's full column list (inserts, snapshot reads), so absent columns were dropped. */
  readonly fullImage: boolean;
  /** Where it came from, for quarantine: `lsn/seq`, `file:line`, `topic/partition/offset`. */
  readonly origin: string;
  /** The input as received, with PII columns already removed or hashed (quarantine must not leak them). */
  redactedInput(): string;
  /**
   * The raw row without PII rules (meta columns, then `values`), when the decoder built it already: the
   * lander then uses it as is instead of copying `values` into a new row. Treat it as read-only.
   */
  rawRow?(): RawRow;
}

/** A transaction (or snapshot chunk) as decoded, with its commit time for the watermark. */
export interface DecodedBatch {
  readonly records: readonly ChangeRecord[];
  /** Commit time of the newest transaction seen completely (empty ones included), canonical ISO. */
  readonly completeUpTo?: string;
}
