import { gunzipSync } from 'node:zlib';
import pRetry from 'p-retry';
import { z } from 'zod';
import { AdsApiError } from './errors.js';
import type { RetryPolicy } from './http.js';

/**
 * X Ads asynchronous analytics: `POST stats/jobs/accounts/:id` creates a job with the synchronous endpoint's
 * parameters (but up to 90 days), `GET stats/jobs/accounts/:id?job_ids=…` (cursor paging) is polled until
 * every job is SUCCESS, and each job's `url` is a gzipped file holding the synchronous response's JSON. A
 * FAILED job (or one that outlives the timeout) raises a retryable AdsApiError: a new run creates new jobs.
 */

export interface XAsyncStatsOptions {
  /** 'auto' (default): jobs for ranges over the 7-day synchronous limit; 'always'; 'never' (7-day sync calls). */
  readonly mode?: 'auto' | 'always' | 'never';
  /** First wait between job listings (default 2,000 ms), doubled up to `maxPollIntervalMs` (default 30,000). */
  readonly pollIntervalMs?: number;
  readonly maxPollIntervalMs?: number;
  /** Give up waiting for the jobs after this long (default 30 min). */
  readonly timeoutMs?: number;
}

/** Days one job may span (non-segmented DAY stats). */
export const X_ASYNC_MAX_DAYS = 90;

const jobSchema = z.object({
  id_str: z.string(),
  status: z.string(),
  url: z.string().nullable().optional(),
});
const createdBody = z.object({ data: jobSchema });
const listBody = z.object({
  data: z.array(jobSchema),
  next_cursor: z.string().nullable().optional(),
});

/** The connector's signed calls (OAuth 1.0a, retries), given to the job flow. */
export interface XApi {
  post(path: string, params: Record<string, string>): Promise<unknown>;
  get(path: string, params: Record<string, string>): Promise<unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one job per parameter set and returns each job's stats body, in the order given. */
export async function runStatsJobs(
  api: XApi,
  accountId: string,
  queries: readonly Record<string, string>[],
  options: XAsyncStatsOptions = {},
  retry: RetryPolicy = {},
): Promise<unknown[]> {
  const path = `/stats/jobs/accounts/${accountId}`;
  const ids: string[] = [];
  for (const q of queries) ids.push(createdBody.parse(await api.post(path, q)).data.id_str);

  const urls = new Map<string, string>();
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let wait = options.pollIntervalMs ?? 2_000;
  for (;;) {
    const pending = ids.filter((id) => !urls.has(id));
    if (pending.length === 0) break;
    // The listing takes at most 200 job ids; it pages with a cursor like every X listing.
    for (let i = 0; i < pending.length; i += 200) {
      let cursor: string | undefined;
      do {
        const params: Record<string, string> = { job_ids: pending.slice(i, i + 200).join(',') };
        if (cursor !== undefined) params['cursor'] = cursor;
        const page = listBody.parse(await api.get(path, params));
        for (const job of page.data) {
          if (job.status === 'SUCCESS' && job.url) urls.set(job.id_str, job.url);
          else if (job.status === 'FAILED' || job.status === 'CANCELLED')
            throw new AdsApiError(
              `stats job ${job.id_str} ${job.status}`,
              { platform: 'twitter', accountId, path },
              {
                retryable: true,
              },
            );
        }
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
    }
    if (ids.every((id) => urls.has(id))) break;
    if (Date.now() + wait > deadline)
      throw new AdsApiError(
        `stats jobs ${pending.join(',')} not finished in ${options.timeoutMs ?? 1_800_000} ms`,
        { platform: 'twitter', accountId, path },
        { retryable: true },
      );
    await sleep(wait);
    wait = Math.min(wait * 2, options.maxPollIntervalMs ?? 30_000);
  }
  const out: unknown[] = [];
  for (const id of ids) out.push(await downloadGzipJson(urls.get(id) as string, accountId, retry));
  return out;
}

/** The job's data file: a pre-signed CDN URL (no OAuth), gzipped JSON. 5xx and network errors are retried. */
async function downloadGzipJson(url: string, accountId: string, policy: RetryPolicy): Promise<unknown> {
  const path = new URL(url).pathname;
  const details = { platform: 'twitter' as const, accountId, path };
  const bytes = await pRetry(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(policy.timeoutMs ?? 120_000) });
      // 5xx and 429 are retried here; anything else (an expired file) needs a new job: retryable later.
      if (!res.ok)
        throw new AdsApiError(
          `GET ${path}: HTTP ${res.status}`,
          { ...details, status: res.status },
          {
            retryable: true,
          },
        );
      return Buffer.from(await res.arrayBuffer());
    },
    {
      retries: policy.retries ?? 5,
      minTimeout: policy.minBackoffMs ?? 1000,
      maxTimeout: policy.maxBackoffMs ?? 60_000,
      shouldRetry: ({ error }) => {
        const status = error instanceof AdsApiError ? (error.details.status ?? 500) : 500;
        return status >= 500 || status === 429;
      },
    },
  );
  // A CDN may also send it with Content-Encoding: gzip, which fetch has already undone.
  const text =
    bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  return JSON.parse(text) as unknown;
}
