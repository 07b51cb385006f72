/**
 * Time-window partitions: `hourly`, `daily`, `weekly`, `monthly`, cut in an IANA timezone.
 * The grid arithmetic (and the DST design: true 60-minute hours, `+1` for a repeated fall-back
 * hour, 23/25-hour days) lives in time-grid.ts; this file validates options and turns indices
 * into the public API. Time partitions have no end: `has` accepts any key from the first one on,
 * because the DSL reads no clock; `lastKey(now)` is how callers learn what exists today.
 */
import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { PartitionError, nearest } from '../errors.js';
import { cached, calendarGrid, hourlyGrid, type TimeGrid } from './time-grid.js';
import type { PartitionRange, TimeCadence, TimeWindow, TimeWindowPartitions } from './types.js';

const optionsSchema = z.strictObject({
  /** ISO date or date-time, read in `timezone`; must be the start of a window. */
  start: z.string().min(1, 'start must be an ISO date such as 2026-01-01'),
  timezone: z.string().default('UTC'),
  endOffset: z.number().int('endOffset must be a whole number of partitions').default(0),
});

export type TimePartitionsOptions = z.input<typeof optionsSchema>;

function fail(cadence: TimeCadence, message: string, key?: string): never {
  throw new PartitionError(`${cadence}(): ${message}`, key === undefined ? {} : { key });
}

function readOptions(cadence: TimeCadence, input: unknown): z.output<typeof optionsSchema> {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      const bad = issue.keys[0] ?? '';
      const hint = nearest(bad, Object.keys(optionsSchema.shape));
      fail(
        cadence,
        `unknown option '${bad}'${hint ? ` (did you mean '${hint}'?)` : ''}; options are start, timezone, endOffset`,
      );
    }
    fail(cadence, `${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`);
  }
  const tz = parsed.data.timezone;
  if (!IANAZone.isValidZone(tz)) {
    const hint = nearest(tz, Intl.supportedValuesOf('timeZone'));
    fail(cadence, `timezone '${tz}' is not an IANA timezone${hint ? ` (did you mean '${hint}'?)` : ''}`, tz);
  }
  return parsed.data;
}

/** The start must open a window; say which nearby starts would. */
function checkStart(cadence: TimeCadence, start: DateTime, raw: string): void {
  const day = start.toFormat('yyyy-MM-dd');
  if (cadence === 'hourly') {
    if (!start.equals(start.startOf('hour')))
      fail(
        cadence,
        `start '${raw}' is not on a whole hour; use '${start.toFormat("yyyy-MM-dd'T'HH':00'")}'`,
        raw,
      );
    // Hour keys name wall-clock hours, which only works where offsets differ by whole hours.
    const [jan, jul] = [1, 7].map(
      (month) => DateTime.fromObject({ year: start.year, month }, { zone: start.zone }).offset,
    );
    if ((jan ?? 0) % 60 !== (jul ?? 0) % 60)
      fail(
        cadence,
        `timezone ${start.zoneName ?? ''} shifts clocks by part of an hour; hourly partitions need whole-hour shifts`,
        raw,
      );
  } else if (cadence === 'daily') {
    if (!start.equals(start.startOf('day')))
      fail(cadence, `start '${raw}' is not at midnight; use '${day}'`, raw);
  } else if (cadence === 'weekly') {
    const monday = start.startOf('week');
    if (!start.equals(monday)) {
      const next = monday.plus({ weeks: 1 }).toFormat('yyyy-MM-dd');
      fail(
        cadence,
        `weeks start on Monday at midnight and start '${raw}' is a ${start.toFormat('cccc')}${start.hour || start.minute ? ' or not at midnight' : ''}; use '${monday.toFormat('yyyy-MM-dd')}' or '${next}'`,
        raw,
      );
    }
  } else if (!start.equals(start.startOf('month'))) {
    fail(
      cadence,
      `months start on the 1st at midnight; start '${raw}' is not; use '${start.toFormat('yyyy-MM')}-01'`,
      raw,
    );
  }
}

function timePartitions(cadence: TimeCadence, input: TimePartitionsOptions): TimeWindowPartitions {
  const { start: raw, timezone, endOffset } = readOptions(cadence, input);
  const start = DateTime.fromISO(raw, { zone: timezone });
  if (!start.isValid)
    fail(
      cadence,
      `start '${raw}' is not an ISO date or date-time (${start.invalidExplanation ?? 'invalid'})`,
      raw,
    );
  checkStart(cadence, start, raw);
  const grid: TimeGrid = cached(
    cadence === 'hourly' ? hourlyGrid(start, timezone) : calendarGrid(cadence, start, timezone),
  );
  const firstKey = grid.label(0);
  const fingerprint = `${cadence}(start=${firstKey},tz=${timezone},offset=${endOffset})`;

  const indexOrUndefined = (key: string): number | undefined => {
    const i = grid.parse(key);
    return i !== undefined && i >= 0 ? i : undefined;
  };
  const indexOf = (key: string): number => {
    const i = indexOrUndefined(key);
    if (i !== undefined) return i;
    const parsed = grid.parse(key);
    if (parsed !== undefined) {
      throw new PartitionError(
        `partition '${key}' is before the first partition of ${fingerprint}; the first key is '${firstKey}'`,
        { key, definition: fingerprint, nearest: firstKey },
      );
    }
    const problem = grid.problem(key);
    // A suggestion before the start is no help; the first key is the nearest valid one then.
    const near =
      problem.nearest === undefined
        ? undefined
        : (grid.parse(problem.nearest) ?? 0) < 0
          ? firstKey
          : problem.nearest;
    throw new PartitionError(
      `partition '${key}' is not a key of ${fingerprint}: ${problem.reason}${near === undefined ? '' : `; nearest valid key: '${near}'`}`,
      near === undefined ? { key, definition: fingerprint } : { key, definition: fingerprint, nearest: near },
    );
  };
  /** The window containing `instant`, any index: settle the grid's guess, which is off by at most one. */
  const locate = (instant: DateTime): number => {
    let i = grid.indexNear(instant);
    while (grid.startOf(i) > instant) i--;
    while (grid.startOf(i + 1) <= instant) i++;
    return i;
  };

  return {
    type: 'time',
    cadence,
    timezone,
    start,
    endOffset,
    fingerprint,
    firstKey,
    indexOf,
    has: (key) => indexOrUndefined(key) !== undefined,
    assertHas: (key) => void indexOf(key),
    keysInRange(range: PartitionRange): string[] {
      const [from, to] = [indexOf(range.from), indexOf(range.to)];
      if (from > to) {
        throw new PartitionError(
          `reversed range: '${range.from}' comes after '${range.to}' in ${fingerprint}; swap from and to`,
          { definition: fingerprint },
        );
      }
      return Array.from({ length: to - from + 1 }, (_, n) => grid.label(from + n));
    },
    window(key: string): TimeWindow {
      const i = indexOf(key);
      return { start: grid.startOf(i), end: grid.startOf(i + 1) };
    },
    keyAt(instant: DateTime): string {
      const i = locate(instant);
      if (i < 0) {
        throw new PartitionError(
          `${instant.toISO() ?? 'instant'} is before the first partition of ${fingerprint} ('${firstKey}')`,
          { definition: fingerprint, nearest: firstKey },
        );
      }
      return grid.label(i);
    },
    lastKey(now: DateTime): string | undefined {
      if (now < start) return undefined;
      // locate(now) is the open window; the one before it is the newest that has closed.
      const i = locate(now) - 1 + endOffset;
      return i >= 0 ? grid.label(i) : undefined;
    },
    shift(key: string, n: number): string {
      if (!Number.isInteger(n))
        throw new PartitionError(`shift(${key}, ${n}): n must be a whole number`, {
          key,
          definition: fingerprint,
        });
      const i = indexOf(key) + n;
      if (i < 0) {
        throw new PartitionError(
          `shift('${key}', ${n}) goes before the first partition of ${fingerprint} ('${firstKey}')`,
          { key, definition: fingerprint, nearest: firstKey },
        );
      }
      return grid.label(i);
    },
  };
}

/** Hourly partitions: keys `yyyy-MM-ddTHH` in `timezone`; each window is exactly 60 minutes. */
export const hourly = (opts: TimePartitionsOptions): TimeWindowPartitions => timePartitions('hourly', opts);
/** Daily partitions: keys `yyyy-MM-dd`; a window runs local midnight to midnight (23–25 hours). */
export const daily = (opts: TimePartitionsOptions): TimeWindowPartitions => timePartitions('daily', opts);
/** Weekly partitions (ISO weeks): keys are the Monday, `yyyy-MM-dd`; `start` must be a Monday. */
export const weekly = (opts: TimePartitionsOptions): TimeWindowPartitions => timePartitions('weekly', opts);
/** Monthly partitions: keys `yyyy-MM`; `start` must be the 1st of a month. */
export const monthly = (opts: TimePartitionsOptions): TimeWindowPartitions => timePartitions('monthly', opts);
