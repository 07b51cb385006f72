import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { PartitionError } from '../../src/dsl/errors.js';
import { daily, hourly, monthly, weekly } from '../../src/dsl/partitions/index.js';

const hoursOf = (w: { start: DateTime; end: DateTime }): number => w.end.diff(w.start, 'hours').hours;
const utc = (iso: string): DateTime => DateTime.fromISO(iso, { zone: 'utc' });

/** The error a function throws, to assert on its class and message. */
function thrown(f: () => unknown): PartitionError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PartitionError);
    return e as PartitionError;
  }
  throw new Error('expected a PartitionError');
}

describe('time partitions: keys and options', () => {
  it('formats keys per cadence and fingerprints the definition', () => {
    expect(hourly({ start: '2026-11-24T13:00' }).firstKey).toBe('2026-11-24T13');
    expect(daily({ start: '2026-01-01' }).fingerprint).toBe('daily(start=2026-01-01,tz=UTC,offset=0)');
    expect(weekly({ start: '2025-12-29', timezone: 'Europe/Berlin', endOffset: 1 }).fingerprint).toBe(
      'weekly(start=2025-12-29,tz=Europe/Berlin,offset=1)',
    );
    expect(monthly({ start: '2026-01-01' }).shift('2026-01', 13)).toBe('2027-02');
    expect(weekly({ start: '2025-12-29' }).keysInRange({ from: '2025-12-29', to: '2026-01-12' })).toEqual([
      '2025-12-29',
      '2026-01-05',
      '2026-01-12',
    ]);
  });

  it('requires the start to open a window, suggesting one that does', () => {
    expect(thrown(() => weekly({ start: '2026-01-01' })).message).toMatch(
      /Thursday; use '2025-12-29' or '2026-01-05'/,
    );
    expect(thrown(() => monthly({ start: '2026-01-05' })).message).toMatch(/use '2026-01-01'/);
    expect(thrown(() => daily({ start: '2026-01-01T05:00' })).message).toMatch(
      /not at midnight; use '2026-01-01'/,
    );
    expect(thrown(() => hourly({ start: '2026-01-01T05:30' })).message).toMatch(/not on a whole hour/);
    expect(thrown(() => daily({ start: '2026-13-01' })).message).toMatch(
      /start '2026-13-01' is not an ISO date/,
    );
    expect(thrown(() => hourly({ start: '2026-01-01', timezone: 'Australia/Lord_Howe' })).message).toMatch(
      /part of an hour/,
    );
  });

  it('names bad options, with suggestions', () => {
    const tz = thrown(() => daily({ start: '2026-01-01', timezone: 'America/New_Yrok' }));
    expect(tz.message).toBe(
      "daily(): timezone 'America/New_Yrok' is not an IANA timezone (did you mean 'America/New_York'?)",
    );
    expect(thrown(() => daily({ start: '2026-01-01', timeZone: 'UTC' } as never)).message).toMatch(
      /unknown option 'timeZone' \(did you mean 'timezone'\?\)/,
    );
    expect(thrown(() => daily({ start: '2026-01-01', endOffset: 1.5 })).message).toMatch(/endOffset/);
    expect(thrown(() => daily({ start: '' })).message).toMatch(/start/);
  });

  it('has / assertHas name the key, the definition and the nearest valid key', () => {
    const d = daily({ start: '2026-01-01' });
    expect(d.has('2026-01-01')).toBe(true);
    expect(d.has('2030-05-05')).toBe(true); // no end: the DSL reads no clock
    expect(d.has('2025-12-31')).toBe(false);
    const before = thrown(() => d.assertHas('2025-12-31'));
    expect(before.message).toBe(
      "partition '2025-12-31' is before the first partition of daily(start=2026-01-01,tz=UTC,offset=0); the first key is '2026-01-01'",
    );
    expect(before.details).toMatchObject({ key: '2025-12-31', nearest: '2026-01-01' });
    expect(thrown(() => d.assertHas('2026-1-5')).message).toMatch(/expected yyyy-MM-dd, e\.g\. 2026-01-01/);
    expect(thrown(() => d.assertHas('2026-02-30')).message).toMatch(/'2026-02-30' is not a key/);
    expect(thrown(() => weekly({ start: '2025-12-29' }).assertHas('2026-01-01')).details.nearest).toBe(
      '2025-12-29',
    );
    expect(monthly({ start: '2026-01-01' }).has('2026-01-01')).toBe(false);
  });

  it('keysInRange is inclusive and rejects reversed or invalid bounds', () => {
    const d = daily({ start: '2026-01-01' });
    expect(d.keysInRange({ from: '2026-01-30', to: '2026-02-02' })).toEqual([
      '2026-01-30',
      '2026-01-31',
      '2026-02-01',
      '2026-02-02',
    ]);
    expect(d.keysInRange({ from: '2026-01-05', to: '2026-01-05' })).toEqual(['2026-01-05']);
    expect(thrown(() => d.keysInRange({ from: '2026-02-01', to: '2026-01-01' })).message).toMatch(
      /^reversed range: '2026-02-01' comes after '2026-01-01'/,
    );
    expect(thrown(() => d.keysInRange({ from: '2025-01-01', to: '2026-01-01' })).message).toMatch(
      /'2025-01-01' is before/,
    );
  });

  it('keyAt, lastKey (with endOffset) and shift', () => {
    const d = daily({ start: '2026-01-01', timezone: 'America/New_York' });
    expect(d.keyAt(utc('2026-01-02T04:59'))).toBe('2026-01-01');
    expect(d.keyAt(utc('2026-01-02T05:00'))).toBe('2026-01-02');
    expect(thrown(() => d.keyAt(utc('2026-01-01T04:00'))).message).toMatch(/before the first partition/);
    expect(d.lastKey(utc('2025-06-01T00:00'))).toBeUndefined();
    expect(d.lastKey(utc('2026-01-01T12:00'))).toBeUndefined(); // first day still open
    expect(d.lastKey(utc('2026-01-02T05:00'))).toBe('2026-01-01'); // closed exactly now
    expect(d.lastKey(utc('2026-01-10T12:00'))).toBe('2026-01-09');
    const ahead = daily({ start: '2026-01-01', endOffset: 1 });
    expect(ahead.lastKey(utc('2026-01-01T12:00'))).toBe('2026-01-01');
    expect(ahead.lastKey(utc('2026-01-10T12:00'))).toBe('2026-01-10');
    expect(daily({ start: '2026-01-01', endOffset: -1 }).lastKey(utc('2026-01-10T12:00'))).toBe('2026-01-08');
    expect(monthly({ start: '2026-01-01' }).lastKey(utc('2026-03-15T00:00'))).toBe('2026-02');
    expect(d.shift('2026-01-31', 1)).toBe('2026-02-01');
    expect(d.shift('2026-02-01', -31)).toBe('2026-01-01');
    expect(thrown(() => d.shift('2026-01-02', -2)).message).toMatch(/goes before the first partition/);
    expect(thrown(() => d.shift('2026-01-02', 0.5)).message).toMatch(/whole number/);
    expect(d.indexOf('2026-01-11')).toBe(10);
  });
});

describe('time partitions across DST', () => {
  const dayHours = (timezone: string, day: string): number =>
    hoursOf(daily({ start: '2026-01-01', timezone }).window(day));

  it('daily windows last 23 / 24 / 25 hours in the timezone', () => {
    expect(dayHours('America/New_York', '2026-03-08')).toBe(23);
    expect(dayHours('America/New_York', '2026-11-01')).toBe(25);
    expect(dayHours('America/New_York', '2026-07-01')).toBe(24);
    expect(dayHours('Europe/Berlin', '2026-03-29')).toBe(23);
    expect(dayHours('Europe/Berlin', '2026-10-25')).toBe(25);
    expect(dayHours('UTC', '2026-03-29')).toBe(24);
    const w = daily({ start: '2026-01-01', timezone: 'America/New_York' }).window('2026-11-01');
    expect(w.start.toISO()).toBe('2026-11-01T00:00:00.000-04:00');
    expect(w.end.toISO()).toBe('2026-11-02T00:00:00.000-05:00');
    expect(hoursOf(weekly({ start: '2026-10-26', timezone: 'America/New_York' }).window('2026-10-26'))).toBe(
      169,
    );
  });

  it('the spring-forward hour has no key', () => {
    const h = hourly({ start: '2026-01-01', timezone: 'America/New_York' });
    const keys = h.keysInRange({ from: '2026-03-08T00', to: '2026-03-08T23' });
    expect(keys).toHaveLength(23);
    expect(keys.slice(0, 3)).toEqual(['2026-03-08T00', '2026-03-08T01', '2026-03-08T03']);
    const skipped = thrown(() => h.assertHas('2026-03-08T02'));
    expect(skipped.message).toMatch(/does not exist in America\/New_York: clocks skip that hour/);
    expect(skipped.details.nearest).toBe('2026-03-08T03');
    expect(hoursOf(h.window('2026-03-08T01'))).toBe(1);
  });

  it('the repeated fall-back hour keys as T01 then T01+1, each a true hour', () => {
    const h = hourly({ start: '2026-01-01', timezone: 'America/New_York' });
    const keys = h.keysInRange({ from: '2026-11-01T00', to: '2026-11-01T23' });
    expect(keys).toHaveLength(25);
    expect(keys.slice(0, 4)).toEqual(['2026-11-01T00', '2026-11-01T01', '2026-11-01T01+1', '2026-11-01T02']);
    expect(h.window('2026-11-01T01').start.toUTC().toISO()).toBe('2026-11-01T05:00:00.000Z');
    expect(h.window('2026-11-01T01+1').start.toUTC().toISO()).toBe('2026-11-01T06:00:00.000Z');
    expect(h.keyAt(utc('2026-11-01T05:30'))).toBe('2026-11-01T01');
    expect(h.keyAt(utc('2026-11-01T06:30'))).toBe('2026-11-01T01+1');
    expect(h.shift('2026-11-01T01', 1)).toBe('2026-11-01T01+1');
    expect(keys.every((k) => hoursOf(h.window(k)) === 1)).toBe(true);
    expect([...keys].sort()).toEqual(keys); // text order is time order
    const once = thrown(() => h.assertHas('2026-11-02T01+1'));
    expect(once.message).toMatch(/01:00 occurs once on 2026-11-02/);
    expect(once.details.nearest).toBe('2026-11-02T01');
    expect(h.has('2026-11-01T01+2')).toBe(false);
    expect(h.has('2026-11-01T01+0')).toBe(false); // one spelling per key
  });

  it('Europe/Berlin: no 02:00 on 2026-03-29, 02:00 twice on 2026-10-25', () => {
    const h = hourly({ start: '2026-01-01', timezone: 'Europe/Berlin' });
    expect(h.keysInRange({ from: '2026-03-29T00', to: '2026-03-29T23' })).toHaveLength(23);
    expect(h.has('2026-03-29T02')).toBe(false);
    const fall = h.keysInRange({ from: '2026-10-25T00', to: '2026-10-25T23' });
    expect(fall).toHaveLength(25);
    expect(fall.slice(2, 4)).toEqual(['2026-10-25T02', '2026-10-25T02+1']);
    expect(h.window('2026-10-25T02+1').start.toUTC().toISO()).toBe('2026-10-25T01:00:00.000Z');
  });

  it('a zone whose midnight is skipped starts that day at 01:00', () => {
    const d = daily({ start: '2026-09-01', timezone: 'America/Santiago' });
    const w = d.window('2026-09-06');
    expect(w.start.hour).toBe(1);
    expect(hoursOf(w)).toBe(23);
    expect(d.keyAt(w.start)).toBe('2026-09-06');
  });
});
