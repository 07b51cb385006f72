/**
 * Mappings that pair partitions "in step": identity, lookback, rollup and containing. A rule says
 * how one time key maps; this file extends it to the other shapes the same way for all of them:
 * static dimensions map by identity, multi × multi maps dimension by dimension (matched by
 * name), and mixed shapes get a sentence pointing at the mapping that fits.
 */
import type { PartitionsDefinition, StaticPartitions, TimeWindowPartitions } from '../partitions/types.js';
import { combineKeys } from '../partitions/multi.js';
import { UNPARTITIONED } from '../partitions/types.js';
import { defineMapping, describe } from './shared.js';
import type { PartitionMapping } from './types.js';

type Def = PartitionsDefinition | undefined;
type Single = TimeWindowPartitions | StaticPartitions;

export interface TimeRule {
  /** Also the fingerprint, e.g. 'lookback(6)'. */
  readonly name: string;
  /** Only identity also connects static and unpartitioned definitions. */
  readonly timeOnly: boolean;
  problem(down: TimeWindowPartitions, up: TimeWindowPartitions): string | undefined;
  /** Ascending upstream keys for a valid downstream key; may be empty before the upstream's start. */
  keys(key: string, down: TimeWindowPartitions, up: TimeWindowPartitions): string[];
}

/** `inMulti`: a static dimension beside a time one maps by identity whatever the rule. */
function pairProblem(rule: TimeRule, down: Single, up: Single, inMulti = false): string | undefined {
  if (down.type === 'time' && up.type === 'time') return rule.problem(down, up);
  const from = `${rule.name} mapping from ${describe(down, 'asset')} to ${describe(up, 'upstream')}`;
  if (down.type !== up.type)
    return `${from}: one side is time-partitioned and the other static; use allUpstream()`;
  if (rule.timeOnly && !inMulti) return `${from}: ${rule.name} needs time partitions; use identity()`;
  const upValues = new Set((up as StaticPartitions).values);
  const missing = (down as StaticPartitions).values.filter((v) => !upValues.has(v));
  return missing.length === 0
    ? undefined
    : `${from}: the upstream lacks ${missing.join(', ')}; add them upstream, or use allUpstream()`;
}

function problem(rule: TimeRule, down: Def, up: Def): string | undefined {
  const from = `${rule.name} mapping from ${describe(down, 'asset')} to ${describe(up, 'upstream')}`;
  if (down === undefined && up === undefined)
    return rule.timeOnly ? `${from}: needs time partitions; use identity()` : undefined;
  if (down === undefined || up === undefined) return `${from}: use allUpstream()`;
  if (down.type === 'multi' && up.type === 'multi') {
    const [dn, un] = [down.dimensions.map((d) => d.name), up.dimensions.map((d) => d.name)];
    if (dn.length !== un.length || dn.some((n) => !un.includes(n))) {
      const shared = dn.filter((n) => un.includes(n));
      const hint = shared.length
        ? `use dimension('${shared[0]}') to read by one shared dimension, or allUpstream()`
        : 'use allUpstream()';
      return `${from}: the dimensions differ (asset: ${dn.join(', ')}; upstream: ${un.join(', ')}); ${hint}`;
    }
    if (rule.timeOnly && !down.timeDimension)
      return `${from}: ${rule.name} needs a time dimension; use identity()`;
    for (const d of down.dimensions) {
      const u = up.dimensions.find((x) => x.name === d.name);
      const p = u && pairProblem(rule, d.partitions, u.partitions, true);
      if (p !== undefined) return `dimension '${d.name}': ${p}`;
    }
    return undefined;
  }
  if (down.type === 'multi' || up.type === 'multi') {
    // One side is multi: a projection onto its matching dimension is what the user wants.
    const [multi, single] =
      down.type === 'multi' ? [down, up as Single] : [up as Extract<Def, { type: 'multi' }>, down as Single];
    const fit = multi.dimensions.find((d) =>
      down.type === 'multi'
        ? pairProblem(rule, d.partitions, single) === undefined
        : pairProblem(rule, single, d.partitions) === undefined,
    );
    const inner = rule.name === 'identity()' ? '' : `, ${rule.name}`;
    return fit
      ? `${from}: use dimension('${fit.name}'${inner}) to map through the '${fit.name}' dimension`
      : `${from}: use dimension(name${inner}) with one of ${multi.dimensions.map((d) => d.name).join(', ')}, or allUpstream()`;
  }
  return pairProblem(rule, down, up);
}

function keys(rule: TimeRule, key: string, down: Def, up: Def): string[] {
  if (down === undefined || up === undefined) return [UNPARTITIONED];
  if (down.type === 'multi' && up.type === 'multi') {
    const parts = down.split(key);
    const byDim: Record<string, string[]> = {};
    for (const d of down.dimensions) {
      const u = up.dimensions.find((x) => x.name === d.name)?.partitions;
      const part = parts[d.name] ?? '';
      byDim[d.name] =
        d.partitions.type === 'time' && u?.type === 'time' ? rule.keys(part, d.partitions, u) : [part];
    }
    return combineKeys(up, byDim);
  }
  if (down.type === 'time' && up.type === 'time') return rule.keys(key, down, up);
  return [key]; // static → static identity (compatibility guarantees the upstream has it)
}

export function alignedMapping(type: PartitionMapping['type'], rule: TimeRule): PartitionMapping {
  return defineMapping({
    type,
    fingerprint: rule.name,
    incompatibility: (down, up) => problem(rule, down, up),
    keys: (key, down, up) => keys(rule, key, down, up),
  });
}
