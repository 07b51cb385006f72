/**
 * Compute functions: an asset whose partition is produced by TypeScript ("an asset is a function", as in
 * Dagster) instead of SQL. The function reads upstream tables through a read-only `query` and returns typed
 * rows; the materialize activity replaces the partition with them. Types only: the DSL does no I/O.
 */

/** A value of a computed row; timestamps as ISO-8601 UTC strings, dates as YYYY-MM-DD. */
export type ComputeValue = string | number | boolean | null;

/** A value read by `query` (JSON-safe; integers beyond 2^53 come back as strings). */
export type QueryValue = null | boolean | number | string | QueryValue[] | { [key: string]: QueryValue };

/** Column types a compute function declares (engines map them to their own spellings). */
export const COMPUTE_COLUMN_TYPES = ['string', 'integer', 'double', 'boolean', 'timestamp', 'date'] as const;
export type ComputeColumnType = (typeof COMPUTE_COLUMN_TYPES)[number];

export interface ComputeColumn {
  readonly name: string;
  readonly type: ComputeColumnType;
}

export interface ComputeContext {
  readonly assetKey: string;
  readonly partitionKey: string;
  /** The partition's time window (ISO-8601 UTC instants) when it has one. */
  readonly window?: { readonly start: string; readonly end: string };
  readonly dimensions?: Readonly<Record<string, string>>;
  /** One read-only SELECT on the asset's engine (upstream tables by their keys, as in asset SQL). */
  query(sql: string): Promise<Record<string, QueryValue>[]>;
}

/** What the function returns: the partition's rows, keyed by column name (missing keys are NULL). */
export interface ComputeResult {
  readonly columns: readonly ComputeColumn[];
  readonly rows: readonly Readonly<Record<string, ComputeValue | undefined>>[];
}

export type ComputeFn = (ctx: ComputeContext) => Promise<ComputeResult>;
