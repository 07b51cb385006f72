/**
 * Ads in live mode: `createAdsApiLoader` pulls `raw.ad_reports` through the real connectors over HTTP, and
 * `startAdsApiFakes` (fake-apis/) serves the simulator's campaign-day rows in each API's wire format, standing in
 * for the cloud APIs that cannot run here.
 */
export { createAdsApiLoader, type AdsApiLoader, type AdsApiLoaderOptions } from './loader.js';
export {
  startAdsApiFakes,
  accountsByPlatform,
  readCampaignDailyFile,
  type AdsApiFakes,
  type AdsApiFakesOptions,
  type CampaignDailyRecord,
} from './fake-apis/index.js';
