/**
 * Ads sources: Google Ads, Meta, TikTok and X Ads reports into one table, `raw.ad_reports`
 * (campaign × account-local day), partitioned date × platform × account and replaced whole per day within each
 * platform's restatement window. Money stays in account currency (spend_micros); ../fx normalizes to USD.
 *
 * - types.ts, errors.ts          shapes, restatement defaults, AdsAuthError (non-retryable) / AdsApiError
 * - http.ts                       fetch + p-retry: backoff, Retry-After, error classification
 * - google/meta/tiktok/twitter.ts one connector per API (wire format only); twitter-async.ts X's stats jobs
 * - live/                          live mode: the API fakes (live/fake-apis) and the ads SourceLoader
 * - sync.ts, days.ts, store.ts    days to pull in the account's timezone, partition replace, watermark
 * May import: ../types.js, engine *types*, luxon, zod, p-retry, node built-ins. Not: workflows, activities.
 */
import {
  googleAdsCredentialsFromEnv,
  metaCredentialsFromEnv,
  tiktokCredentialsFromEnv,
  xAdsCredentialsFromEnv,
} from './credentials.js';
import { createGoogleAdsConnector } from './google.js';
import type { RetryPolicy } from './http.js';
import { createMetaAdsConnector } from './meta.js';
import { createTikTokAdsConnector } from './tiktok.js';
import { createXAdsConnector } from './twitter.js';
import type { AdPlatform, AdsConnector } from './types.js';

export * from './types.js';
export * from './errors.js';
export * from './credentials.js';
export { requestJson, retryAfterMsOf, type RetryPolicy, type JsonRequest, type Verdict } from './http.js';
export { decimalToMicros, microsOf } from './values.js';
export { daysToPull, dayBoundsUtc, todayIn, dayRange, type DaysToPullInput } from './days.js';
export {
  EngineAdReportStore,
  adPartitionKey,
  renderAdRowsSelect,
  type AdReportStore,
  type AdPartitionKey,
} from './store.js';
export { syncAdAccount, type AdSyncOptions, type AdSyncResult } from './sync.js';
export { createGoogleAdsConnector, type GoogleAdsConfig } from './google.js';
export { createMetaAdsConnector, type MetaAdsConfig } from './meta.js';
export { createTikTokAdsConnector, type TikTokAdsConfig } from './tiktok.js';
export { createXAdsConnector, type XAdsConfig } from './twitter.js';
export { runStatsJobs, X_ASYNC_MAX_DAYS, type XAsyncStatsOptions } from './twitter-async.js';
export { oauth1Header } from './oauth1.js';

/** A connector for `platform` with credentials from the environment (see credentials.ts for the names). */
export function createAdsConnectorFromEnv(
  platform: AdPlatform,
  options: { baseUrl?: string; retry?: RetryPolicy } = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): AdsConnector {
  const common = {
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
  };
  switch (platform) {
    case 'google':
      return createGoogleAdsConnector({ ...common, credentials: googleAdsCredentialsFromEnv(env) });
    case 'facebook':
      return createMetaAdsConnector({ ...common, credentials: metaCredentialsFromEnv(env) });
    case 'tiktok':
      return createTikTokAdsConnector({ ...common, credentials: tiktokCredentialsFromEnv(env) });
    case 'twitter':
      return createXAdsConnector({ ...common, credentials: xAdsCredentialsFromEnv(env) });
  }
}
