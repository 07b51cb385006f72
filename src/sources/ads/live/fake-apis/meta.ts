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
 * Meta Marketing API fake: `GET /{version}/act_{id}` (timezone_name, currency) and
 * `GET /{version}/act_{id}/insights?level=campaign&time_increment=1&time_range={since,until}&limit&after`,
 * with cursor paging (`paging.cursors.before/after`, `paging.next` only while more pages exist), every value a
 * string, `actions[]` of `{action_type, value}`, and Graph errors `{error:{message,type,code,error_subcode}}`.
 */

export interface FakeMetaOptions {
  readonly accounts: FakeAdAccount[];
  readonly accessToken: string;
  readonly apiVersion?: string;
  /** Largest `limit` honoured (Meta caps pages); default 5000. */
  readonly maxPageSize?: number;
}

export function metaError(status: number, code: number, message: string, subcode?: number): FakeResponse {
  return {
    status,
    body: {
      error: {
        message,
        type: code === 190 ? 'OAuthException' : 'FacebookApiException',
        code,
        ...(subcode !== undefined ? { error_subcode: subcode } : {}),
        fbtrace_id: 'FakeTrace',
      },
    },
  };
}

/** The throttling error Meta sends as HTTP 400 (code 17, "User request limit reached"). */
export const META_USER_LIMIT: FakeResponse = metaError(400, 17, '(#17) User request limit reached', 2446079);

export async function startFakeMetaAds(options: FakeMetaOptions): Promise<FakeServer> {
  const version = options.apiVersion ?? 'v23.0';
  const route = new RegExp(`^/${version.replace('.', '\\.')}/act_(\\d+)(/insights)?$`);
  let baseUrl = '';

  const server = await startFakeServer((req: FakeRequest): FakeResponse => {
    const m = route.exec(req.path);
    if (!m || req.method !== 'GET') return metaError(400, 100, `Unknown path components: ${req.path}`);
    const token = req.headers['authorization']?.replace(/^Bearer /, '') ?? req.query.get('access_token');
    if (token !== options.accessToken) {
      return metaError(400, 190, 'Invalid OAuth access token - Cannot parse access token');
    }
    const account = options.accounts.find((a) => a.id === m[1]);
    if (!account)
      return metaError(400, 100, `Unsupported get request. Object with ID 'act_${m[1]}' does not exist`, 33);

    if (!m[2])
      return {
        status: 200,
        body: { timezone_name: account.timezone, currency: account.currency, id: `act_${account.id}` },
      };

    if (req.query.get('level') !== 'campaign' || req.query.get('time_increment') !== '1') {
      return metaError(400, 100, 'fake expects level=campaign&time_increment=1');
    }
    let range: { since?: string; until?: string };
    try {
      range = JSON.parse(req.query.get('time_range') ?? '') as { since?: string; until?: string };
    } catch {
      return metaError(400, 100, 'Invalid parameter: time_range');
    }
    if (!range.since || !range.until) return metaError(400, 100, 'time_range needs since and until');
    const limit = Math.min(Number(req.query.get('limit') ?? '25'), options.maxPageSize ?? 5000);
    const after = req.query.get('after');
    const offset = after ? Number(Buffer.from(after, 'base64url').toString('utf8')) : 0;
    const rows = rowsBetween(account, range.since, range.until);
    const page = rows.slice(offset, offset + limit);
    const cursor = (n: number): string => Buffer.from(String(n)).toString('base64url');
    const data = page.map((r) => ({
      account_id: account.id,
      campaign_id: r.campaignId,
      campaign_name: r.campaignName,
      impressions: String(r.impressions),
      clicks: String(r.clicks),
      spend: microsToDecimal(r.spendMicros),
      account_currency: account.currency,
      actions: [
        { action_type: 'link_click', value: String(r.clicks) },
        ...(r.conversions ? [{ action_type: 'purchase', value: String(r.conversions) }] : []),
        ...(r.conversions
          ? [{ action_type: 'offsite_conversion.fb_pixel_purchase', value: String(r.conversions) }]
          : []),
      ],
      date_start: r.date,
      date_stop: r.date,
    }));
    const more = offset + limit < rows.length;
    const next = new URL(`${baseUrl}${req.path}`);
    req.query.forEach((v, k) => next.searchParams.set(k, v));
    next.searchParams.set('after', cursor(offset + limit));
    return {
      status: 200,
      body: {
        data,
        paging: {
          cursors: { before: cursor(offset), after: cursor(offset + page.length) },
          ...(more ? { next: next.toString() } : {}),
        },
      },
    };
  });
  baseUrl = server.url;
  return server;
}
