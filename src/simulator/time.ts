import { DateTime } from 'luxon';

/**
 * Simulated time is an integer count of microseconds since the epoch (UTC, safe as a JS number until
 * year 2255). Calendar work (day starts, dates, hour keys) goes through luxon; inside one UTC day the
 * clock fields are plain integer division, which is exact in UTC (no DST).
 */

export const US_PER_MS = 1_000;
export const US_PER_SEC = 1_000_000;
export const US_PER_MIN = 60 * US_PER_SEC;
export const US_PER_HOUR = 60 * US_PER_MIN;
export const US_PER_DAY = 24 * US_PER_HOUR;

const dateCache = new Map<number, string>();

/** Start of the UTC day `date` (`YYYY-MM-DD`). */
export function dayStartUs(date: string): number {
  const dt = DateTime.fromISO(date, { zone: 'utc' });
  if (!dt.isValid) throw new Error(`simulator: not an ISO date ${JSON.stringify(date)}`);
  return dt.startOf('day').toMillis() * US_PER_MS;
}

/** `YYYY-MM-DD` of the UTC day holding `us`. */
export function utcDate(us: number): string {
  const day = Math.floor(us / US_PER_DAY);
  let s = dateCache.get(day);
  if (s === undefined) {
    s = DateTime.fromMillis(day * 86_400_000, { zone: 'utc' }).toISODate() as string;
    dateCache.set(day, s);
  }
  return s;
}

/** `YYYY-MM-DD` `n` days after `date`. */
export function addDays(date: string, n: number): string {
  return DateTime.fromISO(date, { zone: 'utc' }).plus({ days: n }).toISODate() as string;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `HH:MM:SS` and the sub-second micros of `us` in its UTC day. */
function clock(us: number): { hms: string; micros: number } {
  const inDay = us - Math.floor(us / US_PER_DAY) * US_PER_DAY;
  const sec = Math.floor(inDay / US_PER_SEC);
  const hms = `${pad(Math.floor(sec / 3600))}:${pad(Math.floor(sec / 60) % 60)}:${pad(sec % 60)}`;
  return { hms, micros: inDay % US_PER_SEC };
}

/** `2026-11-24T13:05:00.123Z` (milliseconds, truncated). */
export function isoMillis(us: number): string {
  const c = clock(us);
  return `${utcDate(us)}T${c.hms}.${pad(Math.floor(c.micros / 1000), 3)}Z`;
}

/** PostgreSQL's text of a timestamptz in a UTC session with `digits` fraction digits: `2026-11-24 13:05:00.123456+00`. */
export function pgTimestamptz(us: number, digits = 6): string {
  return `${pgTimestamp(us, digits)}+00`;
}

/** PostgreSQL's text of a timestamp without time zone (trailing zero fraction digits dropped, as PG prints). */
export function pgTimestamp(us: number, digits = 6): string {
  const c = clock(us);
  const frac = pad(c.micros, 6).slice(0, digits).replace(/0+$/, '');
  return `${utcDate(us)} ${c.hms}${frac ? `.${frac}` : ''}`;
}

/** Hour key of `us`: `2026-11-24T13`. */
export function hourKey(us: number): string {
  return `${utcDate(us)}T${clock(us).hms.slice(0, 2)}`;
}

/** Truncates `us` to `digits` fraction digits (timestamp(3) columns hold milliseconds). */
export function truncUs(us: number, digits: number): number {
  const unit = 10 ** (6 - digits);
  return Math.floor(us / unit) * unit;
}
