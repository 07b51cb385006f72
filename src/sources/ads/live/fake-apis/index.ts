/**
 * Local stand-ins for the four ads APIs (Google Ads, Meta Marketing, TikTok Business, X Ads), speaking each
 * one's documented request/response format, paging, errors and rate limits. The tests use them, and live mode
 * serves the simulator's ad data through them, because the real cloud APIs cannot run here. Loopback only;
 * nothing here reaches the internet.
 */
import type { AdPlatform } from '../../types.js';
import { accountsByPlatform, readCampaignDailyFile, type CampaignDailyRecord } from './campaign-daily.js';
import { startFakeGoogleAds } from './google.js';
import { startFakeMetaAds } from './meta.js';
import type { FakeAdAccount, FakeServer } from './server.js';
import { startFakeTikTokAds } from './tiktok.js';
import { startFakeXAds } from './twitter.js';

export {
  startFakeServer,
  microsToDecimal,
  type FakeAdRow,
  type FakeAdAccount,
  type FakeServer,
  type Fault,
} from './server.js';
export { startFakeGoogleAds, googleError, type FakeGoogleAdsOptions } from './google.js';
export { startFakeMetaAds, metaError, META_USER_LIMIT, type FakeMetaOptions } from './meta.js';
export { startFakeTikTokAds, tiktokError, TIKTOK_RATE_LIMIT, type FakeTikTokOptions } from './tiktok.js';
export { startFakeXAds, xError, X_RATE_LIMIT, type FakeXAdsOptions } from './twitter.js';
export {
  accountsByPlatform,
  readCampaignDailyFile,
  campaignDailySchema,
  type CampaignDailyRecord,
} from './campaign-daily.js';

export interface AdsApiFakesOptions {
  /** A folder `simulate()` wrote: its `ads/campaign_daily.json` is served. Give this or `rows`. */
  readonly landingDir?: string;
  /** Campaign-day rows in the same shape as `campaign_daily.json`. */
  readonly rows?: readonly CampaignDailyRecord[];
  /**
   * Rows per page (Google search pages, X campaign listing and job listing); default the APIs' own sizes.
   * Small values exercise paging.
   */
  readonly pageSize?: number;
}

export interface AdsApiFakes {
  /** Base URL per platform: pass as `baseUrl` to the platform's connector. */
  readonly baseUrls: Readonly<Record<AdPlatform, string>>;
  /**
   * The credentials the fakes accept, as the `TESSERA_*` variables `createAdsConnectorFromEnv(platform,
   * { baseUrl }, env)` reads. Fake values; still never log them (the real ones go through the same path).
   */
  readonly env: Readonly<Record<string, string>>;
  /** The ad accounts served, per platform (rows are mutable: change them to play a restatement). */
  readonly accounts: Readonly<Record<AdPlatform, readonly FakeAdAccount[]>>;
  /** Their ids, per platform: the `accounts` option of `createAdsApiLoader`. */
  readonly accountIds: Readonly<Record<AdPlatform, readonly string[]>>;
  /** The running servers (request log, fault injection). */
  readonly servers: Readonly<Record<AdPlatform, FakeServer>>;
  close(): Promise<void>;
}

/** Exported for the secrets test, which checks that none of them leaks anywhere. */
export const FAKE_API_CREDENTIALS = {
  TESSERA_GOOGLE_ADS_DEVELOPER_TOKEN: 'fake-google-developer-token',
  TESSERA_GOOGLE_ADS_ACCESS_TOKEN: 'fake-google-access-token',
  TESSERA_META_ACCESS_TOKEN: 'fake-meta-access-token',
  TESSERA_TIKTOK_ACCESS_TOKEN: 'fake-tiktok-access-token',
  TESSERA_X_ADS_CONSUMER_KEY: 'fake-x-consumer-key',
  TESSERA_X_ADS_CONSUMER_SECRET: 'fake-x-consumer-secret',
  TESSERA_X_ADS_ACCESS_TOKEN: 'fake-x-access-token',
  TESSERA_X_ADS_ACCESS_TOKEN_SECRET: 'fake-x-access-token-secret',
} as const;

/** Starts all four fakes on loopback ports, serving the given campaign-day rows. */
export async function startAdsApiFakes(options: AdsApiFakesOptions): Promise<AdsApiFakes> {
  const records =
    options.rows ??
    (options.landingDir !== undefined ? await readCampaignDailyFile(options.landingDir) : undefined);
  if (records === undefined) throw new Error('startAdsApiFakes: give landingDir or rows');
  const accounts = accountsByPlatform(records);
  const page = options.pageSize;
  const started: FakeServer[] = [];
  const track = async (s: Promise<FakeServer>): Promise<FakeServer> => {
    const server = await s;
    started.push(server);
    return server;
  };
  try {
    const servers: Record<AdPlatform, FakeServer> = {
      google: await track(
        startFakeGoogleAds({
          accounts: accounts.google,
          accessToken: FAKE_API_CREDENTIALS.TESSERA_GOOGLE_ADS_ACCESS_TOKEN,
          developerToken: FAKE_API_CREDENTIALS.TESSERA_GOOGLE_ADS_DEVELOPER_TOKEN,
          ...(page !== undefined ? { pageSize: page } : {}),
        }),
      ),
      facebook: await track(
        startFakeMetaAds({
          accounts: accounts.facebook,
          accessToken: FAKE_API_CREDENTIALS.TESSERA_META_ACCESS_TOKEN,
        }),
      ),
      tiktok: await track(
        startFakeTikTokAds({
          accounts: accounts.tiktok,
          accessToken: FAKE_API_CREDENTIALS.TESSERA_TIKTOK_ACCESS_TOKEN,
        }),
      ),
      twitter: await track(
        startFakeXAds({
          accounts: accounts.twitter,
          consumerKey: FAKE_API_CREDENTIALS.TESSERA_X_ADS_CONSUMER_KEY,
          accessToken: FAKE_API_CREDENTIALS.TESSERA_X_ADS_ACCESS_TOKEN,
          ...(page !== undefined ? { campaignsPageSize: page, jobsPageSize: page } : {}),
        }),
      ),
    };
    return {
      baseUrls: {
        google: servers.google.url,
        facebook: servers.facebook.url,
        tiktok: servers.tiktok.url,
        twitter: servers.twitter.url,
      },
      env: { ...FAKE_API_CREDENTIALS },
      accounts,
      accountIds: {
        google: accounts.google.map((a) => a.id),
        facebook: accounts.facebook.map((a) => a.id),
        tiktok: accounts.tiktok.map((a) => a.id),
        twitter: accounts.twitter.map((a) => a.id),
      },
      servers,
      close: async () => {
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (e) {
    await Promise.all(started.map((s) => s.close().catch(() => undefined)));
    throw e;
  }
}
