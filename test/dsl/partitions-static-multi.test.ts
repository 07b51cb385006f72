/** Static and multi partitions, and the small shared helpers. */
import { describe, expect, it } from 'vitest';
import { PartitionError, nearest } from '../../src/dsl/errors.js';
import {
  daily,
  hourly,
  isTimePartitions,
  multiPartitions,
  staticPartitions,
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

describe('static partitions', () => {
  const platforms = staticPartitions(['meta', 'google', 'tiktok', 'snap']);

  it('keeps declared order and ignores ranges', () => {
    expect(platforms.values).toEqual(['meta', 'google', 'tiktok', 'snap']);
    expect(platforms.keysInRange({ from: 'x', to: 'y' })).toEqual(['meta', 'google', 'tiktok', 'snap']);
    expect(platforms.fingerprint).toBe('static(["meta","google","tiktok","snap"])');
    expect(platforms.has('meta')).toBe(true);
    expect(platforms.has('Meta')).toBe(false);
  });

  it('suggests the nearest value', () => {
    const e = thrown(() => platforms.assertHas('tiktk'));
    expect(e.message).toMatch(
      /'tiktk' is not a key .*did you mean 'tiktok'\?.*values are meta, google, tiktok, snap/,
    );
    expect(e.details.nearest).toBe('tiktok');
    expect(thrown(() => platforms.assertHas('zzzzzzzz')).details.nearest).toBeUndefined();
  });

  it('rejects empty, duplicate and separator values by name', () => {
    expect(thrown(() => staticPartitions([])).message).toMatch(/at least one value/);
    expect(thrown(() => staticPartitions(['a', ''])).message).toMatch(/non-empty/);
    expect(thrown(() => staticPartitions(['a', 'b|c'])).message).toMatch(/'b\|c' contains '\|'/);
    expect(thrown(() => staticPartitions(['a', 'b', 'a'])).message).toMatch(/'a' is listed twice/);
  });
});

describe('multi partitions', () => {
  const date = daily({ start: '2026-11-01' });
  const m = multiPartitions({
    date,
    platform: staticPartitions(['meta', 'google']),
    account: staticPartitions(['a1', 'a2', 'a3']),
  });

  it('joins, splits and validates three dimensions', () => {
    expect(m.dimensions.map((d) => d.name)).toEqual(['date', 'platform', 'account']);
    expect(m.timeDimension?.name).toBe('date');
    expect(m.join({ account: 'a2', date: '2026-11-24', platform: 'meta' })).toBe('2026-11-24|meta|a2');
    expect(m.split('2026-11-24|meta|a2')).toEqual({ date: '2026-11-24', platform: 'meta', account: 'a2' });
    expect(m.has('2026-11-24|meta|a2')).toBe(true);
    expect(m.has('2026-11-24|meta')).toBe(false);
    expect(m.fingerprint).toBe(
      `multi(date=${date.fingerprint},platform=static(["meta","google"]),account=static(["a1","a2","a3"]))`,
    );
  });

  it('keysInRange is the time-major cartesian product', () => {
    const keys = m.keysInRange({ from: '2026-11-01', to: '2026-11-02' });
    expect(keys).toHaveLength(12);
    expect(keys.slice(0, 7)).toEqual([
      '2026-11-01|meta|a1',
      '2026-11-01|meta|a2',
      '2026-11-01|meta|a3',
      '2026-11-01|google|a1',
      '2026-11-01|google|a2',
      '2026-11-01|google|a3',
      '2026-11-02|meta|a1',
    ]);
    // Time-major even when the time dimension is declared last.
    const late = multiPartitions({ platform: staticPartitions(['meta', 'google']), date });
    expect(late.keysInRange({ from: '2026-11-01', to: '2026-11-02' })).toEqual([
      'meta|2026-11-01',
      'google|2026-11-01',
      'meta|2026-11-02',
      'google|2026-11-02',
    ]);
    const noTime = multiPartitions({ p: staticPartitions(['x', 'y']), q: staticPartitions(['1', '2']) });
    expect(noTime.timeDimension).toBeUndefined();
    expect(noTime.keysInRange({ from: 'anything', to: 'ignored' })).toEqual(['x|1', 'x|2', 'y|1', 'y|2']);
    expect(thrown(() => m.keysInRange({ from: '2026-11-01|meta|a1', to: '2026-11-02' })).message).toMatch(
      /not a key of daily/,
    );
  });

  it('errors name the dimension and suggest a whole key', () => {
    const e = thrown(() => m.assertHas('2026-11-24|mta|a2'));
    expect(e.message).toMatch(/dimension 'platform'.*did you mean 'meta'/);
    expect(e.details.nearest).toBe('2026-11-24|meta|a2');
    expect(thrown(() => m.assertHas('2026-10-01|meta|a2')).details.nearest).toBe('2026-11-01|meta|a2');
    expect(thrown(() => m.split('2026-11-24|meta')).message).toMatch(
      /has 2 part\(s\); expected 3 joined with '\|': date\|platform\|account/,
    );
    expect(thrown(() => m.join({ date: '2026-11-24', platform: 'meta' })).message).toMatch(
      /missing dimension\(s\) account/,
    );
    expect(
      thrown(() => m.join({ date: '2026-11-24', platform: 'meta', account: 'a1', acount: 'a1' })).message,
    ).toMatch(/unknown dimension\(s\) acount \(did you mean 'account'\?\)/);
  });

  it('rejects bad shapes', () => {
    expect(thrown(() => multiPartitions({ date })).message).toMatch(/at least 2 dimensions, got 1/);
    expect(thrown(() => multiPartitions({ a: date, b: hourly({ start: '2026-01-01' }) })).message).toMatch(
      /at most one time dimension is allowed, got a, b/,
    );
    expect(thrown(() => multiPartitions({ 'a|b': date, c: staticPartitions(['x']) })).message).toMatch(
      /dimension name 'a\|b'/,
    );
    expect(thrown(() => multiPartitions({ a: m as never, c: staticPartitions(['x']) })).message).toMatch(
      /dimension 'a' is multi partitions/,
    );
  });
});

describe('helpers', () => {
  it('isTimePartitions narrows', () => {
    expect(isTimePartitions(daily({ start: '2026-01-01' }))).toBe(true);
    expect(isTimePartitions(staticPartitions(['a']))).toBe(false);
    expect(isTimePartitions(undefined)).toBe(false);
  });

  it('nearest finds plausible typos only', () => {
    expect(nearest('marts.daily_revnue', ['marts.daily_revenue', 'core.dim_users'])).toBe(
      'marts.daily_revenue',
    );
    expect(nearest('META', ['meta', 'google'])).toBe('meta');
    expect(nearest('xyz', ['meta', 'google'])).toBeUndefined();
    expect(nearest('a', [])).toBeUndefined();
    expect(nearest('ab', ['ac', 'ad'])).toBe('ac'); // ties: first option
  });
});
