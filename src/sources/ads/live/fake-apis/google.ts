import {
  rowsBetween,
  startFakeServer,
  type FakeAdAccount,
  type FakeAdRow,
  type FakeRequest,
  type FakeResponse,
  type FakeServer,
} from './server.js';

/**
 * Google Ads API REST fake: `POST /{version}/customers/{id}/googleAds:search` (pages with nextPageToken) and
 * `:searchStream` (JSON array of batches), answering the two GAQL shapes the connector sends (FROM customer,
 * FROM campaign … segments.date BETWEEN). Rows in lowerCamelCase, int64 as strings, zero metrics omitted
 * (proto3 JSON); errors in Google's `{error:{code,message,status,details}}` envelope.
 */

export interface FakeGoogleAdsOptions {
  readonly accounts: FakeAdAccount[];
  readonly accessToken: string;
  readonly developerToken: string;
  readonly apiVersion?: string;
  /** Rows per search page / stream batch (the real API pages at 10,000). */
  readonly pageSize?: number;
}

export function googleError(code: number, status: string, message: string): FakeResponse {
  return {
    status: code,
    body: {
      error: {
        code,
        message,
        status,
        details: [
          {
            '@type': 'type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure',
            errors: [{ errorCode: { authenticationError: status }, message }],
            requestId: 'fake-request',
          },
        ],
      },
    },
  };
}

function renderRow(customerId: string, r: FakeAdRow): unknown {
  const metrics: Record<string, unknown> = {};
  if (r.impressions) metrics['impressions'] = String(r.impressions);
  if (r.clicks) metrics['clicks'] = String(r.clicks);
  if (BigInt(r.spendMicros) !== 0n) metrics['costMicros'] = BigInt(r.spendMicros).toString();
  if (r.conversions) metrics['conversions'] = r.conversions;
  return {
    campaign: {
      resourceName: `customers/${customerId}/campaigns/${r.campaignId}`,
      id: r.campaignId,
      name: r.campaignName,
    },
    metrics,
    segments: { date: r.date },
  };
}

export async function startFakeGoogleAds(options: FakeGoogleAdsOptions): Promise<FakeServer> {
  const version = options.apiVersion ?? 'v21';
  const pageSize = options.pageSize ?? 10_000;
  const route = new RegExp(`^/${version}/customers/(\\d+)/googleAds:(search|searchStream)$`);

  return startFakeServer((req: FakeRequest): FakeResponse => {
    const m = route.exec(req.path);
    if (!m || req.method !== 'POST')
      return googleError(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
    if (req.headers['authorization'] !== `Bearer ${options.accessToken}`) {
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    if (req.headers['developer-token'] !== options.developerToken) {
      return googleError(403, 'PERMISSION_DENIED', 'The developer token is not approved.');
    }
    const [, customerId, method] = m as unknown as [string, string, string];
    const account = options.accounts.find((a) => a.id === customerId);
    if (!account)
      return googleError(403, 'PERMISSION_DENIED', "User doesn't have permission to access customer.");
    const body = (req.body ?? {}) as { query?: string; pageToken?: string };
    const query = body.query ?? '';

    let results: unknown[];
    if (/\bFROM\s+customer\b/i.test(query)) {
      results = [
        {
          customer: {
            resourceName: `customers/${customerId}`,
            id: customerId,
            timeZone: account.timezone,
            currencyCode: account.currency,
          },
        },
      ];
    } else {
      const range = /segments\.date BETWEEN '(\d{4}-\d{2}-\d{2})' AND '(\d{4}-\d{2}-\d{2})'/.exec(query);
      if (!/\bFROM\s+campaign\b/i.test(query) || !range) {
        return googleError(400, 'INVALID_ARGUMENT', `fake understands no such query: ${query}`);
      }
      results = rowsBetween(account, range[1] as string, range[2] as string).map((r) =>
        renderRow(customerId, r),
      );
    }
    const fieldMask = 'campaign.id,campaign.name,segments.date,metrics.impressions';

    if (method === 'searchStream') {
      const batches = [];
      for (let i = 0; i < Math.max(1, results.length); i += pageSize) {
        batches.push({ results: results.slice(i, i + pageSize), fieldMask, requestId: `fake-${i}` });
      }
      return { status: 200, body: batches };
    }
    // The page token pins the query, as the real one does: changing the query mid-paging is an error.
    let offset = 0;
    if (body.pageToken) {
      const t = JSON.parse(Buffer.from(body.pageToken, 'base64url').toString('utf8')) as {
        offset: number;
        query: string;
      };
      if (t.query !== query)
        return googleError(400, 'INVALID_ARGUMENT', 'Page token does not match the query.');
      offset = t.offset;
    }
    const next = offset + pageSize;
    return {
      status: 200,
      body: {
        results: results.slice(offset, next),
        fieldMask,
        ...(next < results.length
          ? { nextPageToken: Buffer.from(JSON.stringify({ offset: next, query })).toString('base64url') }
          : {}),
      },
    };
  });
}
