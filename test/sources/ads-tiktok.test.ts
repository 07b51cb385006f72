import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/sources/ads/credentials.js';
import { createTikTokAdsConnector } from '../../src/sources/ads/tiktok.js';
import { adsConnectorContract } from '../fakes/ads/contract.js';
import { account, FAST_RETRY, sampleRows } from '../fakes/ads/fixtures.js';
import type { FakeServer } from '../../src/sources/ads/live/fake-apis/server.js';
import {
  startFakeTikTokAds,
  TIKTOK_RATE_LIMIT,
  tiktokError,
} from '../../src/sources/ads/live/fake-apis/tiktok.js';

const TOKEN = 'tt-access-token';

function connector(server: FakeServer, opts: { badCredentials?: boolean } = {}) {
  return createTikTokAdsConnector({
    baseUrl: server.url,
    credentials: { accessToken: new Secret(opts.badCredentials ? 'wrong-secret' : TOKEN) },
    pageSize: 4,
    retry: FAST_RETRY,
  });
}

adsConnectorContract({
  platform: 'tiktok',
  accountId: '7000000000000000001',
  timezone: 'Asia/Singapore',
  restatementDays: 3,
  start: (accounts) => startFakeTikTokAds({ accounts, accessToken: TOKEN }),
  connector,
  rateLimited: TIKTOK_RATE_LIMIT,
  reportPath: '/report/integrated/get/',
});

describe('tiktok integrated report specifics', () => {
  let server: FakeServer | undefined;
  afterEach(async () => server?.close());

  it('splits long ranges into ≤30-day requests and pages each with page/page_size', async () => {
    server = await startFakeTikTokAds({
      accounts: [account('77', 'America/Chicago', 'USD', sampleRows('2026-09-01', '2026-11-30'))],
      accessToken: TOKEN,
    });
    const c = connector(server);
    const info = await c.accountInfo('77');
    expect(info).toMatchObject({ timezone: 'America/Chicago', currency: 'USD' });
    const rows = await c.fetchReport(info, '2026-09-01', '2026-11-09');
    expect(rows).toHaveLength(70 * 2);
    expect(new Set(rows.map((r) => `${r.campaign_id}|${r.date}`)).size).toBe(140);
    const reports = server.requests.filter((r) => r.path.endsWith('/report/integrated/get/'));
    const windows = [
      ...new Set(reports.map((r) => `${r.query.get('start_date')}..${r.query.get('end_date')}`)),
    ];
    expect(windows).toEqual(['2026-09-01..2026-09-30', '2026-10-01..2026-10-30', '2026-10-31..2026-11-09']);
    expect(
      reports.every((r) => r.headers['access-token'] === TOKEN && r.query.get('page_size') === '4'),
    ).toBe(true);
    expect(
      reports.filter((r) => r.query.get('start_date') === '2026-09-01').map((r) => r.query.get('page')),
    ).toEqual(Array.from({ length: 15 }, (_, i) => String(i + 1)));
  });

  it('treats a non-zero code under HTTP 200 as the error it is', async () => {
    server = await startFakeTikTokAds({ accounts: [account('77', 'UTC', 'USD', [])], accessToken: TOKEN });
    server.fail(tiktokError(40002, 'page_size: must be between 1 and 1000.'));
    await expect(connector(server).accountInfo('77')).rejects.toMatchObject({
      name: 'AdsApiError',
      retryable: false,
      details: { apiCode: '40002', status: 200 },
    });
    server.fail(tiktokError(51021, 'Internal error, please retry.'));
    await expect(connector(server).accountInfo('77')).resolves.toMatchObject({ currency: 'USD' });
    await expect(connector(server).accountInfo('78')).rejects.toMatchObject({
      name: 'AdsAuthError',
      details: { apiCode: '40001' },
    });
  });
});
