import { z } from 'zod';
import { tokenOf, type MetaCredentials } from './credentials.js';
import { assertZone } from './days.js';
import { requestJson, type HttpResponse, type RetryPolicy, type Verdict } from './http.js';
import type { AdAccountInfo, AdReportRow, AdsConnector } from './types.js';
import { countOf, decimalToMicros } from './values.js';
import { assertNewCursor, refuseUnexpectedResponses } from './refuse.js';

/**
 * Meta Marketing API insights: `GET /{version}/act_{id}/insights?level=campaign&time_increment=1&time_range=…`
 * with cursor paging (`paging.cursors.after`, more pages while `paging.next` is present). Every value is a
 * string; spend is in major units of the account currency; conversions are the sum of the configured
 * `actions[].action_type`s. Errors come as `{error:{code,error_subcode,type,message}}`, mostly HTTP 400, so
 * they are classified by code: throttling (4, 17, 32, 613, 80000–80014) retries, OAuth/permission fails fast.
 */

export interface MetaAdsConfig {
  /** Default `https://graph.facebook.com`. */
  readonly baseUrl?: string;
  /** Default `v23.0`. */
  readonly apiVersion?: string;
  readonly credentials: MetaCredentials;
  /** Rows per page (`limit`), default 500. */
  readonly pageSize?: number;
  /** action_types counted as conversions; default `['purchase']` (Meta's omni purchase, not also the pixel one). */
  readonly conversionActionTypes?: readonly string[];
  readonly retry?: RetryPolicy;
}

const insightRow = z.object({
  campaign_id: z.string(),
  campaign_name: z.string().optional(),
  date_start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  impressions: z.string().optional(),
  clicks: z.string().optional(),
  spend: z.string().optional(),
  account_currency: z.string().optional(),
  actions: z.array(z.object({ action_type: z.string(), value: z.string() })).optional(),
});
const insightsPage = z.object({
  data: z.array(z.unknown()),
  paging: z
    .object({ cursors: z.object({ after: z.string().optional() }).optional(), next: z.string().optional() })
    .optional(),
});
const accountBody = z.object({ timezone_name: z.string(), currency: z.string() });
const errorBody = z.object({
  error: z.object({ code: z.number(), error_subcode: z.number().optional(), message: z.string().optional() }),
});

const THROTTLE_CODES = new Set([4, 17, 32, 613]);
const TRANSIENT_CODES = new Set([1, 2]);
const AUTH_CODES = new Set([10, 102, 190]);

/** Minutes Meta says to wait, from X-Business-Use-Case-Usage `estimated_time_to_regain_access`. */
function regainAccessMs(res: HttpResponse): number | undefined {
  const h = res.headers.get('x-business-use-case-usage');
  if (!h) return undefined;
  const m = [...h.matchAll(/"estimated_time_to_regain_access"\s*:\s*(\d+)/g)].map((x) => Number(x[1]));
  return m.length > 0 ? Math.max(...m) * 60_000 : undefined;
}

function inspect(res: HttpResponse): Verdict | undefined {
  const e = errorBody.safeParse(res.body);
  if (!e.success) return undefined;
  const { code, error_subcode, message } = e.data.error;
  const apiCode = error_subcode === undefined ? String(code) : `${code}/${error_subcode}`;
  const text = `error ${apiCode}: ${message ?? 'no message'}`;
  if (AUTH_CODES.has(code) || (code >= 200 && code < 300) || res.status === 401 || res.status === 403) {
    return { kind: 'auth', message: text, apiCode };
  }
  if (
    THROTTLE_CODES.has(code) ||
    (code >= 80000 && code <= 80014) ||
    TRANSIENT_CODES.has(code) ||
    res.status >= 500
  ) {
    const wait = regainAccessMs(res);
    return wait === undefined
      ? { kind: 'retry', message: text, apiCode }
      : { kind: 'retry', message: text, apiCode, retryAfterMs: wait };
  }
  return { kind: 'fatal', message: text, apiCode };
}

export function createMetaAdsConnector(config: MetaAdsConfig): AdsConnector {
  const base = `${config.baseUrl ?? 'https://graph.facebook.com'}/${config.apiVersion ?? 'v23.0'}`;
  const conversionTypes = new Set(config.conversionActionTypes ?? ['purchase']);
  const act = (id: string): string => (id.startsWith('act_') ? id : `act_${id}`);

  // The token travels as a Bearer header, not `access_token=` in the URL, so no URL we build or log holds it.
  async function get(accountId: string, url: URL): Promise<unknown> {
    const token = await tokenOf(config.credentials.accessToken);
    return requestJson(
      {
        platform: 'facebook',
        accountId,
        url: url.toString(),
        headers: { authorization: `Bearer ${token}` },
        inspect,
      },
      config.retry,
    );
  }

  return refuseUnexpectedResponses({
    platform: 'facebook',

    async accountInfo(accountId: string): Promise<AdAccountInfo> {
      const url = new URL(`${base}/${act(accountId)}`);
      url.searchParams.set('fields', 'timezone_name,currency');
      const a = accountBody.parse(await get(accountId, url));
      return { platform: 'facebook', accountId, timezone: assertZone(a.timezone_name), currency: a.currency };
    },

    async fetchReport(account: AdAccountInfo, from: string, to: string): Promise<AdReportRow[]> {
      const url = new URL(`${base}/${act(account.accountId)}/insights`);
      url.searchParams.set('level', 'campaign');
      url.searchParams.set('time_increment', '1');
      url.searchParams.set('time_range', JSON.stringify({ since: from, until: to }));
      url.searchParams.set(
        'fields',
        'campaign_id,campaign_name,impressions,clicks,spend,actions,account_currency,date_start,date_stop',
      );
      url.searchParams.set('limit', String(config.pageSize ?? 500));
      const out: AdReportRow[] = [];
      const seen = new Set<string>();
      for (;;) {
        const page = insightsPage.parse(await get(account.accountId, url));
        for (const raw of page.data) {
          const r = insightRow.parse(raw);
          let conversions = 0;
          for (const a of r.actions ?? [])
            if (conversionTypes.has(a.action_type)) conversions += countOf(a.value);
          out.push({
            date: r.date_start,
            platform: 'facebook',
            account_id: account.accountId,
            account_timezone: account.timezone,
            campaign_id: r.campaign_id,
            campaign_name: r.campaign_name ?? null,
            impressions: countOf(r.impressions),
            clicks: countOf(r.clicks),
            spend_micros: r.spend === undefined ? '0' : decimalToMicros(r.spend),
            currency: r.account_currency ?? account.currency,
            conversions,
          });
        }
        const after = page.paging?.cursors?.after;
        if (page.paging?.next === undefined || after === undefined) break;
        assertNewCursor(seen, after, 'facebook', account.accountId);
        url.searchParams.set('after', after);
      }
      return out;
    },
  });
}
