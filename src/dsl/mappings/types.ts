import type { PartitionsDefinition } from '../partitions/types.js';

/**
 * Which upstream partitions one downstream partition reads. Upstream/downstream may be undefined
 * (unpartitioned asset), whose only key is UNPARTITIONED.
 */
export interface PartitionMapping {
  readonly type: 'identity' | 'lookback' | 'hourly_to_daily' | 'daily_to_hourly' | 'all_upstream' | 'dimension';
  /** Stable text for code versions. */
  readonly fingerprint: string;
  /** Upstream keys read by `downstreamKey`, ascending; keys before the upstream's start are omitted. */
  upstreamKeys(
    downstreamKey: string,
    downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
  ): string[];
  /** A sentence a person can act on when the mapping cannot connect these two definitions; undefined when it can. */
  incompatibility(
    downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
  ): string | undefined;
}
