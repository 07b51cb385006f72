import { createHmac, randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type { XAdsCredentials } from './credentials.js';

/**
 * OAuth 1.0a HMAC-SHA1 request signing (RFC 5849), which the X Ads API requires. Small enough to own rather
 * than add a dependency; tested against the RFC's worked example.
 */

/** RFC 3986 percent-encoding (encodeURIComponent leaves !'()* alone). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface OAuth1Fixed {
  /** Seconds since the epoch; default now. */
  readonly timestamp?: string;
  readonly nonce?: string;
}

/** The `Authorization: OAuth …` header for `method url` (query parameters are part of the signature). */
export function oauth1Header(
  method: string,
  url: string,
  creds: XAdsCredentials,
  fixed: OAuth1Fixed = {},
): string {
  const u = new URL(url);
  const oauth: Record<string, string> = {
    oauth_consumer_key: creds.consumerKey.reveal(),
    oauth_nonce: fixed.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: fixed.timestamp ?? String(Math.floor(DateTime.utc().toSeconds())),
    oauth_token: creds.accessToken.reveal(),
    oauth_version: '1.0',
  };
  const pairs: [string, string][] = [...u.searchParams.entries(), ...Object.entries(oauth)].map(([k, v]) => [
    percentEncode(k),
    percentEncode(v),
  ]);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const paramString = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const baseUrl = `${u.protocol}//${u.host}${u.pathname}`;
  const baseString = [method.toUpperCase(), percentEncode(baseUrl), percentEncode(paramString)].join('&');
  const key = `${percentEncode(creds.consumerSecret.reveal())}&${percentEncode(creds.accessTokenSecret.reveal())}`;
  const signature = createHmac('sha1', key).update(baseString).digest('base64');
  const header = { ...oauth, oauth_signature: signature };
  return `OAuth ${Object.entries(header)
    .map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`)
    .join(', ')}`;
}
