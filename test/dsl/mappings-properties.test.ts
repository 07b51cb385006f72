/** Property tests: rollup and containing are inverse views of one nesting, on DST zones too. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { containing, lookback, rollup } from '../../src/dsl/mappings/index.js';
import { daily, hourly, monthly, weekly, type TimeWindowPartitions } from '../../src/dsl/partitions/index.js';

const pairs: [string, TimeWindowPartitions, TimeWindowPartitions, number][] = [
  [
    'daily ← hourly, New York',
    daily({ start: '2025-01-01', timezone: 'America/New_York' }),
    hourly({ start: '2025-01-01', timezone: 'America/New_York' }),
    1000,
  ],
  [
    'daily ← hourly, Berlin',
    daily({ start: '2025-01-01', timezone: 'Europe/Berlin' }),
    hourly({ start: '2025-01-01', timezone: 'Europe/Berlin' }),
    1000,
  ],
  [
    'daily New York ← hourly UTC',
    daily({ start: '2025-01-01', timezone: 'America/New_York' }),
    hourly({ start: '2025-01-01' }),
    1000,
  ],
  [
    'weekly ← daily, Sydney',
    weekly({ start: '2024-12-30', timezone: 'Australia/Sydney' }),
    daily({ start: '2024-12-30', timezone: 'Australia/Sydney' }),
    150,
  ],
  [
    'monthly ← daily, New York',
    monthly({ start: '2025-01-01', timezone: 'America/New_York' }),
    daily({ start: '2025-01-01', timezone: 'America/New_York' }),
    36,
  ],
];

describe.each(pairs)('%s', (_name, coarse, fine, span) => {
  it('rollup tiles the coarse window exactly, and containing maps each fine key back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: span }), (i) => {
        const key = coarse.shift(coarse.firstKey, i);
        const w = coarse.window(key);
        const keys = rollup().upstreamKeys(key, coarse, fine);
        expect(keys.length).toBeGreaterThan(0);
        expect(fine.window(keys[0] ?? '').start.toMillis()).toBe(w.start.toMillis());
        expect(fine.window(keys[keys.length - 1] ?? '').end.toMillis()).toBe(w.end.toMillis());
        keys.slice(1).forEach((k, j) => expect(k).toBe(fine.shift(keys[j] ?? '', 1)));
        for (const k of keys) expect(containing().upstreamKeys(k, fine, coarse)).toEqual([key]);
        if (fine.cadence === 'hourly') expect(keys.length).toBe(w.end.diff(w.start, 'hours').hours);
      }),
      { numRuns: 30 },
    );
  });
});

describe('lookback', () => {
  it('reads min(n, index) + 1 contiguous keys ending at the key', () => {
    const p = hourly({ start: '2026-01-01', timezone: 'America/New_York' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8760 }), fc.integer({ min: 0, max: 48 }), (i, n) => {
        const key = p.shift(p.firstKey, i);
        const keys = lookback(n).upstreamKeys(key, p, p);
        expect(keys).toHaveLength(Math.min(n, i) + 1);
        expect(keys[keys.length - 1]).toBe(key);
        expect(keys).toEqual(p.keysInRange({ from: keys[0] ?? '', to: key }));
      }),
    );
  });
});
