/** Static partitions: a fixed list of keys (e.g. ads platforms), in the declared order. */
import { PartitionError, nearest } from '../errors.js';
import type { PartitionRange, StaticPartitions } from './types.js';

/** Shown in full in error messages only when short enough to read. */
const LISTABLE = 12;

/**
 * A fixed set of keys. Values must be non-empty, unique and free of `|` (the multi-partition key
 * separator). Their declared order is the partition order: `keysInRange` returns all of them in it.
 */
export function staticPartitions(values: readonly string[]): StaticPartitions {
  if (values.length === 0) throw new PartitionError('staticPartitions(): needs at least one value');
  const seen = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value === '') {
      throw new PartitionError(
        `staticPartitions(): values must be non-empty strings; got ${JSON.stringify(value)}`,
      );
    }
    if (value.includes('|')) {
      throw new PartitionError(
        `staticPartitions(): value '${value}' contains '|', which separates multi-partition keys`,
        { key: value },
      );
    }
    if (seen.has(value))
      throw new PartitionError(`staticPartitions(): value '${value}' is listed twice`, { key: value });
    seen.add(value);
  }
  const frozen = Object.freeze([...values]);
  const fingerprint = `static(${JSON.stringify(frozen)})`;
  return {
    type: 'static',
    values: frozen,
    fingerprint,
    has: (key) => seen.has(key),
    assertHas(key) {
      if (seen.has(key)) return;
      const hint = nearest(key, frozen);
      const listed = frozen.length <= LISTABLE ? `; values are ${frozen.join(', ')}` : '';
      throw new PartitionError(
        `partition '${key}' is not a key of ${frozen.length <= LISTABLE ? fingerprint : 'static partitions'}${hint ? ` (did you mean '${hint}'?)` : ''}${listed}`,
        hint === undefined
          ? { key, definition: fingerprint }
          : { key, definition: fingerprint, nearest: hint },
      );
    },
    // Static keys have no time component: every range covers all of them.
    keysInRange: (_range: PartitionRange) => [...frozen],
  };
}
