/**
 * dimension(name, inner = identity()): map through one dimension of a multi-partitioned side.
 *
 * - multi downstream, single upstream: project the downstream key onto `name`, then apply
 *   `inner`; e.g. date × platform × account reads date-partitioned FX rates.
 * - single downstream, multi upstream: `inner` picks the upstream's `name` keys, combined with
 *   every key of its other dimensions (a time one bounded as in allUpstream()); e.g. a
 *   platform-partitioned asset reads all (date, platform) keys of its platform.
 * - both multi with `name`: both of the above.
 */
import { nearest } from '../errors.js';
import type {
  MultiPartitions,
  PartitionsDefinition,
  StaticPartitions,
  TimeWindowPartitions,
} from '../partitions/types.js';
import { identity } from './identity.js';
import { boundedMultiKeys, defineMapping, describe, downstreamWindowEnd } from './shared.js';
import type { PartitionMapping } from './types.js';

type Def = PartitionsDefinition | undefined;

const findDim = (m: MultiPartitions, name: string): TimeWindowPartitions | StaticPartitions | undefined =>
  m.dimensions.find((d) => d.name === name)?.partitions;

export function dimension(name: string, inner: PartitionMapping = identity()): PartitionMapping {
  const fingerprint = `dimension(${JSON.stringify(name)},${inner.fingerprint})`;
  const label = `dimension('${name}')`;
  /** The definition the inner mapping sees on each side: a multi side is replaced by its `name` dimension. */
  const side = (p: Def): Def => (p?.type === 'multi' ? findDim(p, name) : p);

  const missing = (p: Def, role: 'asset' | 'upstream'): string | undefined => {
    if (p?.type !== 'multi' || findDim(p, name)) return undefined;
    const names = p.dimensions.map((d) => d.name);
    const hint = nearest(name, names);
    return `${label}: the ${role} has no dimension '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; its dimensions are ${names.join(', ')}`;
  };

  return defineMapping({
    type: 'dimension',
    fingerprint,
    incompatibility(down, up) {
      if (down?.type !== 'multi' && up?.type !== 'multi') {
        return `${label} maps through a dimension of a multi-partitioned asset, but neither the ${describe(down, 'asset')} nor the ${describe(up, 'upstream')} is multi-partitioned: use ${inner.fingerprint}`;
      }
      const problem =
        missing(down, 'asset') ?? missing(up, 'upstream') ?? inner.incompatibility(side(down), side(up));
      return problem === undefined || problem.startsWith(label) ? problem : `${label}: ${problem}`;
    },
    keys(key, down, up, context) {
      const projected = down?.type === 'multi' ? (down.split(key)[name] ?? '') : key;
      const innerKeys = inner.upstreamKeys(projected, side(down), side(up), context);
      if (up?.type !== 'multi') return innerKeys;
      return boundedMultiKeys(
        up,
        { [name]: innerKeys },
        downstreamWindowEnd(down, key),
        context,
        fingerprint,
      );
    },
  });
}
