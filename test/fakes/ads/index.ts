/**
 * Local HTTP fakes of the four ads APIs, speaking each one's documented request/response format, paging,
 * errors and rate limits. Give them any rows (FakeAdAccount.rows, mutable between runs to play restatements):
 * the tests and the simulator serve their data through them; nothing here reaches the internet.
 */
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
