/**
 * The simulated campaign-day rows, served by the four wire-format fakes and pulled by the real connectors,
 * land unchanged (exact spend), and their USD spend is the truth's.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsByPlatform } from '../../src/sources/ads/live/index.js';
import { readCampaignDaily, simulate, type GroundTruth } from '../../src/simulator/index.js';
import type { CampaignDailyRow } from '../../src/simulator/index.js';
import { Secret } from '../../src/sources/ads/credentials.js';
import { createGoogleAdsConnector } from '../../src/sources/ads/google.js';
import { createMetaAdsConnector } from '../../src/sources/ads/meta.js';
import type { AdPartitionKey, AdReportStore } from '../../src/sources/ads/store.js';
import { syncAdAccount } from '../../src/sources/ads/sync.js';
import { createTikTokAdsConnector } from '../../src/sources/ads/tiktok.js';
import { createXAdsConnector } from '../../src/sources/ads/twitter.js';
import type { AdPlatform, AdReportRow, AdsConnector } from '../../src/sources/ads/types.js';
import { parseFxCsv } from '../../src/sources/fx/fx.js';
import { FxTable } from '../../src/sources/fx/normalize.js';
import { startFakeGoogleAds } from '../fakes/ads/google.js';
import { startFakeMetaAds } from '../fakes/ads/meta.js';
import type { FakeAdAccount, FakeServer } from '../fakes/ads/server.js';
import { startFakeTikTokAds } from '../fakes/ads/tiktok.js';
import { startFakeXAds } from '../fakes/ads/twitter.js';

const RETRY = { retries: 1, minBackoffMs: 1, maxBackoffMs: 2 } as const;
const X = { consumerKey: 'x-ck', consumerSecret: 'x-cs', accessToken: 'x-at', accessTokenSecret: 'x-ts' };

const PLATFORMS: Record<
  AdPlatform,
  { start(a: FakeAdAccount[]): Promise<FakeServer>; connector(url: string): AdsConnector }
> = {
  google: {
    start: (accounts) => startFakeGoogleAds({ accounts, accessToken: 'g-at', developerToken: 'g-dev' }),
    connector: (baseUrl) =>
      createGoogleAdsConnector({
        baseUrl,
        credentials: {
          developerToken: new Secret('g-dev'),
          accessToken: new Secret('g-at'),
          loginCustomerId: '9999999999',
        },
        retry: RETRY,
      }),
  },
  facebook: {
    start: (accounts) => startFakeMetaAds({ accounts, accessToken: 'm-at' }),
    connector: (baseUrl) =>
      createMetaAdsConnector({ baseUrl, credentials: { accessToken: new Secret('m-at') }, retry: RETRY }),
  },
  tiktok: {
    start: (accounts) => startFakeTikTokAds({ accounts, accessToken: 't-at' }),
    connector: (baseUrl) =>
      createTikTokAdsConnector({ baseUrl, credentials: { accessToken: new Secret('t-at') }, retry: RETRY }),
  },
  twitter: {
    start: (accounts) => startFakeXAds({ accounts, consumerKey: X.consumerKey, accessToken: X.accessToken }),
    connector: (baseUrl) =>
      createXAdsConnector({
        baseUrl,
        credentials: {
          consumerKey: new Secret(X.consumerKey),
          consumerSecret: new Secret(X.consumerSecret),
          accessToken: new Secret(X.accessToken),
          accessTokenSecret: new Secret(X.accessTokenSecret),
        },
        retry: RETRY,
      }),
  },
};

class MemoryStore implements AdReportStore {
  readonly partitions = new Map<string, readonly AdReportRow[]>();
  async replacePartition(key: AdPartitionKey, rows: readonly AdReportRow[]): Promise<{ rowCount: number }> {
    this.partitions.set(`${key.date}|${key.platform}|${key.account_id}`, rows);
    return { rowCount: rows.length };
  }
}

let dir: string;
let truth: GroundTruth;
let ads: CampaignDailyRow[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-sim-ads-'));
  truth = await simulate({ seed: 11, start: '2026-11-23', days: 3, landingDir: dir, scale: 'small' });
  ads = await readCampaignDaily(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('simulated ads through the wire-format fakes', () => {
  it('land every campaign-day with exact spend; USD spend equals the truth', async () => {
    const store = new MemoryStore();
    const accounts = accountsByPlatform(ads);
    // A day after the window's last day, late enough that it is closed in every account timezone.
    const now = DateTime.fromISO('2026-11-27T12:00:00Z', { zone: 'utc' });
    for (const [platform, p] of Object.entries(PLATFORMS) as [AdPlatform, (typeof PLATFORMS)[AdPlatform]][]) {
      const server = await p.start(accounts[platform] as FakeAdAccount[]);
      try {
        for (const a of accounts[platform]) {
          const res = await syncAdAccount({
            connector: p.connector(server.url),
            accountId: a.id,
            store,
            now,
            firstDay: '2026-11-23',
            restatementDays: 1,
          });
          expect(res.currency).toBe(a.currency);
        }
      } finally {
        await server.close();
      }
    }
    const landed = [...store.partitions.values()].flat().filter((r) => r.date <= '2026-11-25');
    expect(landed.length).toBe(ads.length);
    const key = (r: { date: string; campaign_id: string }) => `${r.date}|${r.campaign_id}`;
    const byKey = new Map(landed.map((r) => [key(r), r]));
    for (const r of ads) {
      expect(byKey.get(key(r)), key(r)).toMatchObject({
        platform: r.platform,
        account_id: r.account_id,
        spend_micros: r.spend_micros,
        clicks: r.clicks,
        impressions: r.impressions,
        currency: r.account_currency,
      });
    }
    const fx = new FxTable(parseFxCsv(await readFile(join(dir, 'fx', 'rates.csv'), 'utf8')).rows);
    for (const t of truth.ads_daily) {
      const usd = landed
        .filter((r) => r.date === t.date && r.platform === t.platform)
        .reduce((s, r) => s + (Number(r.spend_micros) / 1e6) * (fx.usdRate(r.currency, r.date) ?? NaN), 0);
      expect(usd).toBeCloseTo(t.spend_usd, 4);
    }
  });
});
