/**
 * Logical decoding output as the capture uses it, whichever output plugin produced it (wal2json's JSON or
 * pgoutput's binary messages): transactions of row changes with column names, type OIDs and values as
 * PostgreSQL's text output (wal2json also gives numbers and booleans as JSON scalars; fromPg reads both).
 */

/**
 * A row image as parallel arrays: column names and type OIDs (shared by every change of a relation while
 * its shape holds, so they cost nothing per change) and the values.
 */
export interface LogicalImage {
  readonly names: readonly string[];
  readonly typeoids: readonly number[];
  /** Text output of the type; JSON scalars from wal2json. Unchanged TOAST values are left out. */
  readonly values: readonly (string | number | boolean | null)[];
}

interface Row {
  readonly schema: string;
  readonly table: string;
}

export type LogicalChange =
  | (Row & { readonly action: 'I'; readonly row: LogicalImage })
  | (Row & {
      readonly action: 'U';
      readonly row: LogicalImage;
      /** The old row (REPLICA IDENTITY FULL) or key, when the server sent it and it is needed. */
      readonly old?: LogicalImage;
    })
  | (Row & { readonly action: 'D'; readonly old: LogicalImage })
  | (Row & { readonly action: 'T' });

/** `pg_logical_emit_message` output. */
export interface LogicalMessage {
  readonly transactional: boolean;
  readonly prefix: string;
  readonly content: string;
}

export interface LogicalTransaction {
  readonly xid: number;
  /** Start of the commit record, `X/Y`. */
  readonly commitLsn: string;
  /** End of the commit record, `X/Y`: the raw `_lsn` of its changes and the slot's next position. */
  readonly endLsn: string;
  /** PostgreSQL text (`2026-11-25 12:33:46.574692+00`) or ISO-8601 UTC. */
  readonly commitTime: string;
  readonly changes: readonly LogicalChange[];
  readonly messages: readonly LogicalMessage[];
}

/** Turns a plugin's messages, one at a time and in order, into whole transactions. */
export interface LogicalDecoder {
  /** One output message (a wal2json document as text, or a pgoutput message); returns a transaction it completes. */
  push(message: Buffer): LogicalTransaction | undefined;
  /** Drops a half-received transaction (the stream restarts from the slot's position). */
  reset(): void;
}
