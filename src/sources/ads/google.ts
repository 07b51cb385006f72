import { z } from 'zod';
import { tokenOf, type GoogleAdsCredentials } from './credentials.js';
import { assertZone } from './days.js';
import { requestJson, type HttpResponse, type RetryPolicy, type Verdict } from './http.js';
import type { AdAccountInfo, AdReportRow, AdsConnector } from './types.js';
import { countOf, microsOf } from './values.js';
import { assertNewCursor, refuseUnexpectedResponses } from './refuse.js';

/**
 * Google Ads API over REST: GAQL through `customers/{id}/googleAds:search` (pages of up to 10,000 rows,
 * `pageToken` → `nextPageToken`) or `:searchStream` (one response, a JSON array of batches). Rows come back in
 * lowerCamelCase; int64 values are JSON strings; proto3 omits zero metrics, so absent means 0.
 * cost_micros is already in micros of the account currency.
 */

export interface GoogleAdsConfig {
  /** Default `https://googleads.googleapis.com`. */
  readonly baseUrl?: string;
  /** API version path segment, default `v21`. */
  readonly apiVersion?: string;
  readonly credentials: GoogleAdsCredentials;
  readonly method?: 'search' | 'searchStream';
  readonly retry?: RetryPolicy;
}

const money = z.union([z.string(), z.number()]).optional();
const rowSchema = z.object({
  campaign: z.object({ id: z.union([z.string(), z.number()]), name: z.string().optional() }),
  segments: z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
  metrics: z
    .object({ impressions: money, clicks: money, costMicros: money, conversions: z.number().optional() })
    .default({}),
});
const searchPage = z.object({
  results: z.array(z.unknown()).default([]),
  nextPageToken: z.string().optional(),
});
const streamBatches = z.array(z.object({ results: z.array(z.unknown()).default([]) }));
const customerRow = z.object({
  customer: z.object({
    id: z.union([z.string(), z.number()]),
    timeZone: z.string(),
    currencyCode: z.string(),
  }),
});
const errorBody = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
  }),
});

/** Google's error envelope `{error:{code,message,status,details}}`; searchStream wraps it in an array. */
function inspect(res: HttpResponse): Verdict | undefined {
  if (res.status < 400) return undefined;
  const body = Array.isArray(res.body) ? res.body[0] : res.body;
  const e = errorBody.safeParse(body);
  if (!e.success) return undefined;
  const apiCode = e.data.error.status ?? String(res.status);
  const message = `${apiCode}: ${e.data.error.message ?? 'no message'}`;
  if (res.status === 401 || res.status === 403) return { kind: 'auth', message, apiCode };
  if (res.status === 429 || res.status >= 500) {
    // Quota errors carry `details[].errors[].details.quotaErrorDetails.retryDelay` ("26s"): honour it.
    const delay = /"retryDelay":\s*"(\d+(?:\.\d+)?)s"/.exec(JSON.stringify(body))?.[1];
    return delay === undefined
      ? { kind: 'retry', message, apiCode }
      : { kind: 'retry', message, apiCode, retryAfterMs: Math.round(Number(delay) * 1000) };
  }
  return { kind: 'fatal', message, apiCode };
}

export function createGoogleAdsConnector(config: GoogleAdsConfig): AdsConnector {
  const base = `${config.baseUrl ?? 'https://googleads.googleapis.com'}/${config.apiVersion ?? 'v21'}`;

  async function headers(): Promise<Record<string, string>> {
    const h: Record<string, string> = {
      authorization: `Bearer ${await tokenOf(config.credentials.accessToken)}`,
      'developer-token': config.credentials.developerToken.reveal(),
    };
    if (config.credentials.loginCustomerId) h['login-customer-id'] = config.credentials.loginCustomerId;
    return h;
  }

  /** All result rows of one GAQL query, following page tokens or reading the stream's batches. */
  async function gaql(customerId: string, query: string): Promise<unknown[]> {
    const common = { platform: 'google' as const, accountId: customerId, method: 'POST' as const, inspect };
    if (config.method === 'searchStream') {
      const body = await requestJson(
        {
          ...common,
          url: `${base}/customers/${customerId}/googleAds:searchStream`,
          headers: await headers(),
          body: { query },
        },
        config.retry,
      );
      return streamBatches.parse(body).flatMap((b) => b.results);
    }
    const out: unknown[] = [];
    const seen = new Set<string>();
    let pageToken: string | undefined;
    do {
      const body = await requestJson(
        {
          ...common,
          url: `${base}/customers/${customerId}/googleAds:search`,
          headers: await headers(),
          body: pageToken === undefined ? { query } : { query, pageToken },
        },
        config.retry,
      );
      const page = searchPage.parse(body);
      out.push(...page.results);
      pageToken = page.nextPageToken || undefined;
      assertNewCursor(seen, pageToken, 'google', customerId);
    } while (pageToken !== undefined);
    return out;
  }

  return refuseUnexpectedResponses({
    platform: 'google',

    async accountInfo(accountId: string): Promise<AdAccountInfo> {
      const id = accountId.replace(/-/g, '');
      const rows = await gaql(
        id,
        'SELECT customer.id, customer.time_zone, customer.currency_code FROM customer',
      );
      const c = customerRow.parse(rows[0]).customer;
      return { platform: 'google', accountId, timezone: assertZone(c.timeZone), currency: c.currencyCode };
    },

    async fetchReport(account: AdAccountInfo, from: string, to: string): Promise<AdReportRow[]> {
      const id = account.accountId.replace(/-/g, '');
      const query =
        'SELECT campaign.id, campaign.name, segments.date, metrics.impressions, metrics.clicks, ' +
        'metrics.cost_micros, metrics.conversions FROM campaign ' +
        `WHERE segments.date BETWEEN '${from}' AND '${to}'`;
      const rows = await gaql(id, query);
      return rows.map((raw) => {
        const r = rowSchema.parse(raw);
        return {
          date: r.segments.date,
          platform: 'google',
          account_id: account.accountId,
          account_timezone: account.timezone,
          campaign_id: String(r.campaign.id),
          campaign_name: r.campaign.name ?? null,
          impressions: countOf(r.metrics.impressions),
          clicks: countOf(r.metrics.clicks),
          spend_micros: microsOf(r.metrics.costMicros),
          currency: account.currency,
          conversions: r.metrics.conversions ?? 0,
        };
      });
    },
  });
}
