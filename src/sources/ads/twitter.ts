import { z } from 'zod';
import type { XAdsCredentials } from './credentials.js';
import { assertZone, chunkDays, dayBoundsUtc, dayRange } from './days.js';
import { requestJson, type HttpResponse, type RetryPolicy, type Verdict } from './http.js';
import { oauth1Header } from './oauth1.js';
import type { AdAccountInfo, AdReportRow, AdsConnector } from './types.js';
import { addMicros, countOf, microsOf } from './values.js';
import { runStatsJobs, X_ASYNC_MAX_DAYS, type XAsyncStatsOptions } from './twitter-async.js';
import { assertNewCursor, refuseUnexpectedResponses } from './refuse.js';

/**
 * X (Twitter) Ads API, synchronous analytics: `GET /{v}/stats/accounts/:id?entity=CAMPAIGN&entity_ids=…`
 * with granularity DAY over windows of at most 7 days and 20 entity ids, start/end as instants at the
 * account-local midnight. Metrics come as arrays (one value per day, or null) per metric group: ENGAGEMENT
 * (impressions, clicks), BILLING (billed_charge_local_micro), WEB_CONVERSION (conversion_purchases.metric).
 * Campaign names come from `GET accounts/:id/campaigns` (cursor paging). Signed with OAuth 1.0a.
 * Ranges over 7 days go through the asynchronous stats jobs (twitter-async.ts: ≤ 90-day windows, one job per
 * window × 20 ids × placement) unless `asyncStats.mode` says otherwise; the result schema is the same.
 */

export interface XAdsConfig {
  /** Default `https://ads-api.x.com`. */
  readonly baseUrl?: string;
  /** Default `12`. */
  readonly apiVersion?: string;
  readonly credentials: XAdsCredentials;
  /** Placements whose stats are summed; default ALL_ON_TWITTER (add PUBLISHER_NETWORK to include it). */
  readonly placements?: readonly ('ALL_ON_TWITTER' | 'PUBLISHER_NETWORK')[];
  readonly retry?: RetryPolicy;
  /** Asynchronous analytics jobs (default: used for ranges over 7 days). */
  readonly asyncStats?: XAsyncStatsOptions;
}

const MAX_WINDOW_DAYS = 7;
const MAX_ENTITY_IDS = 20;

const accountBody = z.object({ data: z.object({ id: z.string(), timezone: z.string() }) });
const fundingBody = z.object({ data: z.array(z.object({ currency: z.string() })) });
const campaignsBody = z.object({
  data: z.array(z.object({ id: z.string(), name: z.string().nullable().optional() })),
  next_cursor: z.string().nullable().optional(),
});
const series = z
  .array(z.union([z.number(), z.null()]))
  .nullable()
  .optional();
const statsBody = z.object({
  time_series_length: z.number(),
  data: z.array(
    z.object({
      id: z.string(),
      id_data: z.array(
        z.object({
          metrics: z.object({
            impressions: series,
            clicks: series,
            billed_charge_local_micro: series,
            conversion_purchases: z.object({ metric: series }).nullable().optional(),
          }),
        }),
      ),
    }),
  ),
});
const errorsBody = z.object({
  errors: z.array(z.object({ code: z.string(), message: z.string().optional() })).min(1),
});

function inspect(res: HttpResponse): Verdict | undefined {
  if (res.status < 400) return undefined;
  const e = errorsBody.safeParse(res.body);
  if (!e.success) return undefined;
  const first = e.data.errors[0] as { code: string; message?: string };
  const message = `${first.code}: ${first.message ?? 'no message'}`;
  if (res.status === 401 || res.status === 403) return { kind: 'auth', message, apiCode: first.code };
  if (res.status === 429 || res.status >= 500) return { kind: 'retry', message, apiCode: first.code };
  return { kind: 'fatal', message, apiCode: first.code };
}

export function createXAdsConnector(config: XAdsConfig): AdsConnector {
  const base = `${config.baseUrl ?? 'https://ads-api.x.com'}/${config.apiVersion ?? '12'}`;

  async function call(
    method: 'GET' | 'POST',
    accountId: string,
    path: string,
    params: Record<string, string> = {},
  ): Promise<unknown> {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const href = url.toString();
    return requestJson(
      {
        platform: 'twitter',
        accountId,
        url: href,
        method,
        inspect,
        // Fresh nonce and timestamp per attempt: a retried request must not replay a used nonce.
        signHeaders: () => ({ authorization: oauth1Header(method, href, config.credentials) }),
      },
      config.retry,
    );
  }
  const get = (accountId: string, path: string, params: Record<string, string> = {}) =>
    call('GET', accountId, path, params);

  async function campaigns(accountId: string): Promise<Map<string, string | null>> {
    const names = new Map<string, string | null>();
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const params: Record<string, string> = { count: '1000', with_deleted: 'true' };
      if (cursor !== undefined) params['cursor'] = cursor;
      const page = campaignsBody.parse(await get(accountId, `/accounts/${accountId}/campaigns`, params));
      for (const c of page.data) names.set(c.id, c.name ?? null);
      cursor = page.next_cursor ?? undefined;
      assertNewCursor(seen, cursor, 'twitter', accountId);
    } while (cursor !== undefined);
    return names;
  }

  return refuseUnexpectedResponses({
    platform: 'twitter',

    async accountInfo(accountId: string): Promise<AdAccountInfo> {
      const a = accountBody.parse(await get(accountId, `/accounts/${accountId}`));
      const f = fundingBody.parse(await get(accountId, `/accounts/${accountId}/funding_instruments`));
      const currency = f.data[0]?.currency;
      if (currency === undefined)
        throw new Error(`twitter account ${accountId}: no funding instrument, no currency`);
      return { platform: 'twitter', accountId, timezone: assertZone(a.data.timezone), currency };
    },

    async fetchReport(account: AdAccountInfo, from: string, to: string): Promise<AdReportRow[]> {
      const names = await campaigns(account.accountId);
      const ids = [...names.keys()];
      const mode = config.asyncStats?.mode ?? 'auto';
      const all = dayRange(from, to);
      const useJobs = mode === 'always' || (mode === 'auto' && all.length > MAX_WINDOW_DAYS);
      // One stats query per window × 20 ids × placement; each answers with metric arrays, one value per day.
      const queries: { days: string[]; params: Record<string, string> }[] = [];
      for (const window of chunkDays(all, useJobs ? X_ASYNC_MAX_DAYS : MAX_WINDOW_DAYS)) {
        const start = dayBoundsUtc(window.from, account.timezone).start;
        const end = dayBoundsUtc(window.to, account.timezone).end;
        for (let i = 0; i < ids.length; i += MAX_ENTITY_IDS) {
          for (const placement of config.placements ?? ['ALL_ON_TWITTER']) {
            queries.push({
              days: dayRange(window.from, window.to),
              params: {
                entity: 'CAMPAIGN',
                entity_ids: ids.slice(i, i + MAX_ENTITY_IDS).join(','),
                start_time: start,
                end_time: end,
                granularity: 'DAY',
                metric_groups: 'ENGAGEMENT,BILLING,WEB_CONVERSION',
                placement,
              },
            });
          }
        }
      }
      const bodies: unknown[] = [];
      if (useJobs) {
        const api = {
          post: (path: string, params: Record<string, string>) =>
            call('POST', account.accountId, path, params),
          get: (path: string, params: Record<string, string>) => get(account.accountId, path, params),
        };
        bodies.push(
          ...(await runStatsJobs(
            api,
            account.accountId,
            queries.map((q) => q.params),
            config.asyncStats,
            config.retry,
          )),
        );
      } else {
        for (const q of queries)
          bodies.push(await get(account.accountId, `/stats/accounts/${account.accountId}`, q.params));
      }
      // Sum across placements (and windows never overlap), keyed by campaign and day.
      const acc = new Map<string, AdReportRow>();
      queries.forEach(({ days }, n) => {
        const body = statsBody.parse(bodies[n]);
        if (body.time_series_length !== days.length) {
          throw new Error(
            `twitter stats: ${body.time_series_length} points for ${days.length} days ${days[0]}..${days.at(-1)}`,
          );
        }
        for (const entity of body.data) {
          const m = entity.id_data[0]?.metrics;
          if (!m) continue;
          days.forEach((date, d) => {
            const impressions = countOf(m.impressions?.[d]);
            const clicks = countOf(m.clicks?.[d]);
            const spend = microsOf(m.billed_charge_local_micro?.[d]);
            const conversions = countOf(m.conversion_purchases?.metric?.[d]);
            if (impressions === 0 && clicks === 0 && spend === '0' && conversions === 0) return;
            const key = `${entity.id}|${date}`;
            const prev = acc.get(key);
            acc.set(key, {
              date,
              platform: 'twitter',
              account_id: account.accountId,
              account_timezone: account.timezone,
              campaign_id: entity.id,
              campaign_name: names.get(entity.id) ?? null,
              impressions: (prev?.impressions ?? 0) + impressions,
              clicks: (prev?.clicks ?? 0) + clicks,
              spend_micros: addMicros(prev?.spend_micros ?? '0', spend),
              currency: account.currency,
              conversions: (prev?.conversions ?? 0) + conversions,
            });
          });
        }
      });
      return [...acc.values()];
    },
  });
}
