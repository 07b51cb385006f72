/**
 * allUpstream(): each downstream partition reads every upstream partition "so far".
 *
 * - unpartitioned upstream: [''];  static upstream: every value.
 * - time upstream (or a multi upstream's time dimension): from the upstream's first key to the
 *   newest one whose window ends at or before the end of the downstream partition's window, so a
 *   cumulative daily asset on 2026-11-24 reads everything up to that day and nothing later.
 *   A downstream without a time window (unpartitioned, static) has no such end: the caller passes
 *   `context.range` (upstream keys) or `context.now` (what exists now); otherwise it is an error.
 *   The DSL reads no clock, so this choice stays with the planner.
 */
import { UNPARTITIONED } from '../partitions/types.js';
import { boundedMultiKeys, boundedTimeKeys, defineMapping, downstreamWindowEnd } from './shared.js';
import type { PartitionMapping } from './types.js';

export function allUpstream(): PartitionMapping {
  const fingerprint = 'allUpstream()';
  return defineMapping({
    type: 'all_upstream',
    fingerprint,
    // Any pair connects; a missing time bound can only be known with the context, in upstreamKeys.
    incompatibility: () => undefined,
    keys(key, down, up, context) {
      if (up === undefined) return [UNPARTITIONED];
      if (up.type === 'static') return [...up.values];
      const end = downstreamWindowEnd(down, key);
      if (up.type === 'time') return boundedTimeKeys(up, end, context, fingerprint);
      return boundedMultiKeys(up, {}, end, context, fingerprint);
    },
  });
}
