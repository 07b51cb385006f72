/**
 * Multi partitions: the cartesian product of two or more dimensions, at most one of them time.
 * A key joins one key per dimension with `|`, in dimension (object key) order: `2026-11-24|meta|acct_9`.
 */
import { PartitionError, nearest } from '../errors.js';
import type {
  MultiPartitions,
  PartitionDimension,
  PartitionRange,
  StaticPartitions,
  TimeWindowPartitions,
} from './types.js';

export const KEY_SEPARATOR = '|';

/**
 * Every combination of the given per-dimension keys, as multi keys of `multi`, ordered time-major
 * (ascending time), then by the other dimensions in declared order. Shared with the mappings so
 * that every list of multi keys comes out in one order.
 */
export function combineKeys(
  multi: MultiPartitions,
  keysByDimension: Readonly<Record<string, readonly string[]>>,
): string[] {
  const time = multi.timeDimension;
  const order = time ? [time, ...multi.dimensions.filter((d) => d !== time)] : multi.dimensions;
  let partials: Record<string, string>[] = [{}];
  for (const { name } of order) {
    const keys = keysByDimension[name] ?? [];
    partials = partials.flatMap((p) => keys.map((k) => ({ ...p, [name]: k })));
  }
  return partials.map((p) => multi.join(p));
}

/** Dimensions in object key order; each a time or static partitions definition. */
export function multiPartitions(
  dims: Readonly<Record<string, TimeWindowPartitions | StaticPartitions>>,
): MultiPartitions {
  const dimensions: PartitionDimension[] = Object.entries(dims).map(([name, partitions]) => ({
    name,
    partitions,
  }));
  if (dimensions.length < 2) {
    throw new PartitionError(
      `multiPartitions(): needs at least 2 dimensions, got ${dimensions.length}; use the single partitions definition directly`,
    );
  }
  for (const { name, partitions } of dimensions) {
    if (name === '' || name.includes(KEY_SEPARATOR))
      throw new PartitionError(
        `multiPartitions(): dimension name '${name}' must be non-empty and free of '|'`,
      );
    const type: string = partitions.type;
    if (type !== 'time' && type !== 'static') {
      throw new PartitionError(
        `multiPartitions(): dimension '${name}' is ${type} partitions; dimensions must be time or static`,
      );
    }
  }
  const timeDims = dimensions.filter((d) => d.partitions.type === 'time');
  if (timeDims.length > 1) {
    throw new PartitionError(
      `multiPartitions(): at most one time dimension is allowed, got ${timeDims.map((d) => d.name).join(', ')}`,
    );
  }
  const timeDimension = timeDims[0];
  const names = dimensions.map((d) => d.name);
  const fingerprint = `multi(${dimensions.map((d) => `${d.name}=${d.partitions.fingerprint}`).join(',')})`;

  const split = (key: string): Record<string, string> => {
    const parts = key.split(KEY_SEPARATOR);
    if (parts.length !== dimensions.length) {
      throw new PartitionError(
        `partition '${key}' of ${fingerprint} has ${parts.length} part(s); expected ${dimensions.length} joined with '|': ${names.join('|')}`,
        { key, definition: fingerprint },
      );
    }
    return Object.fromEntries(names.map((n, i) => [n, parts[i] ?? '']));
  };
  const join = (parts: Readonly<Record<string, string>>): string => {
    const extra = Object.keys(parts).filter((n) => !names.includes(n));
    const missing = names.filter((n) => !(n in parts));
    if (extra.length || missing.length) {
      const hint = extra[0] === undefined ? undefined : nearest(extra[0], names);
      throw new PartitionError(
        `join(): ${missing.length ? `missing dimension(s) ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unknown dimension(s) ${extra.join(', ')}${hint ? ` (did you mean '${hint}'?)` : ''}` : ''}; dimensions of ${fingerprint} are ${names.join(', ')}`,
        { definition: fingerprint },
      );
    }
    return names.map((n) => parts[n]).join(KEY_SEPARATOR);
  };
  /** The first dimension that rejects its part, as an error naming it; undefined when the key is valid. */
  const problem = (key: string): PartitionError | undefined => {
    let parts: Record<string, string>;
    try {
      parts = split(key);
    } catch (e) {
      if (e instanceof PartitionError) return e;
      throw e;
    }
    for (const { name, partitions } of dimensions) {
      const part = parts[name] ?? '';
      if (partitions.has(part)) continue;
      try {
        partitions.assertHas(part);
      } catch (e) {
        if (!(e instanceof PartitionError)) throw e;
        const near =
          e.details.nearest === undefined ? undefined : join({ ...parts, [name]: e.details.nearest });
        return new PartitionError(`partition '${key}' of ${fingerprint}: dimension '${name}': ${e.message}`, {
          key,
          definition: fingerprint,
          ...(near === undefined ? {} : { nearest: near }),
        });
      }
    }
    return undefined;
  };

  const multi: MultiPartitions = {
    type: 'multi',
    dimensions,
    timeDimension,
    fingerprint,
    split,
    join,
    has: (key) => problem(key) === undefined,
    assertHas(key) {
      const error = problem(key);
      if (error) throw error;
    },
    /** Range bounds are keys of the time dimension; without a time dimension the range is ignored. */
    keysInRange(range: PartitionRange): string[] {
      const keys: Record<string, readonly string[]> = {};
      for (const { name, partitions } of dimensions) {
        keys[name] = partitions.type === 'time' ? partitions.keysInRange(range) : partitions.values;
      }
      return combineKeys(multi, keys);
    },
  };
  return multi;
}
