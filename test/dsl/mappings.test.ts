import { describe, expect, it } from 'vitest';
import { PartitionError } from '../../src/dsl/errors.js';
import {
  containing,
  dailyToHourly,
  hourlyToDaily,
  identity,
  lookback,
  rollup,
} from '../../src/dsl/mappings/index.js';
import {
  daily,
  hourly,
  monthly,
  multiPartitions,
  staticPartitions,
  UNPARTITIONED,
  weekly,
} from '../../src/dsl/partitions/index.js';

function thrown(f: () => unknown): PartitionError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PartitionError);
    return e as PartitionError;
  }
  throw new Error('expected a PartitionError');
}

const day = daily({ start: '2026-01-01' });
const hour = hourly({ start: '2026-01-01' });
const nyDay = daily({ start: '2026-01-01', timezone: 'America/New_York' });
const nyHour = hourly({ start: '2026-01-01', timezone: 'America/New_York' });
const berlinDay = daily({ start: '2026-01-01', timezone: 'Europe/Berlin' });
const berlinHour = hourly({ start: '2026-01-01', timezone: 'Europe/Berlin' });
const platforms = staticPartitions(['meta', 'google', 'tiktok']);
const datePlatform = multiPartitions({ date: day, platform: platforms });

describe('identity()', () => {
  const m = identity();

  it('maps a key to itself, omitting keys before the upstream start', () => {
    expect(m.type).toBe('identity');
    expect(m.fingerprint).toBe('identity()');
    expect(m.upstreamKeys('2026-03-01', day, day)).toEqual(['2026-03-01']);
    const late = daily({ start: '2026-02-01' });
    expect(m.incompatibility(day, late)).toBeUndefined();
    expect(m.upstreamKeys('2026-01-15', day, late)).toEqual([]);
    expect(m.upstreamKeys(UNPARTITIONED, undefined, undefined)).toEqual(['']);
    expect(m.upstreamKeys('meta', staticPartitions(['meta']), platforms)).toEqual(['meta']);
  });

  it('maps multi keys dimension by dimension, matched by name', () => {
    const swapped = multiPartitions({ platform: platforms, date: day });
    expect(m.upstreamKeys('2026-03-01|meta', datePlatform, swapped)).toEqual(['meta|2026-03-01']);
  });

  it('explains every incompatibility with the mapping to use', () => {
    expect(m.incompatibility(day, hour)).toBe(
      'identity mapping from daily asset to hourly upstream: use hourlyToDaily() (rollup)',
    );
    expect(m.incompatibility(hour, day)).toBe(
      'identity mapping from hourly asset to daily upstream: use dailyToHourly() (containing)',
    );
    expect(m.incompatibility(weekly({ start: '2025-12-29' }), day)).toBe(
      'identity mapping from weekly asset to daily upstream: use rollup()',
    );
    expect(m.incompatibility(weekly({ start: '2025-12-29' }), monthly({ start: '2026-01-01' }))).toMatch(
      /weeks do not nest in months/,
    );
    expect(m.incompatibility(nyDay, day)).toBe(
      'identity mapping between daily partitions in different timezones (asset: America/New_York, upstream: UTC): give both the same timezone',
    );
    expect(m.incompatibility(undefined, day)).toBe(
      'identity() mapping from unpartitioned asset to daily upstream: use allUpstream()',
    );
    expect(m.incompatibility(day, undefined)).toMatch(/use allUpstream\(\)/);
    expect(m.incompatibility(day, platforms)).toMatch(
      /one side is time-partitioned and the other static; use allUpstream\(\)/,
    );
    expect(m.incompatibility(staticPartitions(['meta', 'snap']), platforms)).toMatch(
      /the upstream lacks snap/,
    );
    expect(m.incompatibility(datePlatform, day)).toMatch(/use dimension\('date'\)/);
    expect(m.incompatibility(platforms, datePlatform)).toMatch(/use dimension\('platform'\)/);
    const other = multiPartitions({ date: day, account: staticPartitions(['a1']) });
    expect(m.incompatibility(datePlatform, other)).toMatch(/dimensions differ .*use dimension\('date'\)/);
    expect(m.incompatibility(datePlatform, multiPartitions({ date: hour, platform: platforms }))).toMatch(
      /^dimension 'date': identity mapping from daily asset to hourly upstream/,
    );
  });

  it('upstreamKeys throws the incompatibility, and rejects bad downstream keys', () => {
    expect(thrown(() => m.upstreamKeys('2026-03-01', day, hour)).message).toMatch(/use hourlyToDaily\(\)/);
    expect(thrown(() => m.upstreamKeys('2026-3-1', day, day)).message).toMatch(
      /'2026-3-1' is not a key of daily/,
    );
    expect(thrown(() => m.upstreamKeys('x', undefined, undefined)).message).toMatch(
      /unpartitioned, so its only key is ''/,
    );
  });
});

describe('lookback(n)', () => {
  it('reads the partition and the n before it', () => {
    const m = lookback(6);
    expect(m.type).toBe('lookback');
    expect(m.fingerprint).toBe('lookback(6)');
    expect(m.upstreamKeys('2026-03-10', day, day)).toEqual([
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
      '2026-03-10',
    ]);
    expect(lookback(0).upstreamKeys('2026-03-10', day, day)).toEqual(['2026-03-10']);
  });

  it('omits keys before the upstream start', () => {
    expect(lookback(6).upstreamKeys('2026-01-03', day, day)).toEqual([
      '2026-01-01',
      '2026-01-02',
      '2026-01-03',
    ]);
    const late = daily({ start: '2026-02-01' });
    expect(lookback(6).upstreamKeys('2026-01-20', day, late)).toEqual([]);
    // A downstream starting later still reads the upstream's earlier days.
    expect(lookback(2).upstreamKeys('2026-02-01', late, day)).toEqual([
      '2026-01-30',
      '2026-01-31',
      '2026-02-01',
    ]);
  });

  it('steps over DST hours and keeps static dimensions fixed', () => {
    expect(lookback(2).upstreamKeys('2026-11-01T02', nyHour, nyHour)).toEqual([
      '2026-11-01T01',
      '2026-11-01T01+1',
      '2026-11-01T02',
    ]);
    expect(lookback(1).upstreamKeys('2026-03-02|google', datePlatform, datePlatform)).toEqual([
      '2026-03-01|google',
      '2026-03-02|google',
    ]);
  });

  it('rejects bad n and non-time definitions', () => {
    expect(thrown(() => lookback(-1)).message).toMatch(/lookback\(-1\): n must be a whole number/);
    expect(thrown(() => lookback(1.5)).message).toMatch(/lookback\(1\.5\)/);
    expect(lookback(3).incompatibility(platforms, platforms)).toMatch(
      /lookback\(3\) needs time partitions; use identity\(\)/,
    );
    expect(lookback(3).incompatibility(undefined, undefined)).toMatch(/needs time partitions/);
    expect(lookback(3).incompatibility(day, hour)).toBe(
      'lookback(3) mapping from daily asset to hourly upstream: use hourlyToDaily() (rollup)',
    );
    expect(lookback(3).incompatibility(datePlatform, day)).toMatch(/use dimension\('date', lookback\(3\)\)/);
  });
});

describe('rollup() / hourlyToDaily()', () => {
  const count = (
    down: Parameters<ReturnType<typeof rollup>['upstreamKeys']>[1],
    up: typeof hour,
    key: string,
  ): number => rollup().upstreamKeys(key, down, up).length;

  it('reads every hour of the day: 23 / 24 / 25 across DST', () => {
    expect(hourlyToDaily).toBe(rollup);
    expect(rollup().type).toBe('hourly_to_daily');
    expect(rollup().fingerprint).toBe('rollup()');
    const keys = rollup().upstreamKeys('2026-03-10', day, hour);
    expect(keys).toHaveLength(24);
    expect([keys[0], keys[23]]).toEqual(['2026-03-10T00', '2026-03-10T23']);
    expect(count(nyDay, nyHour, '2026-03-08')).toBe(23);
    expect(count(nyDay, nyHour, '2026-11-01')).toBe(25);
    expect(count(nyDay, nyHour, '2026-07-04')).toBe(24);
    expect(count(berlinDay, berlinHour, '2026-03-29')).toBe(23);
    expect(count(berlinDay, berlinHour, '2026-10-25')).toBe(25);
    expect(rollup().upstreamKeys('2026-11-01', nyDay, nyHour).slice(0, 3)).toEqual([
      '2026-11-01T00',
      '2026-11-01T01',
      '2026-11-01T01+1',
    ]);
  });

  it('works for any nesting pair, and for UTC hours under a New York day', () => {
    expect(rollup().upstreamKeys('2026-01-05', weekly({ start: '2025-12-29' }), day)).toHaveLength(7);
    expect(rollup().upstreamKeys('2026-02', monthly({ start: '2026-01-01' }), day)).toHaveLength(28);
    expect(rollup().upstreamKeys('2026-01', monthly({ start: '2026-01-01' }), hour)).toHaveLength(744);
    const utcHours = rollup().upstreamKeys('2026-11-01', nyDay, hour);
    expect(utcHours).toHaveLength(25);
    expect([utcHours[0], utcHours[24]]).toEqual(['2026-11-01T04', '2026-11-02T04']);
    expect(
      rollup().upstreamKeys(
        '2026-06-01|meta',
        datePlatform,
        multiPartitions({ date: hour, platform: platforms }),
      ),
    ).toHaveLength(24);
  });

  it('omits hours before the upstream start', () => {
    const lateHours = hourly({ start: '2026-03-10T20:00' });
    expect(rollup().upstreamKeys('2026-03-10', day, lateHours)).toEqual([
      '2026-03-10T20',
      '2026-03-10T21',
      '2026-03-10T22',
      '2026-03-10T23',
    ]);
    expect(rollup().upstreamKeys('2026-03-09', day, lateHours)).toEqual([]);
  });

  it('explains what does not roll up', () => {
    expect(rollup().incompatibility(day, day)).toMatch(/both are daily; use identity\(\)/);
    expect(rollup().incompatibility(hour, day)).toBe(
      'rollup() mapping from hourly asset to daily upstream: the upstream is coarser; use dailyToHourly() (containing)',
    );
    expect(
      rollup().incompatibility(monthly({ start: '2026-01-01' }), weekly({ start: '2025-12-29' })),
    ).toMatch(/weeks do not nest in months/);
    expect(rollup().incompatibility(weekly({ start: '2025-12-29' }), nyDay)).toMatch(
      /daily windows in America\/New_York do not nest in weekly windows in UTC: give both the same timezone/,
    );
    expect(rollup().incompatibility(day, hourly({ start: '2026-01-01', timezone: 'Asia/Kolkata' }))).toMatch(
      /hourly windows in Asia\/Kolkata do not nest/,
    );
    expect(rollup().incompatibility(platforms, platforms)).toMatch(/needs time partitions/);
    expect(thrown(() => rollup().upstreamKeys('2026-01-01T00', hour, day)).message).toMatch(
      /upstream is coarser/,
    );
  });
});

describe('containing() / dailyToHourly()', () => {
  it('reads the coarser partition containing the window', () => {
    expect(dailyToHourly).toBe(containing);
    expect(containing().type).toBe('daily_to_hourly');
    expect(containing().upstreamKeys('2026-03-10T13', hour, day)).toEqual(['2026-03-10']);
    expect(containing().upstreamKeys('2026-11-01T01+1', nyHour, nyDay)).toEqual(['2026-11-01']);
    expect(containing().upstreamKeys('2026-11-01T03', hour, nyDay)).toEqual(['2026-10-31']); // 03Z is 23:00 EDT
    expect(containing().upstreamKeys('2026-02-14', day, monthly({ start: '2026-01-01' }))).toEqual([
      '2026-02',
    ]);
    expect(containing().upstreamKeys('2026-01-07', day, weekly({ start: '2026-01-05' }))).toEqual([
      '2026-01-05',
    ]);
    expect(containing().upstreamKeys('2026-01-02', day, weekly({ start: '2026-01-05' }))).toEqual([]);
  });

  it('explains what does not fan out', () => {
    expect(containing().incompatibility(day, hour)).toBe(
      'containing() mapping from daily asset to hourly upstream: the upstream is finer; use hourlyToDaily() (rollup)',
    );
    expect(containing().incompatibility(day, day)).toMatch(/use identity\(\)/);
    expect(
      containing().incompatibility(weekly({ start: '2025-12-29' }), monthly({ start: '2026-01-01' })),
    ).toMatch(/weeks do not nest/);
  });
});
