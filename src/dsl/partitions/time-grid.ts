/**
 * Index arithmetic behind time partitions. Window i (any integer; 0 is the definition's first
 * partition, negatives lie before it) has a start instant, and window i ends where i + 1 starts,
 * so windows tile time by construction.
 *
 * - hourly: window i starts at `start + i hours` of absolute time, so every window is a true
 *   60 minutes, including on DST days. Keys are the local wall-clock hour `yyyy-MM-ddTHH`. The
 *   spring-forward hour never starts a window, so its key does not exist. A fall-back hour occurs
 *   twice: the first occurrence keeps the plain key and the later one gets `+1` (`+2` for a third,
 *   which no current zone has), e.g. New York 2026-11-01: `T01` is 05:00Z (EDT) and `T01+1` is
 *   06:00Z (EST). Plain keys stay the norm, and since `T01` < `T01+1` < `T02` as strings, sorting
 *   the keys as text also sorts them by time.
 * - daily / weekly / monthly: calendar arithmetic on local dates; window i starts at local
 *   midnight of its date (or the first instant of the day, where midnight is skipped), so DST days
 *   last 23 or 25 hours. Weeks are ISO weeks and are keyed by their Monday.
 */
import { DateTime, IANAZone } from 'luxon';
import { PartitionError } from '../errors.js';
import type { TimeCadence } from './types.js';

/** Why a key is not on the grid, and the nearest key that is (when one is obvious). */
export interface KeyProblem {
  readonly reason: string;
  readonly nearest?: string;
}

export interface TimeGrid {
  /** Human-readable key format, for messages. */
  readonly pattern: string;
  startOf(i: number): DateTime;
  /** Index of the window containing `instant`, possibly off by one; callers settle it. */
  indexNear(instant: DateTime): number;
  label(i: number): string;
  /** Index of a well-formed, existing key (any sign); undefined otherwise. */
  parse(key: string): number | undefined;
  /** Only meaningful when `parse` returned undefined. */
  problem(key: string): KeyProblem;
}

const HOUR_FORMAT = "yyyy-MM-dd'T'HH";
const HOUR_KEY = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(?:\+([1-9]))?$/;

const HOUR_MS = 3_600_000;

/**
 * Every instant whose wall clock in `zone` reads exactly y-m-d h:00, ascending (0, 1 or 2 of them).
 * Hours are absolute, so stepping by them is exact millisecond arithmetic; luxon does the zone math
 * (and is several times faster this way than with `plus({ hours })` in a zone).
 */
function occurrences(zone: IANAZone, y: number, m: number, d: number, h: number): DateTime[] {
  const guess = DateTime.fromObject({ year: y, month: m, day: d, hour: h }, { zone });
  if (!guess.isValid) return [];
  const ms = guess.toMillis();
  // Fast path: no offset change within ±3 hours, so the guess is the one occurrence.
  if (
    guess.hour === h &&
    zone.offset(ms - 3 * HOUR_MS) === guess.offset &&
    zone.offset(ms + 3 * HOUR_MS) === guess.offset
  ) {
    return [guess];
  }
  // A DST shift is at most 2 hours (Antarctica/Troll), so any repeat is within ±3 hours of the guess.
  const found: DateTime[] = [];
  for (let k = -3; k <= 3; k++) {
    const t = DateTime.fromMillis(ms + k * HOUR_MS, { zone });
    if (t.year === y && t.month === m && t.day === d && t.hour === h && t.minute === 0) found.push(t);
  }
  return found;
}

export function hourlyGrid(start: DateTime, zoneName: string): TimeGrid {
  const zone = IANAZone.create(zoneName);
  const startMs = start.toMillis();
  const startOf = (i: number): DateTime => DateTime.fromMillis(startMs + i * HOUR_MS, { zone });
  const indexOf = (t: DateTime): number => (t.toMillis() - startMs) / HOUR_MS;
  const label = (i: number): string => {
    const t = startOf(i);
    if (t.minute !== 0) {
      throw new PartitionError(
        `hourly partitions in ${zoneName}: ${t.toISO() ?? ''} is not on a local hour; this timezone shifts by part of an hour, which hourly keys cannot name`,
      );
    }
    const base = t.toFormat(HOUR_FORMAT);
    // Fast path: no offset change near t means its wall-clock hour cannot repeat.
    const ms = t.toMillis();
    if (zone.offset(ms - 3 * HOUR_MS) === t.offset && zone.offset(ms + 3 * HOUR_MS) === t.offset) return base;
    const position = occurrences(zone, t.year, t.month, t.day, t.hour).findIndex((o) => o.toMillis() === ms);
    return position > 0 ? `${base}+${position}` : base;
  };
  const parse = (key: string): number | undefined => {
    const m = HOUR_KEY.exec(key);
    if (!m) return undefined;
    const [y, mo, d, h] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
    const t = occurrences(zone, y, mo, d, h)[Number(m[5] ?? 0)];
    if (t === undefined) return undefined;
    // The regex admits one spelling per wall-clock hour and suffix, so no round-trip check is needed.
    const i = indexOf(t);
    return Number.isInteger(i) ? i : undefined;
  };
  return {
    pattern: 'yyyy-MM-ddTHH (local hour; a repeated fall-back hour is suffixed +1)',
    startOf,
    indexNear: (instant) => Math.floor(indexOf(instant)),
    label,
    parse,
    problem(key) {
      const m = HOUR_KEY.exec(key);
      if (!m) return { reason: `expected yyyy-MM-ddTHH, e.g. ${label(0)}` };
      const [y, mo, d, h] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
      const guess = DateTime.fromObject({ year: y, month: mo, day: d, hour: h }, { zone });
      if (!guess.isValid)
        return { reason: `not a valid date and hour (${guess.invalidExplanation ?? 'invalid'})` };
      const found = occurrences(zone, y, mo, d, h);
      if (found.length === 0) {
        // luxon moves a skipped wall-clock time forward, onto the hour after the gap.
        return {
          reason: `${key} does not exist in ${zoneName}: clocks skip that hour (spring forward)`,
          nearest: label(Math.floor(indexOf(guess))),
        };
      }
      const base = key.replace(/\+\d$/, '');
      return {
        reason: `${String(h).padStart(2, '0')}:00 occurs ${found.length === 1 ? 'once' : `${found.length} times`} on ${base.slice(0, 10)} in ${zoneName}`,
        nearest: found.length === 1 ? base : `${base}+${found.length - 1}`,
      };
    },
  };
}

const CALENDAR = {
  daily: { unit: 'days', format: 'yyyy-MM-dd', re: /^\d{4}-\d{2}-\d{2}$/ },
  weekly: { unit: 'weeks', format: 'yyyy-MM-dd', re: /^\d{4}-\d{2}-\d{2}$/ },
  monthly: { unit: 'months', format: 'yyyy-MM', re: /^\d{4}-\d{2}$/ },
} as const;

/** Daily, weekly and monthly grids: pure date arithmetic on UTC-zoned dates, then placed in `zone`. */
export function calendarGrid(
  cadence: Exclude<TimeCadence, 'hourly'>,
  start: DateTime,
  zone: string,
): TimeGrid {
  const { unit, format, re } = CALENDAR[cadence];
  const first = DateTime.fromObject(
    { year: start.year, month: start.month, day: start.day },
    { zone: 'utc' },
  );
  const date = (i: number): DateTime => first.plus({ [unit]: i });
  const indexOfDate = (d: DateTime): number => {
    if (cadence === 'monthly') return (d.year - first.year) * 12 + (d.month - first.month);
    const days = Math.round(d.diff(first, 'days').days);
    return cadence === 'weekly' ? Math.floor(days / 7) : days;
  };
  const readDate = (key: string): DateTime | undefined => {
    if (!re.test(key)) return undefined;
    const [year, month, day] = key.split('-').map(Number);
    const d = DateTime.fromObject({ year, month, day: day ?? 1 }, { zone: 'utc' });
    return d.isValid ? d : undefined;
  };
  return {
    pattern: cadence === 'weekly' ? 'yyyy-MM-dd of a Monday' : format,
    startOf(i) {
      const d = date(i);
      return DateTime.fromObject({ year: d.year, month: d.month, day: d.day }, { zone });
    },
    indexNear(instant) {
      const local = instant.setZone(zone);
      return indexOfDate(
        DateTime.fromObject({ year: local.year, month: local.month, day: local.day }, { zone: 'utc' }),
      );
    },
    label: (i) => date(i).toFormat(format),
    parse(key) {
      const d = readDate(key);
      if (d === undefined || (cadence === 'weekly' && d.weekday !== 1)) return undefined;
      return indexOfDate(d);
    },
    problem(key) {
      const d = readDate(key);
      if (d === undefined) return { reason: `expected ${format}, e.g. ${date(0).toFormat(format)}` };
      return {
        reason: `weekly keys are Mondays (ISO weeks) and ${key} is a ${d.toFormat('cccc')}`,
        nearest: d.startOf('week').toFormat(format),
      };
    },
  };
}

/** Bounded memo: planners ask for the same keys and windows over and over, and luxon zone math is slow. */
function memo<K, V>(f: (k: K) => V, limit = 50_000): (k: K) => V {
  const cache = new Map<K, V>();
  return (k) => {
    if (cache.has(k)) return cache.get(k) as V;
    const v = f(k);
    if (cache.size >= limit) cache.clear();
    cache.set(k, v);
    return v;
  };
}

/** The same grid with its pure functions memoized. */
export function cached(grid: TimeGrid): TimeGrid {
  const parse = memo((key: string) => grid.parse(key));
  return {
    pattern: grid.pattern,
    startOf: memo((i: number) => grid.startOf(i)),
    indexNear: (instant) => grid.indexNear(instant),
    label: memo((i: number) => grid.label(i)),
    parse,
    problem: (key) => grid.problem(key),
  };
}
