import type { DateTime } from 'luxon';

/** Inclusive range of partition keys of one partitions definition, e.g. { from: '2026-11-01', to: '2026-11-24' }. */
export interface PartitionRange {
  readonly from: string;
  readonly to: string;
}

/** Half-open time window [start, end) of a time partition, in the partitions' timezone. */
export interface TimeWindow {
  readonly start: DateTime;
  readonly end: DateTime;
}

export type TimeCadence = 'hourly' | 'daily' | 'weekly' | 'monthly';

interface PartitionsBase {
  /** Stable text that changes exactly when the set of keys or their meaning changes; feeds code versions. */
  readonly fingerprint: string;
  /** True when the key is well formed and inside the definition's bounds. */
  has(key: string): boolean;
  /** Throws a PartitionError naming the key, the definition and the nearest valid key when `has` is false. */
  assertHas(key: string): void;
  /**
   * Keys whose time component lies in the inclusive range (static/other dimensions: all values),
   * in ascending order. `range` bounds for multi partitions are keys of its time dimension.
   */
  keysInRange(range: PartitionRange): string[];
}

/** hourly / daily / weekly / monthly windows cut in an IANA timezone (luxon). */
export interface TimeWindowPartitions extends PartitionsBase {
  readonly type: 'time';
  readonly cadence: TimeCadence;
  readonly timezone: string;
  /** Start of the first partition, in `timezone`. */
  readonly start: DateTime;
  /** Partitions whose window has not closed yet that still count as existing (Dagster's end_offset). */
  readonly endOffset: number;
  /** The first key: the window that opens at `start`. */
  readonly firstKey: string;
  /** Position of a key counted from the first partition (0); throws a PartitionError when `has(key)` is false. */
  indexOf(key: string): number;
  window(key: string): TimeWindow;
  /** Key of the partition whose window contains the instant. */
  keyAt(instant: DateTime): string;
  /** Newest partition that exists at `now` (closed windows, shifted by endOffset); undefined before start. */
  lastKey(now: DateTime): string | undefined;
  /** Key `n` partitions after (n > 0) or before (n < 0) `key`. */
  shift(key: string, n: number): string;
}

/** A fixed list of keys, e.g. ads platforms. */
export interface StaticPartitions extends PartitionsBase {
  readonly type: 'static';
  readonly values: readonly string[];
}

export interface PartitionDimension {
  readonly name: string;
  readonly partitions: TimeWindowPartitions | StaticPartitions;
}

/** Any number of dimensions; a key joins one key of each dimension with `|` in dimension order. */
export interface MultiPartitions extends PartitionsBase {
  readonly type: 'multi';
  readonly dimensions: readonly PartitionDimension[];
  /** The single time dimension, if any (at most one is allowed). */
  readonly timeDimension: PartitionDimension | undefined;
  split(key: string): Record<string, string>;
  join(parts: Record<string, string>): string;
}

export type PartitionsDefinition = TimeWindowPartitions | StaticPartitions | MultiPartitions;

/** The key an unpartitioned asset's single materialization is recorded under. */
export const UNPARTITIONED = '';
