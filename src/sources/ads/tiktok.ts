import { IANAZone } from 'luxon';
import { z } from 'zod';
import { tokenOf, type TikTokCredentials } from './credentials.js';
import { assertZone, chunkDays, dayRange } from './days.js';
import { requestJson, type HttpResponse, type RetryPolicy, type Verdict } from './http.js';
import type { AdAccountInfo, AdReportRow, AdsConnector } from './types.js';
import { countOf, decimalToMicros } from './values.js';
import { AdsApiError } from './errors.js';
import { refuseUnexpectedResponses } from './refuse.js';

/**
 * TikTok API for Business: the synchronous integrated report `GET /open_api/v1.3/report/integrated/get/`
 * (report_type BASIC, data_level AUCTION_CAMPAIGN, dimensions campaign_id × stat_time_day), paged with
 * `page`/`page_size` until `page_info.total_page`. Every response is `{code, message, request_id, data}`, with
 * errors reported as a non-zero `code` under HTTP 200: 40100 is the rate limit, 40001/40102–40105 are
 * permission or token errors. Ranges with stat_time_day are limited to 30 days per request.
 */

export interface TikTokAdsConfig {
  /** Default `https://business-api.tiktok.com`. */
  readonly baseUrl?: string;
  readonly credentials: TikTokCredentials;
  /** Rows per page, default 1000 (the maximum). */
  readonly pageSize?: number;
  readonly retry?: RetryPolicy;
}

const MAX_DAYS_PER_REQUEST = 30;
/** Pages read per window at most (page_size 1000: a million campaign-days); more means a broken page_info. */
const MAX_PAGES = 1000;
const envelope = z.object({ code: z.number(), message: z.string().optional(), data: z.unknown().optional() });
const reportData = z.object({
  list: z.array(
    z.object({
      dimensions: z.object({ campaign_id: z.union([z.string(), z.number()]), stat_time_day: z.string() }),
      metrics: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
    }),
  ),
  page_info: z.object({ page: z.number(), total_page: z.number() }),
});
const advertiserData = z.object({
  list: z
    .array(
      z.object({
        timezone: z.string().optional(),
        display_timezone: z.string().optional(),
        currency: z.string(),
      }),
    )
    .min(1),
});

const RATE_LIMIT = new Set([40100, 40133]);
const AUTH = new Set([40001, 40102, 40103, 40104, 40105, 40106]);

function inspect(res: HttpResponse): Verdict | undefined {
  const e = envelope.safeParse(res.body);
  if (!e.success) return undefined;
  const { code, message } = e.data;
  if (code === 0) return res.status < 300 ? { kind: 'ok' } : undefined;
  const apiCode = String(code);
  const text = `code ${code}: ${message ?? 'no message'}`;
  if (AUTH.has(code)) return { kind: 'auth', message: text, apiCode };
  if (RATE_LIMIT.has(code) || (code >= 50000 && code < 60000))
    return { kind: 'retry', message: text, apiCode };
  return { kind: 'fatal', message: text, apiCode };
}

export function createTikTokAdsConnector(config: TikTokAdsConfig): AdsConnector {
  const base = `${config.baseUrl ?? 'https://business-api.tiktok.com'}/open_api/v1.3`;

  async function get(accountId: string, path: string, params: Record<string, string>): Promise<unknown> {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const token = await tokenOf(config.credentials.accessToken);
    const body = await requestJson(
      { platform: 'tiktok', accountId, url: url.toString(), headers: { 'Access-Token': token }, inspect },
      config.retry,
    );
    return envelope.parse(body).data;
  }

  return refuseUnexpectedResponses({
    platform: 'tiktok',

    async accountInfo(accountId: string): Promise<AdAccountInfo> {
      const data = advertiserData.parse(
        await get(accountId, '/advertiser/info/', {
          advertiser_ids: JSON.stringify([accountId]),
          fields: JSON.stringify(['timezone', 'display_timezone', 'currency']),
        }),
      );
      const a = data.list[0] as z.infer<typeof advertiserData>['list'][number];
      // `display_timezone` is the IANA name; `timezone` may be an offset zone like `Etc/GMT+8`.
      const zone = [a.display_timezone, a.timezone].find((z) => z !== undefined && IANAZone.isValidZone(z));
      return {
        platform: 'tiktok',
        accountId,
        timezone: assertZone(zone ?? String(a.timezone)),
        currency: a.currency,
      };
    },

    async fetchReport(account: AdAccountInfo, from: string, to: string): Promise<AdReportRow[]> {
      const out: AdReportRow[] = [];
      for (const window of chunkDays(dayRange(from, to), MAX_DAYS_PER_REQUEST)) {
        for (let page = 1, totalPages = 1; page <= totalPages; page++) {
          const data = reportData.parse(
            await get(account.accountId, '/report/integrated/get/', {
              advertiser_id: account.accountId,
              report_type: 'BASIC',
              data_level: 'AUCTION_CAMPAIGN',
              dimensions: JSON.stringify(['campaign_id', 'stat_time_day']),
              metrics: JSON.stringify(['campaign_name', 'spend', 'impressions', 'clicks', 'conversion']),
              start_date: window.from,
              end_date: window.to,
              page: String(page),
              page_size: String(config.pageSize ?? 1000),
            }),
          );
          totalPages = data.page_info.total_page;
          if (totalPages > MAX_PAGES)
            throw new AdsApiError(
              `report claims ${totalPages} pages (at most ${MAX_PAGES} are read)`,
              {
                platform: 'tiktok',
                accountId: account.accountId,
              },
              { retryable: false },
            );
          for (const r of data.list) {
            const m = r.metrics;
            out.push({
              date: r.dimensions.stat_time_day.slice(0, 10), // "2026-11-24 00:00:00"
              platform: 'tiktok',
              account_id: account.accountId,
              account_timezone: account.timezone,
              campaign_id: String(r.dimensions.campaign_id),
              campaign_name: typeof m['campaign_name'] === 'string' ? m['campaign_name'] : null,
              impressions: countOf(m['impressions']),
              clicks: countOf(m['clicks']),
              spend_micros:
                m['spend'] === undefined || m['spend'] === null ? '0' : decimalToMicros(m['spend']),
              currency: account.currency,
              conversions: countOf(m['conversion']),
            });
          }
        }
      }
      return out;
    },
  });
}
