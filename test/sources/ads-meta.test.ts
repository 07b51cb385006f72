import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../src/sources/ads/credentials.js';
import { createMetaAdsConnector } from '../../src/sources/ads/meta.js';
import { adsConnectorContract } from '../fakes/ads/contract.js';
import { account, FAST_RETRY, sampleRows } from '../fakes/ads/fixtures.js';
import { META_USER_LIMIT, metaError, startFakeMetaAds } from '../../src/sources/ads/live/fake-apis/meta.js';
import type { FakeServer } from '../../src/sources/ads/live/fake-apis/server.js';

const TOKEN = 'meta-system-user-token';

function connector(server: FakeServer, opts: { badCredentials?: boolean; pageSize?: number } = {}) {
  return createMetaAdsConnector({
    baseUrl: server.url,
    credentials: { accessToken: new Secret(opts.badCredentials ? 'wrong-secret' : TOKEN) },
    pageSize: opts.pageSize ?? 9,
    retry: FAST_RETRY,
  });
}

adsConnectorContract({
  platform: 'facebook',
  accountId: '1010101010',
  timezone: 'Europe/Berlin',
  restatementDays: 28,
  start: (accounts) => startFakeMetaAds({ accounts, accessToken: TOKEN }),
  connector,
  rateLimited: META_USER_LIMIT,
  reportPath: '/insights',
});

describe('meta insights specifics', () => {
  let server: FakeServer | undefined;
  afterEach(async () => server?.close());

  it('asks for daily campaign insights by time_range, follows cursors, keeps the token out of URLs', async () => {
    server = await startFakeMetaAds({
      accounts: [account('42', 'America/Sao_Paulo', 'BRL', sampleRows('2026-11-01', '2026-11-10'))],
      accessToken: TOKEN,
    });
    const c = connector(server, { pageSize: 4 });
    const info = await c.accountInfo('act_42');
    expect(info).toMatchObject({ timezone: 'America/Sao_Paulo', currency: 'BRL' });
    const rows = await c.fetchReport(info, '2026-11-03', '2026-11-05');
    expect(rows.map((r) => r.date)).toEqual([
      '2026-11-03',
      '2026-11-03',
      '2026-11-04',
      '2026-11-04',
      '2026-11-05',
      '2026-11-05',
    ]);
    const reports = server.requests.filter((r) => r.path.endsWith('/insights'));
    expect(reports).toHaveLength(2);
    expect(JSON.parse(reports[0]?.query.get('time_range') ?? '')).toEqual({
      since: '2026-11-03',
      until: '2026-11-05',
    });
    expect(reports[1]?.query.get('after')).toBeTruthy();
    expect(server.requests.every((r) => !r.query.has('access_token'))).toBe(true);
  });

  it('counts only the configured action types as conversions (not purchase twice) and parses string spend', async () => {
    server = await startFakeMetaAds({
      accounts: [account('42', 'UTC', 'USD', sampleRows('2026-11-01', '2026-11-01'))],
      accessToken: TOKEN,
    });
    const c = connector(server);
    const rows = await c.fetchReport(await c.accountInfo('42'), '2026-11-01', '2026-11-01');
    expect(rows.map((r) => [r.conversions, r.spend_micros])).toEqual([
      [0, '12345678'],
      [1, '12345679'],
    ]);
  });

  it('waits out estimated_time_to_regain_access only when told, and fails fast on permission errors', async () => {
    server = await startFakeMetaAds({ accounts: [account('42', 'UTC', 'USD', [])], accessToken: TOKEN });
    server.fail({
      ...metaError(400, 80000, 'There have been too many calls from this ad-account.'),
      headers: {
        'x-business-use-case-usage': '{"42":[{"type":"ads_insights","estimated_time_to_regain_access":0}]}',
      },
    });
    await expect(connector(server).accountInfo('42')).resolves.toMatchObject({ currency: 'USD' });
    server.fail(metaError(403, 200, '(#200) Requires ads_read permission'));
    await expect(connector(server).accountInfo('42')).rejects.toMatchObject({
      name: 'AdsAuthError',
      details: { apiCode: '200' },
    });
    server.fail(metaError(400, 100, 'Invalid parameter'));
    await expect(connector(server).accountInfo('42')).rejects.toMatchObject({
      name: 'AdsApiError',
      retryable: false,
    });
  });
});
