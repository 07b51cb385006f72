/** Property tests: the grid laws hold for every cadence, in zones with DST (and a skipped midnight). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { daily, hourly, monthly, weekly, type TimeWindowPartitions } from '../../src/dsl/partitions/index.js';

/** Definitions and how many partitions of each the properties roam over (a few DST years). */
const cases: [string, TimeWindowPartitions, number][] = [
  ['hourly New York', hourly({ start: '2025-01-01', timezone: 'America/New_York' }), 3 * 8784],
  ['hourly Berlin', hourly({ start: '2025-03-30T01:00', timezone: 'Europe/Berlin' }), 3 * 8784],
  ['hourly Kolkata (+05:30)', hourly({ start: '2026-01-01', timezone: 'Asia/Kolkata' }), 8784],
  ['hourly Troll (2h DST shift)', hourly({ start: '2026-01-01', timezone: 'Antarctica/Troll' }), 8784],
  ['daily New York', daily({ start: '2020-01-01', timezone: 'America/New_York' }), 4000],
  ['daily Santiago (midnight DST)', daily({ start: '2020-01-01', timezone: 'America/Santiago' }), 4000],
  ['weekly Berlin', weekly({ start: '2019-12-30', timezone: 'Europe/Berlin' }), 600],
  ['monthly Sydney', monthly({ start: '2000-01-01', timezone: 'Australia/Sydney' }), 600],
];

describe.each(cases)('%s', (_name, p, span) => {
  const index = fc.integer({ min: 0, max: span });
  const keyOf = (i: number): string => p.shift(p.firstKey, i);

  it('keyAt(window(k).start) === k, and the last instant of the window maps to k too', () => {
    fc.assert(
      fc.property(index, (i) => {
        const k = keyOf(i);
        const w = p.window(k);
        expect(p.keyAt(w.start)).toBe(k);
        expect(p.keyAt(w.end.minus({ milliseconds: 1 }))).toBe(k);
        expect(p.has(k)).toBe(true);
        expect(p.indexOf(k)).toBe(i);
      }),
    );
  });

  it('shift round-trips', () => {
    fc.assert(
      fc.property(index, fc.integer({ min: -500, max: 500 }), (i, n) => {
        fc.pre(i + n >= 0);
        const k = keyOf(i);
        expect(p.shift(p.shift(k, n), -n)).toBe(k);
      }),
    );
  });

  it('keysInRange is ascending and contiguous, and windows tile without gap or overlap', () => {
    fc.assert(
      fc.property(index, fc.integer({ min: 0, max: 60 }), (i, len) => {
        const keys = p.keysInRange({ from: keyOf(i), to: keyOf(i + len) });
        expect(keys).toHaveLength(len + 1);
        for (let j = 1; j < keys.length; j++) {
          const [prev, next] = [keys[j - 1] ?? '', keys[j] ?? ''];
          expect(next).toBe(p.shift(prev, 1));
          expect(p.window(prev).end.toMillis()).toBe(p.window(next).start.toMillis());
          expect(p.window(prev).start < p.window(next).start).toBe(true);
        }
      }),
    );
  });

  it('every instant after the start lies in the window of its key', () => {
    const startMs = p.start.toMillis();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * 365 * 24 * 3600 * 1000 }), (offset) => {
        const t = DateTime.fromMillis(startMs + offset, { zone: 'utc' });
        const w = p.window(p.keyAt(t));
        expect(w.start <= t && t < w.end).toBe(true);
      }),
    );
  });
});

describe('hourly window length', () => {
  it('is 60 minutes for every key, DST or not', () => {
    const p = hourly({ start: '2026-01-01', timezone: 'America/New_York' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8760 }), (i) => {
        const w = p.window(p.shift(p.firstKey, i));
        expect(w.end.diff(w.start, 'minutes').minutes).toBe(60);
      }),
    );
  });
});
