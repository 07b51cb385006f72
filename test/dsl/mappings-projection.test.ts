/** allUpstream() and dimension(): mappings that read many upstream keys or project multi keys. */
import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { PartitionError } from '../../src/dsl/errors.js';
import { allUpstream, dimension, lookback, rollup } from '../../src/dsl/mappings/index.js';
import {
  daily,
  hourly,
  multiPartitions,
  staticPartitions,
  UNPARTITIONED,
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
const platforms = staticPartitions(['meta', 'google', 'tiktok']);
const datePlatform = multiPartitions({ date: day, platform: platforms });

describe('allUpstream()', () => {
  const m = allUpstream();

  it('reads upstream keys up to the end of the downstream window', () => {
    expect(m.type).toBe('all_upstream');
    expect(m.fingerprint).toBe('allUpstream()');
    expect(m.upstreamKeys('2026-01-03', day, day)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
    expect(m.upstreamKeys('2026-01-02', day, hour)).toHaveLength(48);
    expect(m.upstreamKeys('2026-01-01T05', hour, day)).toEqual([]); // the first day has not ended
    expect(m.upstreamKeys('2026-01-02|meta', datePlatform, day)).toEqual(['2026-01-01', '2026-01-02']);
    expect(m.upstreamKeys('2026-01-02', day, datePlatform)).toHaveLength(6);
    expect(m.incompatibility(day, hour)).toBeUndefined();
  });

  it('reads every static key, and the single unpartitioned one', () => {
    expect(m.upstreamKeys('2026-01-05', day, platforms)).toEqual(['meta', 'google', 'tiktok']);
    expect(m.upstreamKeys(UNPARTITIONED, undefined, undefined)).toEqual(['']);
    expect(m.upstreamKeys('2026-01-05', day, undefined)).toEqual(['']);
  });

  it('needs context.range or context.now when the downstream has no time window', () => {
    expect(thrown(() => m.upstreamKeys(UNPARTITIONED, undefined, day)).message).toMatch(
      /allUpstream\(\): the asset partition has no time window to bound the daily upstream .*pass context\.range \(upstream keys\) or context\.now/,
    );
    expect(
      m.upstreamKeys(UNPARTITIONED, undefined, day, { range: { from: '2026-01-05', to: '2026-01-06' } }),
    ).toEqual(['2026-01-05', '2026-01-06']);
    const now = DateTime.fromISO('2026-01-04T12:00Z');
    expect(m.upstreamKeys(UNPARTITIONED, undefined, day, { now })).toEqual([
      '2026-01-01',
      '2026-01-02',
      '2026-01-03',
    ]);
    expect(
      m.upstreamKeys(UNPARTITIONED, undefined, daily({ start: '2026-01-01', endOffset: 1 }), { now }),
    ).toHaveLength(4);
    expect(m.upstreamKeys('meta', platforms, datePlatform, { now })).toHaveLength(9);
  });
});

describe('dimension(name, inner)', () => {
  const account = staticPartitions(['a1', 'a2']);
  const spend = multiPartitions({ date: day, platform: platforms, account });
  const fx = day;

  it('projects a multi downstream onto one dimension of a single upstream', () => {
    const m = dimension('date');
    expect(m.type).toBe('dimension');
    expect(m.fingerprint).toBe('dimension("date",identity())');
    expect(m.incompatibility(spend, fx)).toBeUndefined();
    expect(m.upstreamKeys('2026-03-10|meta|a2', spend, fx)).toEqual(['2026-03-10']);
    expect(dimension('date', lookback(2)).upstreamKeys('2026-03-10|meta|a2', spend, fx)).toEqual([
      '2026-03-08',
      '2026-03-09',
      '2026-03-10',
    ]);
    expect(dimension('platform').upstreamKeys('2026-03-10|tiktok|a1', spend, platforms)).toEqual(['tiktok']);
  });

  it('expands a single downstream to every upstream key with its value', () => {
    const byPlatform = multiPartitions({ platform: platforms, account });
    expect(dimension('platform').upstreamKeys('google', platforms, byPlatform)).toEqual([
      'google|a1',
      'google|a2',
    ]);
    expect(dimension('date').upstreamKeys('2026-03-10', day, spend)).toHaveLength(6);
    expect(
      dimension('date', rollup()).upstreamKeys(
        '2026-03-10',
        day,
        multiPartitions({ date: hour, platform: platforms }),
      ),
    ).toHaveLength(72);
    // An upstream time dimension not being mapped is bounded like allUpstream().
    expect(thrown(() => dimension('platform').upstreamKeys('meta', platforms, datePlatform)).message).toMatch(
      /pass context\.range/,
    );
    expect(
      dimension('platform').upstreamKeys('meta', platforms, datePlatform, {
        range: { from: '2026-01-01', to: '2026-01-02' },
      }),
    ).toEqual(['2026-01-01|meta', '2026-01-02|meta']);
  });

  it('maps both multi sides through the shared dimension', () => {
    expect(dimension('date').upstreamKeys('2026-03-10|meta|a2', spend, datePlatform)).toEqual([
      '2026-03-10|meta',
      '2026-03-10|google',
      '2026-03-10|tiktok',
    ]);
  });

  it('explains bad projections', () => {
    expect(dimension('date').incompatibility(day, day)).toBe(
      "dimension('date') maps through a dimension of a multi-partitioned asset, but neither the daily asset nor the daily upstream is multi-partitioned: use identity()",
    );
    expect(dimension('dat').incompatibility(spend, fx)).toBe(
      "dimension('dat'): the asset has no dimension 'dat' (did you mean 'date'?); its dimensions are date, platform, account",
    );
    expect(dimension('date').incompatibility(spend, hour)).toBe(
      "dimension('date'): identity mapping from daily asset to hourly upstream: use hourlyToDaily() (rollup)",
    );
    expect(thrown(() => dimension('date').upstreamKeys('2026-03-10|meta|a2', spend, hour)).message).toMatch(
      /use hourlyToDaily/,
    );
    expect(thrown(() => dimension('date').upstreamKeys('2026-03-10|meta', spend, fx)).message).toMatch(
      /has 2 part\(s\); expected 3/,
    );
  });
});
