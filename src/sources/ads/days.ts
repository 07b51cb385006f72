import { DateTime, IANAZone } from 'luxon';

/**
 * Account-local days. Platforms cut reporting days in the ad account's own timezone, so "yesterday", the
 * restatement window and the watermark are all computed in that zone (luxon), never in UTC or server time.
 */

export function assertZone(zone: string): string {
  if (!IANAZone.isValidZone(zone)) throw new Error(`unknown IANA timezone: ${JSON.stringify(zone)}`);
  return zone;
}

/** Today's date in `zone` at instant `now`. */
export function todayIn(zone: string, now: DateTime): string {
  return now.setZone(assertZone(zone)).toISODate() as string;
}

export function addDays(day: string, n: number): string {
  return DateTime.fromISO(day, { zone: 'utc' }).plus({ days: n }).toISODate() as string;
}

/** Days `from..to` inclusive; empty when from > to. */
export function dayRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

export interface DaysToPullInput {
  /** Today in the account's timezone. */
  readonly today: string;
  readonly restatementDays: number;
  /** Latest day already landed; days after it up to yesterday are caught up, whatever the window. */
  readonly lastPulledDay?: string;
  /** First day ever to pull (backfill start) when nothing was landed yet; default: the window's start. */
  readonly firstDay?: string;
  /** Also pull today's (partial) day; default false: only closed days. */
  readonly includeToday?: boolean;
}

/**
 * The days a run (re)pulls: the restatement window's closed days `[today - N, yesterday]`, extended back to
 * the day after the last one landed (gaps after an outage) or to `firstDay` on the first run.
 */
export function daysToPull(input: DaysToPullInput): string[] {
  const yesterday = addDays(input.today, -1);
  const last = input.includeToday ? input.today : yesterday;
  let from = addDays(input.today, -Math.max(0, input.restatementDays));
  if (input.lastPulledDay !== undefined) {
    const next = addDays(input.lastPulledDay, 1);
    if (next < from) from = next;
  } else if (input.firstDay !== undefined && input.firstDay < from) {
    from = input.firstDay;
  }
  return dayRange(from, last);
}

/** `[start, end)` of an account-local day as UTC ISO instants (X's stats endpoint takes instants). */
export function dayBoundsUtc(day: string, zone: string): { start: string; end: string } {
  const start = DateTime.fromISO(day, { zone: assertZone(zone) }).startOf('day');
  const end = start.plus({ days: 1 });
  return {
    start: start.toUTC().toISO({ suppressMilliseconds: true }) as string,
    end: end.toUTC().toISO({ suppressMilliseconds: true }) as string,
  };
}

/** Splits `days` (sorted, consecutive) into runs of at most `size` days. */
export function chunkDays(days: readonly string[], size: number): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (let i = 0; i < days.length; i += size) {
    const part = days.slice(i, i + size);
    out.push({ from: part[0] as string, to: part[part.length - 1] as string });
  }
  return out;
}
