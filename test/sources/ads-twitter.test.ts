import { afterEach, describe, expect, it } from 'vitest';
import { Secret, type XAdsCredentials } from '../../src/sources/ads/credentials.js';
import { oauth1Header } from '../../src/sources/ads/oauth1.js';
import { AdsApiError } from '../../src/sources/ads/errors.js';
import { createXAdsConnector } from '../../src/sources/ads/twitter.js';
import { adsConnectorContract } from '../fakes/ads/contract.js';
import { account, FAST_RETRY, sampleRows } from '../fakes/ads/fixtures.js';
import type { FakeServer } from '../../src/sources/ads/live/fake-apis/server.js';
import { startFakeXAds, X_RATE_LIMIT } from '../../src/sources/ads/live/fake-apis/twitter.js';

const creds = (bad = false): XAdsCredentials => ({
  consumerKey: new Secret('x-consumer-key'),
  consumerSecret: new Secret('x-consumer-secret'),
  accessToken: new Secret(bad ? 'wrong-secret' : 'x-access-token'),
  accessTokenSecret: new Secret('x-token-secret'),
});

function connector(
  server: FakeServer,
  opts: { badCredentials?: boolean; network?: boolean; mode?: 'auto' | 'always' | 'never' } = {},
) {
  return createXAdsConnector({
    baseUrl: server.url,
    credentials: creds(opts.badCredentials),
    ...(opts.network ? { placements: ['ALL_ON_TWITTER', 'PUBLISHER_NETWORK'] as const } : {}),
    retry: FAST_RETRY,
    asyncStats: { pollIntervalMs: 1, maxPollIntervalMs: 5, ...(opts.mode ? { mode: opts.mode } : {}) },
  });
}

type XFakeOptions = Parameters<typeof startFakeXAds>[0];
const start = (
  accounts: XFakeOptions['accounts'],
  campaignsPageSize?: number,
  more: Partial<XFakeOptions> = {},
) =>
  startFakeXAds({
    accounts,
    consumerKey: 'x-consumer-key',
    accessToken: 'x-access-token',
    ...(campaignsPageSize ? { campaignsPageSize } : {}),
    ...more,
  });

adsConnectorContract({
  platform: 'twitter',
  accountId: '18ce54d4x5t',
  timezone: 'America/New_York',
  restatementDays: 7,
  start: (accounts) => start(accounts, 1),
  connector,
  rateLimited: X_RATE_LIMIT(0),
  reportPath: '/stats/accounts/',
  pagedPath: '/campaigns',
});

describe('x ads specifics', () => {
  let server: FakeServer | undefined;
  afterEach(async () => server?.close());

  it('signs like the OAuth 1.0a reference example', () => {
    const url =
      'https://api.twitter.com/1.1/statuses/update.json?include_entities=true&' +
      'status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21';
    const header = oauth1Header(
      'POST',
      url,
      {
        consumerKey: new Secret('xvz1evFS4wEEPTGEFPHBog'),
        consumerSecret: new Secret('kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw'),
        accessToken: new Secret('370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb'),
        accessTokenSecret: new Secret('LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE'),
      },
      { nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg', timestamp: '1318622958' },
    );
    expect(header).toContain(`oauth_signature="${encodeURIComponent('hCtSmYh+iHYCEqBWrE7C7hYmtUk=')}"`);
  });

  it('asks ≤7-day windows at account-local midnights (across DST) and ≤20 campaigns per call', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => String(1000 + i));
    server = await start([
      account('abc1', 'America/New_York', 'USD', sampleRows('2026-10-20', '2026-11-10', ids)),
    ]);
    const c = connector(server, { mode: 'never' });
    const info = await c.accountInfo('abc1');
    const rows = await c.fetchReport(info, '2026-10-28', '2026-11-06');
    expect(rows).toHaveLength(10 * 25);
    const stats = server.requests.filter((r) => r.path.includes('/stats/accounts/'));
    expect(stats.map((r) => [r.query.get('start_time'), r.query.get('end_time')])).toEqual([
      ['2026-10-28T04:00:00Z', '2026-11-04T05:00:00Z'],
      ['2026-10-28T04:00:00Z', '2026-11-04T05:00:00Z'],
      ['2026-11-04T05:00:00Z', '2026-11-07T05:00:00Z'],
      ['2026-11-04T05:00:00Z', '2026-11-07T05:00:00Z'],
    ]);
    expect(stats.map((r) => r.query.get('entity_ids')?.split(',').length)).toEqual([20, 5, 20, 5]);
    const one = rows.find((r) => r.campaign_id === '1003' && r.date === '2026-11-01');
    const src = sampleRows('2026-10-20', '2026-11-10', ids).find(
      (r) => r.campaignId === '1003' && r.date === '2026-11-01',
    );
    expect(one).toMatchObject({
      spend_micros: String(src?.spendMicros),
      impressions: src?.impressions,
      campaign_name: 'Campaign 1003',
    });
  });

  it('sums placements and skips days with no delivery', async () => {
    server = await start([account('abc1', 'UTC', 'GBP', sampleRows('2026-11-02', '2026-11-03', ['1']))]);
    const c = connector(server, { network: true });
    const rows = await c.fetchReport(await c.accountInfo('abc1'), '2026-11-01', '2026-11-04');
    expect(rows.map((r) => [r.date, r.currency])).toEqual([
      ['2026-11-02', 'GBP'],
      ['2026-11-03', 'GBP'],
    ]);
    expect(server.requests.filter((r) => r.query.get('placement') === 'PUBLISHER_NETWORK')).toHaveLength(1);
  });

  describe('asynchronous stats jobs', () => {
    const ids = Array.from({ length: 25 }, (_, i) => String(2000 + i));
    const rowsOf = () => sampleRows('2026-07-01', '2026-11-10', ids);

    it('over 7 days: creates ≤90-day jobs, polls them to SUCCESS and reads the gzipped files', async () => {
      server = await start([account('abc1', 'America/New_York', 'USD', rowsOf())], undefined, {
        asyncJobs: { pollsUntilDone: 3 },
      });
      const rows = await connector(server).fetchReport(
        await connector(server).accountInfo('abc1'),
        '2026-07-15',
        '2026-11-06',
      );
      // 115 days → windows of 90 + 25 days, × 2 groups of ≤20 campaigns: 4 jobs, no synchronous stats call.
      const created = server.requests.filter((r) => r.method === 'POST' && r.path.includes('/stats/jobs/'));
      expect(created.map((r) => [r.query.get('start_time'), r.query.get('end_time')])).toEqual([
        ['2026-07-15T04:00:00Z', '2026-10-13T04:00:00Z'],
        ['2026-07-15T04:00:00Z', '2026-10-13T04:00:00Z'],
        ['2026-10-13T04:00:00Z', '2026-11-07T05:00:00Z'],
        ['2026-10-13T04:00:00Z', '2026-11-07T05:00:00Z'],
      ]);
      expect(created[0]?.headers['authorization']).toMatch(/^OAuth .*oauth_signature=/);
      expect(server.requests.filter((r) => r.path.includes('/stats/accounts/'))).toHaveLength(0);
      expect(server.requests.filter((r) => r.path.startsWith('/ton/'))).toHaveLength(4);
      // The same rows as the synchronous endpoint gives, day by day.
      const sync = await connector(server, { mode: 'never' }).fetchReport(
        await connector(server).accountInfo('abc1'),
        '2026-07-15',
        '2026-11-06',
      );
      const order = (r: { date: string; campaign_id: string }) => `${r.date}|${r.campaign_id}`;
      expect(rows).toHaveLength(115 * 25);
      expect([...rows].sort((a, b) => order(a).localeCompare(order(b)))).toEqual(
        [...sync].sort((a, b) => order(a).localeCompare(order(b))),
      );
    });

    it('pages the job listing with its cursor', async () => {
      server = await start([account('abc1', 'UTC', 'USD', rowsOf())], undefined, {
        jobsPageSize: 1,
        asyncJobs: { pollsUntilDone: 1 },
      });
      const c = connector(server, { mode: 'always' });
      const rows = await c.fetchReport(await c.accountInfo('abc1'), '2026-11-01', '2026-11-03');
      expect(rows).toHaveLength(3 * 25);
      const listings = server.requests.filter((r) => r.method === 'GET' && r.path.includes('/stats/jobs/'));
      // Two jobs (25 campaigns), one per page: the second page asked for with the first page's cursor.
      expect(listings.map((r) => r.query.get('cursor'))).toEqual([null, '1']);
      expect(listings[0]?.query.get('job_ids')?.split(',')).toHaveLength(2);
    });

    it('a FAILED job raises a retryable error and returns nothing', async () => {
      server = await start([account('abc1', 'UTC', 'USD', rowsOf())], undefined, {
        asyncJobs: { outcome: (n) => (n === 1 ? 'FAILED' : 'SUCCESS') },
      });
      const c = connector(server, { mode: 'always' });
      const err = await c
        .fetchReport(await c.accountInfo('abc1'), '2026-11-01', '2026-11-03')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdsApiError);
      expect((err as AdsApiError).retryable).toBe(true);
      expect((err as Error).message).toMatch(/stats job \d+ FAILED/);
      expect(server.requests.filter((r) => r.path.startsWith('/ton/'))).toHaveLength(0);
    });
  });
});
