import type { AdPlatform } from './types.js';

/**
 * Typed errors of the ads connectors. Messages name platform, account, HTTP status and the API's own error
 * code/message, never a credential or a URL query string (tokens can travel there).
 */

export interface AdsErrorDetails {
  readonly platform: AdPlatform;
  readonly accountId?: string;
  /** HTTP status, or 200 for errors some APIs report in the body (TikTok `code`). */
  readonly status?: number;
  /** The platform's own error code (`RESOURCE_EXHAUSTED`, Meta `190`, TikTok `40105`, X `UNAUTHORIZED_ACCESS`). */
  readonly apiCode?: string;
  /** Request path without query string. */
  readonly path?: string;
}

export class AdsApiError extends Error {
  override readonly name: string = 'AdsApiError';
  /** Whether running the same request later may succeed (rate limits, 5xx after our own retries ran out). */
  readonly retryable: boolean;
  /** Wait the API asked for (Retry-After and friends), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    readonly details: AdsErrorDetails,
    options: { retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(`${details.platform}${details.accountId ? ` account ${details.accountId}` : ''}: ${message}`, {
      cause: options.cause,
    });
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * 401/403 or the API's equivalent (expired token, revoked access, missing permission): never retried, it
 * needs a person. Activities map it to a non-retryable failure so the alert fires once.
 */
export class AdsAuthError extends AdsApiError {
  override readonly name = 'AdsAuthError';

  constructor(message: string, details: AdsErrorDetails) {
    super(message, details, { retryable: false });
  }
}

export function isRetryableAdsError(e: unknown): boolean {
  return e instanceof AdsApiError ? e.retryable : false;
}
