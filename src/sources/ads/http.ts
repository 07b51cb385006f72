import { DateTime } from 'luxon';
import pRetry from 'p-retry';
import { AdsApiError, AdsAuthError, type AdsErrorDetails } from './errors.js';
import type { AdPlatform } from './types.js';

/**
 * One JSON request with the retry policy every connector shares: 429/5xx/408 and network failures are retried
 * with exponential backoff (p-retry), waiting at least what Retry-After (or the platform's equivalent) asks;
 * 401/403 raise AdsAuthError at once; other 4xx raise a non-retryable AdsApiError. Platforms that report errors
 * in a 200 body (TikTok) or with their own codes (Meta) classify through `inspect`.
 */

export interface RetryPolicy {
  /** Retries after the first attempt (default 5). */
  readonly retries?: number;
  /** First backoff (default 1,000 ms), doubled each retry up to maxBackoffMs (default 60,000 ms). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A Retry-After longer than this is not waited for in-process: the error surfaces as retryable (default 5 min). */
  readonly maxRetryAfterMs?: number;
  /** Per-attempt timeout (default 120,000 ms). */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** What `inspect` decides about a response; undefined = use the HTTP status alone. */
export type Verdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'auth'; readonly message: string; readonly apiCode?: string }
  | {
      readonly kind: 'retry';
      readonly message: string;
      readonly apiCode?: string;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: 'fatal'; readonly message: string; readonly apiCode?: string };

export interface JsonRequest {
  readonly platform: AdPlatform;
  readonly accountId?: string;
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  /** Credentials go here, never in `url` (errors show the path only, but a proxy log would see a query). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly inspect?: (res: HttpResponse) => Verdict | undefined;
  /** Headers computed per attempt (OAuth 1.0a signatures carry a nonce and timestamp). */
  readonly signHeaders?: () => Readonly<Record<string, string>>;
}

/** Retry-After as delta-seconds or HTTP-date, then X's `x-rate-limit-reset` (epoch seconds). */
export function retryAfterMsOf(headers: Headers, now: DateTime = DateTime.utc()): number | undefined {
  const ra = headers.get('retry-after');
  if (ra !== null) {
    if (/^\d+(\.\d+)?$/.test(ra.trim())) return Math.round(Number(ra) * 1000);
    const at = DateTime.fromHTTP(ra);
    if (at.isValid) return Math.max(0, at.toMillis() - now.toMillis());
  }
  const reset = headers.get('x-rate-limit-reset');
  if (reset !== null && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now.toMillis());
  return undefined;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
}

function statusVerdict(res: HttpResponse): Verdict {
  const { status } = res;
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const message = `HTTP ${status}`;
  if (status === 401 || status === 403) return { kind: 'auth', message };
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = retryAfterMsOf(res.headers);
    return retryAfterMs === undefined ? { kind: 'retry', message } : { kind: 'retry', message, retryAfterMs };
  }
  return { kind: 'fatal', message };
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 500);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function requestJson(req: JsonRequest, policy: RetryPolicy = {}): Promise<unknown> {
  const details: AdsErrorDetails = {
    platform: req.platform,
    path: pathOf(req.url),
    ...(req.accountId !== undefined ? { accountId: req.accountId } : {}),
  };
  const maxRetryAfter = policy.maxRetryAfterMs ?? 300_000;

  const attempt = async (): Promise<unknown> => {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...req.headers,
      ...req.signHeaders?.(),
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(req.url, {
      method: req.method ?? 'GET',
      headers,
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(policy.timeoutMs ?? 120_000),
    });
    const parsed: HttpResponse = { status: res.status, headers: res.headers, body: await readBody(res) };
    const v = req.inspect?.(parsed) ?? statusVerdict(parsed);
    if (v.kind === 'ok') return parsed.body;
    const d = { ...details, status: res.status, ...(v.apiCode !== undefined ? { apiCode: v.apiCode } : {}) };
    const where = `${req.method ?? 'GET'} ${d.path}`;
    if (v.kind === 'auth')
      throw new AdsAuthError(`${where}: ${v.message} (not retried: check credentials)`, d);
    if (v.kind === 'fatal') throw new AdsApiError(`${where}: ${v.message}`, d, { retryable: false });
    const retryAfterMs = v.retryAfterMs ?? retryAfterMsOf(res.headers);
    throw new AdsApiError(`${where}: ${v.message}`, d, {
      retryable: true,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  };

  try {
    return await pRetry(attempt, {
      retries: policy.retries ?? 5,
      minTimeout: policy.minBackoffMs ?? 1000,
      maxTimeout: policy.maxBackoffMs ?? 60_000,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) =>
        !(error instanceof AdsApiError) || (error.retryable && (error.retryAfterMs ?? 0) <= maxRetryAfter),
      // Runs before p-retry's own backoff: honour the server's wait first (backoff then adds its jitter).
      onFailedAttempt: async ({ error, retriesLeft }) => {
        if (retriesLeft > 0 && error instanceof AdsApiError && error.retryable) {
          const wait = error.retryAfterMs ?? 0;
          if (wait > 0 && wait <= maxRetryAfter) await sleep(wait);
        }
      },
    });
  } catch (e) {
    if (e instanceof AdsApiError) throw e;
    // Network failures and timeouts that outlived the retries: retryable later, message without the URL query.
    throw new AdsApiError(`${req.method ?? 'GET'} ${details.path}: ${(e as Error).message}`, details, {
      retryable: true,
      cause: e,
    });
  }
}
