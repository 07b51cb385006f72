import type { RawColumn, RawColumnType } from '../types.js';

/**
 * Schema drift between a raw table and incoming changes, decided on raw column types only:
 * - a new column is added (additive drift, automatic);
 * - a column missing from a full row image was dropped upstream: it stays, NULL from then on (warning);
 * - a type change is fine when the old column holds the new values (anything fits varchar, bigint fits
 *   decimal/double), widened when the new type holds the old values (bigint → decimal), else incompatible.
 */

export type Compatibility = 'same' | 'fits' | 'widen' | 'incompatible';

const FITS: Partial<Record<RawColumnType, readonly RawColumnType[]>> = {
  varchar: ['bigint', 'double', 'decimal', 'boolean', 'timestamp', 'date', 'json'],
  decimal: ['bigint'],
  double: ['bigint', 'decimal'],
  timestamp: ['date'],
};

const WIDENS: Partial<Record<RawColumnType, readonly RawColumnType[]>> = {
  bigint: ['decimal', 'double'],
  decimal: ['double'],
  date: ['timestamp'],
};

export function compatibility(existing: RawColumnType, incoming: RawColumnType): Compatibility {
  if (existing === incoming) return 'same';
  if (FITS[existing]?.includes(incoming)) return 'fits';
  if (WIDENS[existing]?.includes(incoming)) return 'widen';
  return 'incompatible';
}

export interface DriftPlan {
  readonly add: readonly RawColumn[];
  readonly widen: readonly {
    readonly name: string;
    readonly from: RawColumnType;
    readonly to: RawColumnType;
  }[];
  readonly incompatible: readonly {
    readonly name: string;
    readonly from: RawColumnType;
    readonly to: RawColumnType;
  }[];
  /** Existing columns the incoming full image lacks (only computed when `fullImage`). */
  readonly dropped: readonly string[];
}

export function planDrift(
  existing: readonly RawColumn[],
  incoming: readonly RawColumn[],
  fullImage = false,
): DriftPlan {
  const byName = new Map(existing.map((c) => [c.name, c.type]));
  const add: RawColumn[] = [];
  const widen: { name: string; from: RawColumnType; to: RawColumnType }[] = [];
  const incompatible: { name: string; from: RawColumnType; to: RawColumnType }[] = [];
  for (const c of incoming) {
    const old = byName.get(c.name);
    if (old === undefined) {
      if (!add.some((a) => a.name === c.name)) add.push(c);
      continue;
    }
    const verdict = compatibility(old, c.type);
    if (verdict === 'widen') widen.push({ name: c.name, from: old, to: c.type });
    else if (verdict === 'incompatible') incompatible.push({ name: c.name, from: old, to: c.type });
  }
  const seen = new Set(incoming.map((c) => c.name));
  const dropped = fullImage
    ? existing.filter((c) => !c.name.startsWith('_') && !seen.has(c.name)).map((c) => c.name)
    : [];
  return { add, widen, incompatible, dropped };
}

/** Merges column lists of several changes (first type wins, later differing types are checked by planDrift). */
export function unionColumns(lists: Iterable<readonly RawColumn[]>): RawColumn[] {
  const out = new Map<string, RawColumn>();
  for (const list of lists) for (const c of list) if (!out.has(c.name)) out.set(c.name, c);
  return [...out.values()];
}
