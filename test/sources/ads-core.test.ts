import { inspect } from 'node:util';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AdsApiError,
  AdsAuthError,
  dayBoundsUtc,
  daysToPull,
  decimalToMicros,
  EngineAdReportStore,
  metaCredentialsFromEnv,
  renderAdRowsSelect,
  requestJson,
  retryAfterMsOf,
  Secret,
  xAdsCredentialsFromEnv,
  type AdReportRow,
} from '../../src/sources/ads/index.js';
import { memoryEngine } from '../fakes/ads/fixtures.js';
import {
  microsToDecimal,
  startFakeServer,
  type FakeServer,
} from '../../src/sources/ads/live/fake-apis/server.js';

describe('money and counts', () => {
  it('converts decimal strings to micros exactly', () => {
    expect(decimalToMicros('5339.5')).toBe('5339500000');
    expect(decimalToMicros('0.000001')).toBe('1');
    expect(decimalToMicros('12')).toBe('12000000');
    expect(decimalToMicros('.5')).toBe('500000');
    expect(decimalToMicros('1.0000005')).toBe('1000001'); // half rounds away from zero
    expect(decimalToMicros('1.00000049')).toBe('1000000');
    expect(decimalToMicros(0.1)).toBe('100000');
    expect(decimalToMicros('98765432109.123456')).toBe('98765432109123456'); // beyond 2^53: still exact
    for (const bad of ['', '1e5', 'abc', '1.2.3', '-'])
      expect(() => decimalToMicros(bad)).toThrow(/not a decimal/);
  });

  it('round-trips any micros amount through the decimal spelling (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        (m) => decimalToMicros(microsToDecimal(m)) === m.toString(),
      ),
    );
  });
});

describe('account-local days', () => {
  it('pulls the restatement window of closed days, catching up gaps and backfills', () => {
    expect(daysToPull({ today: '2026-11-24', restatementDays: 3 })).toEqual([
      '2026-11-21',
      '2026-11-22',
      '2026-11-23',
    ]);
    expect(daysToPull({ today: '2026-11-24', restatementDays: 2, lastPulledDay: '2026-11-19' })).toEqual([
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
      '2026-11-23',
    ]);
    expect(daysToPull({ today: '2026-11-24', restatementDays: 1, firstDay: '2026-11-21' })).toHaveLength(3);
    expect(daysToPull({ today: '2026-11-24', restatementDays: 1, includeToday: true })).toEqual([
      '2026-11-23',
      '2026-11-24',
    ]);
    expect(daysToPull({ today: '2026-03-01', restatementDays: 2 })).toEqual(['2026-02-27', '2026-02-28']);
  });

  it('cuts days at the account’s midnight, DST included', () => {
    expect(dayBoundsUtc('2026-11-01', 'America/New_York')).toEqual({
      start: '2026-11-01T04:00:00Z',
      end: '2026-11-02T05:00:00Z',
    });
    expect(dayBoundsUtc('2026-11-24', 'Asia/Kolkata')).toEqual({
      start: '2026-11-23T18:30:00Z',
      end: '2026-11-24T18:30:00Z',
    });
    expect(() => dayBoundsUtc('2026-11-24', 'Mars/Olympus')).toThrow(/unknown IANA timezone/);
  });
});

describe('HTTP retry policy', () => {
  let server: FakeServer | undefined;
  afterEach(async () => server?.close());

  it('reads Retry-After as seconds or HTTP-date, and X’s x-rate-limit-reset', () => {
    const now = DateTime.fromISO('2026-11-24T10:00:00Z');
    expect(retryAfterMsOf(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'Tue, 24 Nov 2026 10:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMsOf(new Headers({ 'x-rate-limit-reset': String(now.toSeconds() + 7) }), now)).toBe(
      7000,
    );
    expect(retryAfterMsOf(new Headers(), now)).toBeUndefined();
  });

  it('waits at least what Retry-After asks before retrying', async () => {
    server = await startFakeServer(() => ({ status: 200, body: { ok: true } }));
    server.fail({ status: 429, body: {}, headers: { 'retry-after': '1' } });
    const t = performance.now();
    const body = await requestJson(
      { platform: 'google', url: `${server.url}/x` },
      { retries: 2, minBackoffMs: 1, maxBackoffMs: 2 },
    );
    expect(body).toEqual({ ok: true });
    expect(performance.now() - t).toBeGreaterThanOrEqual(950);
    expect(server.requests).toHaveLength(2);
  });

  it('surfaces a Retry-After beyond the in-process limit at once, as retryable', async () => {
    server = await startFakeServer(() => ({ status: 200, body: {} }));
    server.fail({ status: 503, body: {}, headers: { 'retry-after': '3600' } });
    const err = await requestJson(
      { platform: 'tiktok', url: `${server.url}/x?access_token=leak` },
      { maxRetryAfterMs: 10_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdsApiError);
    expect(err).toMatchObject({
      retryable: true,
      retryAfterMs: 3_600_000,
      details: { status: 503, path: '/x' },
    });
    expect((err as Error).message).not.toContain('leak');
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry 401/403, and fails network errors as retryable', async () => {
    server = await startFakeServer(() => ({ status: 403, body: {} }));
    await expect(requestJson({ platform: 'facebook', url: `${server.url}/y` })).rejects.toBeInstanceOf(
      AdsAuthError,
    );
    expect(server.requests).toHaveLength(1);
    const url = server.url;
    await server.close();
    server = undefined;
    await expect(
      requestJson({ platform: 'facebook', url: `${url}/y` }, { retries: 1, minBackoffMs: 1 }),
    ).rejects.toMatchObject({
      name: 'AdsApiError',
      retryable: true,
    });
  });
});

describe('credentials', () => {
  it('never print, whatever the path', () => {
    const s = new Secret('hunter2');
    expect(`${s}`).toBe('[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect({ s })).not.toContain('hunter2');
    expect(s.reveal()).toBe('hunter2');
  });

  it('come from the environment and name what is missing, not values', () => {
    expect(metaCredentialsFromEnv({ TESSERA_META_ACCESS_TOKEN: 'tok' }).accessToken).toBeInstanceOf(Secret);
    expect(() => xAdsCredentialsFromEnv({ TESSERA_X_ADS_CONSUMER_KEY: 'ck' })).toThrow(
      'ads credentials: TESSERA_X_ADS_CONSUMER_SECRET, TESSERA_X_ADS_ACCESS_TOKEN, TESSERA_X_ADS_ACCESS_TOKEN_SECRET not set',
    );
  });
});

describe('ad partition store', () => {
  const row = (over: Partial<AdReportRow> = {}): AdReportRow => ({
    date: '2026-11-23',
    platform: 'google',
    account_id: '1',
    account_timezone: 'UTC',
    campaign_id: 'c1',
    campaign_name: 'O\'Brien\'s "best"',
    impressions: 10,
    clicks: 2,
    spend_micros: '9007199254740993',
    currency: 'EUR',
    conversions: 0.5,
    ...over,
  });

  it('replaces one date × platform × account partition, keeping bigints exact and quotes intact', async () => {
    const engine = await memoryEngine();
    const store = new EngineAdReportStore(engine);
    const key = { date: '2026-11-23', platform: 'google', account_id: '1' } as const;
    await store.replacePartition(key, [row(), row({ campaign_id: 'c2' })]);
    await store.replacePartition({ ...key, account_id: '2' }, [row({ account_id: '2' })]);
    await store.replacePartition(key, [row({ impressions: 11 })]);
    const got = await engine.query(
      `SELECT account_id, campaign_id, campaign_name, impressions::INT AS i, spend_micros::VARCHAR AS s FROM raw.ad_reports ORDER BY 1, 2`,
    );
    expect(got).toEqual([
      {
        account_id: '1',
        campaign_id: 'c1',
        campaign_name: 'O\'Brien\'s "best"',
        i: 11,
        s: '9007199254740993',
      },
      {
        account_id: '2',
        campaign_id: 'c1',
        campaign_name: 'O\'Brien\'s "best"',
        i: 10,
        s: '9007199254740993',
      },
    ]);
    await store.replacePartition(key, []);
    expect(
      await engine.query(`SELECT count(*)::INT AS n FROM raw.ad_reports WHERE account_id = '1'`),
    ).toEqual([{ n: 0 }]);
    await expect(store.replacePartition(key, [row({ date: '2026-11-22' })])).rejects.toThrow(
      /does not belong/,
    );
    expect(renderAdRowsSelect([])).toContain('WHERE 1 = 0');
    await engine.close();
  });
});
