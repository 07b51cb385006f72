import type { DateTime } from 'luxon';
import type { PartitionRange, PartitionsDefinition } from '../partitions/types.js';

/**
 * What the caller (the planner) knows beyond the two definitions. Needed only when a time upstream
 * is read by a downstream partition without a time window (unpartitioned or static), e.g.
 * allUpstream() from an unpartitioned mart over a daily fact: the upstream keys are then
 * bounded by `range` (keys of the upstream's time dimension) or else by what exists at `now`.
 */
export interface MappingContext {
  readonly range?: PartitionRange;
  readonly now?: DateTime;
}

/**
 * Which upstream partitions one downstream partition reads. Upstream/downstream may be undefined
 * (unpartitioned asset), whose only key is UNPARTITIONED.
 */
export interface PartitionMapping {
  readonly type:
    'identity' | 'lookback' | 'hourly_to_daily' | 'daily_to_hourly' | 'all_upstream' | 'dimension';
  /** Stable text for code versions. */
  readonly fingerprint: string;
  /** Upstream keys read by `downstreamKey`, ascending; keys before the upstream's start are omitted. */
  upstreamKeys(
    downstreamKey: string,
    downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
    context?: MappingContext,
  ): string[];
  /** A sentence a person can act on when the mapping cannot connect these two definitions; undefined when it can. */
  incompatibility(
    downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
  ): string | undefined;
}
