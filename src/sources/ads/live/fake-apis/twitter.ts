import { gzipSync } from 'node:zlib';
import { DateTime } from 'luxon';
import {
  startFakeServer,
  type FakeAdAccount,
  type FakeRequest,
  type FakeResponse,
  type FakeServer,
} from './server.js';

/**
 * X Ads API fake (v12): `GET accounts/:id`, `accounts/:id/funding_instruments`, `accounts/:id/campaigns`
 * (cursor paging: `count`, `cursor` → `next_cursor`), synchronous `stats/accounts/:id` with the documented
 * constraints (≤ 20 entity_ids, ≤ 7-day range, whole-hour instants, DAY windows at account-local midnight,
 * placement required), and the asynchronous jobs: `POST stats/jobs/accounts/:id` (same parameters, ≤ 90 days),
 * `GET stats/jobs/accounts/:id?job_ids=…` (cursor paging; each listing advances a job QUEUED → PROCESSING →
 * SUCCESS | FAILED) and the finished job's gzipped data file at its `url` (the synchronous response's schema). Stats are metric arrays per group, null when there was nothing. Requests must carry an
 * OAuth 1.0a header for the configured consumer key and token; errors are `{errors:[{code,message}]}`.
 */

export interface FakeXAdsOptions {
  readonly accounts: FakeAdAccount[];
  readonly consumerKey: string;
  readonly accessToken: string;
  readonly apiVersion?: string;
  /** Campaigns per page of the campaigns listing (default: the request's `count`). */
  readonly campaignsPageSize?: number;
  /** Jobs per page of `GET stats/jobs/accounts/:id` (default: the request's `count`, 200). */
  readonly jobsPageSize?: number;
  readonly asyncJobs?: {
    /** Job listings a job takes to finish (default 2: QUEUED, then PROCESSING, then done). */
    readonly pollsUntilDone?: number;
    /** How the n-th job created (0-based) ends; default SUCCESS. */
    readonly outcome?: (n: number) => 'SUCCESS' | 'FAILED';
  };
}

interface FakeJob {
  readonly accountId: string;
  readonly id: string;
  polls: number;
  readonly outcome: 'SUCCESS' | 'FAILED';
  status: 'QUEUED' | 'PROCESSING' | 'SUCCESS' | 'FAILED';
  readonly body: Record<string, unknown>;
  readonly params: Record<string, unknown>;
  readonly createdAt: string;
}

export function xError(status: number, code: string, message: string): FakeResponse {
  return { status, body: { errors: [{ code, message }], request: { params: {} } } };
}

export const X_RATE_LIMIT = (resetInSeconds: number): FakeResponse => ({
  ...xError(429, 'TOO_MANY_REQUESTS', 'Rate limit exceeded'),
  headers: { 'x-rate-limit-reset': String(Math.floor(DateTime.utc().toSeconds()) + resetInSeconds) },
});

function oauthParam(header: string, name: string): string | undefined {
  const m = new RegExp(`${name}="([^"]*)"`).exec(header);
  return m ? decodeURIComponent(m[1] as string) : undefined;
}

export async function startFakeXAds(options: FakeXAdsOptions): Promise<FakeServer> {
  const v = options.apiVersion ?? '12';
  const account = (id: string | undefined): FakeAdAccount | undefined =>
    options.accounts.find((a) => a.id === id);

  const jobs: FakeJob[] = [];
  let base = '';

  const server = await startFakeServer((req: FakeRequest): FakeResponse => {
    // The finished job's data file, as X serves it from its CDN: a gzipped stats body, no OAuth.
    const file = /^\/ton\/data\/ads_analytics\/(\d+)\.json\.gz$/.exec(req.path);
    if (file) {
      const job = jobs.find((j) => j.id === file[1] && j.status === 'SUCCESS');
      if (!job) return { status: 404, body: undefined, raw: Buffer.from('Not Found') };
      return {
        status: 200,
        body: undefined,
        raw: gzipSync(JSON.stringify(job.body)),
        headers: { 'content-type': 'application/gzip' },
      };
    }
    const auth = req.headers['authorization'] ?? '';
    if (
      !auth.startsWith('OAuth ') ||
      oauthParam(auth, 'oauth_consumer_key') !== options.consumerKey ||
      oauthParam(auth, 'oauth_token') !== options.accessToken ||
      oauthParam(auth, 'oauth_signature_method') !== 'HMAC-SHA1' ||
      !oauthParam(auth, 'oauth_signature')
    ) {
      return xError(401, 'UNAUTHORIZED_ACCESS', 'This request is not properly authenticated');
    }
    let m = new RegExp(`^/${v}/accounts/(\\w+)(/funding_instruments|/campaigns)?$`).exec(req.path);
    if (m) {
      const a = account(m[1]);
      if (!a) return xError(404, 'NOT_FOUND', 'The requested resource could not be found');
      if (!m[2])
        return {
          status: 200,
          body: {
            data: { id: a.id, name: `acct ${a.id}`, timezone: a.timezone },
            request: { params: { account_id: a.id } },
          },
        };
      if (m[2] === '/funding_instruments')
        return { status: 200, body: { data: [{ id: 'fi1', currency: a.currency }], next_cursor: null } };
      const names = new Map(a.rows.map((r) => [r.campaignId, r.campaignName]));
      const all = [...names]
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([id, name]) => ({ id, name, currency: a.currency }));
      const count = options.campaignsPageSize ?? Number(req.query.get('count') ?? '200');
      const offset = Number(req.query.get('cursor') ?? '0');
      const next = offset + count < all.length ? String(offset + count) : null;
      return {
        status: 200,
        body: { data: all.slice(offset, offset + count), next_cursor: next, request: { params: {} } },
      };
    }
    m = new RegExp(`^/${v}/stats/jobs/accounts/(\\w+)$`).exec(req.path);
    if (m) {
      const a = account(m[1]);
      if (!a) return xError(404, 'NOT_FOUND', 'The requested resource could not be found');
      return req.method === 'POST' ? createJob(a, req.query) : listJobs(a, req.query);
    }
    m = new RegExp(`^/${v}/stats/accounts/(\\w+)$`).exec(req.path);
    if (!m) return xError(404, 'ROUTE_NOT_FOUND', `no route ${req.path}`);
    const a = account(m[1]);
    if (!a) return xError(404, 'NOT_FOUND', 'The requested resource could not be found');
    const stats = statsOf(a, req.query, 7);
    return 'error' in stats ? stats.error : { status: 200, body: stats.body };
  });
  base = server.url;
  return server;

  function createJob(a: FakeAdAccount, query: URLSearchParams): FakeResponse {
    const stats = statsOf(a, query, 90);
    if ('error' in stats) return stats.error;
    const n = jobs.length;
    const id = String(1_106_280_294_296_846_336n + BigInt(n));
    const job: FakeJob = {
      accountId: a.id,
      id,
      polls: 0,
      outcome: options.asyncJobs?.outcome?.(n) ?? 'SUCCESS',
      status: 'QUEUED',
      body: stats.body,
      params: stats.params,
      createdAt: DateTime.utc().toISO({ suppressMilliseconds: true }) as string,
    };
    jobs.push(job);
    return { status: 200, body: { request: { params: { account_id: a.id } }, data: render(job) } };
  }

  function listJobs(a: FakeAdAccount, query: URLSearchParams): FakeResponse {
    const wanted = (query.get('job_ids') ?? '').split(',').filter(Boolean);
    if (wanted.length > 200) return xError(400, 'INVALID_PARAMETER', 'job_ids: at most 200 ids');
    const mine = jobs.filter((j) => j.accountId === a.id && (wanted.length === 0 || wanted.includes(j.id)));
    const count = options.jobsPageSize ?? Number(query.get('count') ?? '200');
    const offset = Number(query.get('cursor') ?? '0');
    const page = mine.slice(offset, offset + count);
    // Each look at a job is one tick of its processing: QUEUED → PROCESSING → … → SUCCESS or FAILED.
    for (const j of page) {
      if (j.status !== 'QUEUED' && j.status !== 'PROCESSING') continue;
      j.polls++;
      j.status = j.polls >= (options.asyncJobs?.pollsUntilDone ?? 2) ? j.outcome : 'PROCESSING';
    }
    const limit = 100;
    const running = jobs.filter((j) => j.accountId === a.id && ['QUEUED', 'PROCESSING'].includes(j.status));
    return {
      status: 200,
      headers: {
        'x-concurrent-job-limit': String(limit),
        'x-concurrent-job-limit-remaining': String(Math.max(0, limit - running.length)),
      },
      body: {
        request: { params: { account_id: a.id } },
        data: page.map(render),
        next_cursor: offset + count < mine.length ? String(offset + count) : null,
      },
    };
  }

  function render(j: FakeJob): Record<string, unknown> {
    const done = j.status === 'SUCCESS';
    return {
      id: Number(j.id),
      id_str: j.id,
      account_id: j.accountId,
      status: j.status,
      url: done ? `${base}/ton/data/ads_analytics/${j.id}.json.gz` : null,
      expires_at: done ? DateTime.utc().plus({ days: 1 }).toISO({ suppressMilliseconds: true }) : null,
      created_at: j.createdAt,
      updated_at: j.createdAt,
      segmentation_type: null,
      country: null,
      platform: null,
      ...j.params,
    };
  }

  /** The synchronous stats body for the request's parameters, or the error the API gives for them. */
  function statsOf(
    a: FakeAdAccount,
    query: URLSearchParams,
    maxDays: number,
  ): { error: FakeResponse } | { body: Record<string, unknown>; params: Record<string, unknown> } {
    const q = (k: string): string => query.get(k) ?? '';
    const ids = q('entity_ids').split(',').filter(Boolean);
    const fail = (r: FakeResponse) => ({ error: r });
    if (q('entity') !== 'CAMPAIGN' || q('granularity') !== 'DAY')
      return fail(xError(400, 'INVALID_PARAMETER', 'fake serves entity=CAMPAIGN, granularity=DAY'));
    if (ids.length === 0 || ids.length > 20)
      return fail(xError(400, 'INVALID_PARAMETER', 'entity_ids: between 1 and 20 ids'));
    if (!['ALL_ON_TWITTER', 'PUBLISHER_NETWORK'].includes(q('placement')))
      return fail(xError(400, 'MISSING_PARAMETER', 'placement is required'));
    if (!q('metric_groups')) return fail(xError(400, 'MISSING_PARAMETER', 'metric_groups is required'));
    const start = DateTime.fromISO(q('start_time'), { zone: a.timezone });
    const end = DateTime.fromISO(q('end_time'), { zone: a.timezone });
    if (
      !start.isValid ||
      !end.isValid ||
      start.toUTC().minute !== 0 ||
      end.toUTC().minute !== 0 ||
      start.second !== 0
    ) {
      return fail(xError(400, 'INVALID_PARAMETER', 'start_time and end_time must be whole hours'));
    }
    if (end <= start || end.diff(start, 'days').days > maxDays)
      return fail(xError(400, 'INVALID_TIME_WINDOW', `max time window is ${maxDays} days`));
    if (start.hour !== 0 || end.hour !== 0)
      return fail(xError(400, 'INVALID_PARAMETER', 'DAY granularity needs account-local midnights'));
    const days: string[] = [];
    for (let d = start; d < end; d = d.plus({ days: 1 })) days.push(d.toISODate() as string);
    const groups = q('metric_groups').split(',');
    const network = q('placement') === 'PUBLISHER_NETWORK';
    const data = ids.map((id) => {
      const rows = network ? [] : a.rows.filter((r) => r.campaignId === id);
      const series = (f: (r: (typeof rows)[number]) => number | bigint): (number | null)[] | null =>
        rows.some((r) => days.includes(r.date))
          ? days.map((d) => {
              const r = rows.find((x) => x.date === d);
              return r ? Number(f(r)) : 0;
            })
          : null;
      const metrics: Record<string, unknown> = {};
      if (groups.includes('ENGAGEMENT'))
        Object.assign(metrics, {
          impressions: series((r) => r.impressions),
          clicks: series((r) => r.clicks),
          engagements: null,
        });
      if (groups.includes('BILLING'))
        Object.assign(metrics, {
          billed_engagements: series((r) => r.clicks),
          billed_charge_local_micro: series((r) => BigInt(r.spendMicros)),
        });
      if (groups.includes('WEB_CONVERSION'))
        metrics['conversion_purchases'] = {
          metric: series((r) => r.conversions),
          order_quantity: null,
          sale_amount: null,
        };
      return { id, id_data: [{ segment: null, metrics }] };
    });
    const params = {
      start_time: q('start_time'),
      end_time: q('end_time'),
      granularity: 'DAY',
      entity: 'CAMPAIGN',
      entity_ids: ids,
      placement: q('placement'),
      metric_groups: groups,
    };
    return {
      params,
      body: { data_type: 'stats', time_series_length: days.length, data, request: { params } },
    };
  }
}
