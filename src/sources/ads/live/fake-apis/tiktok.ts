import { DateTime } from 'luxon';
import {
  microsToDecimal,
  rowsBetween,
  startFakeServer,
  type FakeAdAccount,
  type FakeRequest,
  type FakeResponse,
  type FakeServer,
} from './server.js';

/**
 * TikTok API for Business fake: `GET /open_api/v1.3/advertiser/info/` and `GET /open_api/v1.3/report/integrated/get/`
 * (BASIC, AUCTION_CAMPAIGN, campaign_id × stat_time_day), `page`/`page_size` paging with `page_info`, the
 * `Access-Token` header, and the `{code, message, request_id, data}` envelope with errors as non-zero codes
 * under HTTP 200 (40105 bad token, 40100 rate limit, 40002 bad parameter).
 */

export interface FakeTikTokOptions {
  readonly accounts: FakeAdAccount[];
  readonly accessToken: string;
}

export function tiktokError(code: number, message: string): FakeResponse {
  return { status: 200, body: { code, message, request_id: 'fake-request', data: {} } };
}

export const TIKTOK_RATE_LIMIT: FakeResponse = tiktokError(
  40100,
  'Requests made too frequently. Please try again later.',
);

const ok = (data: unknown): FakeResponse => ({
  status: 200,
  body: { code: 0, message: 'OK', request_id: 'fake-request', data },
});

function jsonParam(req: FakeRequest, name: string): unknown {
  const v = req.query.get(name);
  if (v === null) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return Symbol.for('invalid');
  }
}

export async function startFakeTikTokAds(options: FakeTikTokOptions): Promise<FakeServer> {
  return startFakeServer((req: FakeRequest): FakeResponse => {
    if (req.method !== 'GET') return tiktokError(40002, 'method not allowed');
    if (req.headers['access-token'] !== options.accessToken) {
      return tiktokError(40105, 'Access token is incorrect or has been revoked.');
    }
    if (req.path === '/open_api/v1.3/advertiser/info/') {
      const ids = jsonParam(req, 'advertiser_ids');
      if (!Array.isArray(ids)) return tiktokError(40002, 'advertiser_ids: Not a valid list.');
      const list = options.accounts
        .filter((a) => ids.includes(a.id))
        .map((a) => ({
          advertiser_id: a.id,
          name: `adv ${a.id}`,
          currency: a.currency,
          display_timezone: a.timezone,
          timezone: a.timezone,
        }));
      if (list.length === 0) return tiktokError(40001, 'No permission to operate advertiser.');
      return ok({ list });
    }
    if (req.path !== '/open_api/v1.3/report/integrated/get/')
      return tiktokError(40002, `unknown path ${req.path}`);

    const account = options.accounts.find((a) => a.id === req.query.get('advertiser_id'));
    if (!account) return tiktokError(40001, 'No permission to operate advertiser.');
    const dims = jsonParam(req, 'dimensions');
    if (req.query.get('report_type') !== 'BASIC' || req.query.get('data_level') !== 'AUCTION_CAMPAIGN') {
      return tiktokError(40002, 'fake serves report_type=BASIC, data_level=AUCTION_CAMPAIGN');
    }
    if (!Array.isArray(dims) || !dims.includes('campaign_id') || !dims.includes('stat_time_day')) {
      return tiktokError(40002, 'dimensions: fake serves ["campaign_id","stat_time_day"]');
    }
    const start = req.query.get('start_date') ?? '';
    const end = req.query.get('end_date') ?? '';
    const span = DateTime.fromISO(end).diff(DateTime.fromISO(start), 'days').days;
    if (!(span >= 0)) return tiktokError(40002, 'start_date/end_date invalid');
    if (span >= 30)
      return tiktokError(40002, 'When stat_time_day is a dimension, the time span can be up to 30 days.');
    const page = Number(req.query.get('page') ?? '1');
    const pageSize = Number(req.query.get('page_size') ?? '10');
    if (!(pageSize >= 1 && pageSize <= 1000))
      return tiktokError(40002, 'page_size: must be between 1 and 1000.');

    const rows = rowsBetween(account, start, end);
    const list = rows.slice((page - 1) * pageSize, page * pageSize).map((r) => ({
      dimensions: { campaign_id: r.campaignId, stat_time_day: `${r.date} 00:00:00` },
      metrics: {
        campaign_name: r.campaignName,
        spend: microsToDecimal(r.spendMicros),
        impressions: String(r.impressions),
        clicks: String(r.clicks),
        conversion: String(r.conversions),
      },
    }));
    return ok({
      list,
      page_info: {
        page,
        page_size: pageSize,
        total_number: rows.length,
        total_page: Math.ceil(rows.length / pageSize),
      },
    });
  });
}
