/**
 * Error classes shared by the DSL, and the "did you mean" helper used in their messages.
 * Pure: no I/O, no clock.
 */

/** Any mistake in a definition written with the DSL; the message says what is wrong and how to fix it. */
export class DslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Structured facts behind a PartitionError, for callers that want more than the message. */
export interface PartitionErrorDetails {
  /** The offending key or option value. */
  readonly key?: string;
  /** Fingerprint of the partitions definition (or mapping) involved. */
  readonly definition?: string;
  /** The nearest valid key, when there is one. */
  readonly nearest?: string;
}

/** A bad partition key, range, partitions option or mapping. */
export class PartitionError extends DslError {
  constructor(
    message: string,
    readonly details: PartitionErrorDetails = {},
  ) {
    super(message);
  }
}

/** Levenshtein distance (insert/delete/substitute, each cost 1), one row at a time. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The option closest to `candidate` (case-insensitive), for "did you mean" hints; undefined when
 * nothing is close enough to be a plausible typo (distance above 40% of the candidate, min 2).
 * Ties go to the earlier option, so results are deterministic.
 */
export function nearest(candidate: string, options: readonly string[]): string | undefined {
  const wanted = candidate.toLowerCase();
  const limit = Math.max(2, Math.ceil(wanted.length * 0.4));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const option of options) {
    const d = distance(wanted, option.toLowerCase());
    if (d < bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
