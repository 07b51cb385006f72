import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/sources/ads/credentials.js';
import { createGoogleAdsConnector } from '../../src/sources/ads/google.js';
import { EngineAdReportStore } from '../../src/sources/ads/store.js';
import { syncAdAccount } from '../../src/sources/ads/sync.js';
import { adsConnectorContract } from '../fakes/ads/contract.js';
import { account, FAST_RETRY, landed, memoryEngine, NOW, sampleRows } from '../fakes/ads/fixtures.js';
import { googleError, startFakeGoogleAds } from '../../src/sources/ads/live/fake-apis/google.js';
import type { FakeServer } from '../../src/sources/ads/live/fake-apis/server.js';

const TOKEN = 'g-access-token';
const DEV = 'g-developer-token';

function connector(server: FakeServer, opts: { badCredentials?: boolean; stream?: boolean } = {}) {
  return createGoogleAdsConnector({
    baseUrl: server.url,
    credentials: {
      developerToken: new Secret(DEV),
      accessToken: new Secret(opts.badCredentials ? 'wrong-secret' : TOKEN),
      loginCustomerId: '9999999999',
    },
    ...(opts.stream ? { method: 'searchStream' as const } : {}),
    retry: FAST_RETRY,
  });
}

adsConnectorContract({
  platform: 'google',
  accountId: '1234567890',
  timezone: 'America/Los_Angeles',
  restatementDays: 30,
  start: (accounts) => startFakeGoogleAds({ accounts, accessToken: TOKEN, developerToken: DEV, pageSize: 7 }),
  connector,
  rateLimited: {
    ...googleError(429, 'RESOURCE_EXHAUSTED', 'Too many requests. Retry in 0 seconds.'),
    headers: { 'retry-after': '0' },
  },
  reportPath: 'googleAds:search',
});

describe('google ads specifics', () => {
  let server: FakeServer | undefined;
  afterEach(async () => server?.close());

  it('sends GAQL over the account-local window with the developer and login-customer headers', async () => {
    server = await startFakeGoogleAds({
      accounts: [account('1234567890', 'Asia/Kolkata', 'INR', sampleRows('2026-11-01', '2026-11-24'))],
      accessToken: TOKEN,
      developerToken: DEV,
    });
    const engine = await memoryEngine();
    const res = await syncAdAccount({
      connector: connector(server),
      accountId: '123-456-7890',
      store: new EngineAdReportStore(engine),
      now: NOW,
      restatementDays: 3,
    });
    // 06:00Z is 11:30 in Kolkata: today is the 24th there, so the closed days are 21..23.
    expect(res.days).toEqual(['2026-11-21', '2026-11-22', '2026-11-23']);
    const report = server.requests.at(-1);
    expect(report?.headers['developer-token']).toBe(DEV);
    expect(report?.headers['login-customer-id']).toBe('9999999999');
    expect(report?.path).toBe('/v21/customers/1234567890/googleAds:search');
    expect((report?.body as { query: string }).query).toContain(
      "segments.date BETWEEN '2026-11-21' AND '2026-11-23'",
    );
    expect(await landed(engine, 'google', '123-456-7890')).toHaveLength(6);
    await engine.close();
  });

  it('reads searchStream batches, and zero metrics that proto3 JSON omits', async () => {
    const rows = sampleRows('2026-11-20', '2026-11-23').map((r, i) =>
      i === 0 ? { ...r, impressions: 0, clicks: 0, spendMicros: 0n, conversions: 0 } : r,
    );
    server = await startFakeGoogleAds({
      accounts: [account('1234567890', 'America/New_York', 'USD', rows)],
      accessToken: TOKEN,
      developerToken: DEV,
      pageSize: 3,
    });
    const c = connector(server, { stream: true });
    const info = await c.accountInfo('1234567890');
    const got = await c.fetchReport(info, '2026-11-20', '2026-11-23');
    expect(got).toHaveLength(8);
    expect(got[0]).toMatchObject({ impressions: 0, clicks: 0, spend_micros: '0', conversions: 0 });
    expect(server.requests.filter((r) => r.path.endsWith(':searchStream'))).toHaveLength(2);
  });

  it('classifies 403 PERMISSION_DENIED as an auth error and 400 INVALID_ARGUMENT as fatal', async () => {
    server = await startFakeGoogleAds({ accounts: [], accessToken: TOKEN, developerToken: DEV });
    await expect(connector(server).accountInfo('1111111111')).rejects.toMatchObject({
      name: 'AdsAuthError',
      details: { apiCode: 'PERMISSION_DENIED', status: 403 },
    });
    server.fail(googleError(400, 'INVALID_ARGUMENT', 'Error in query'));
    await expect(connector(server).accountInfo('1111111111')).rejects.toMatchObject({
      name: 'AdsApiError',
      retryable: false,
    });
  });
});
