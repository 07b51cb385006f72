import { ZodError } from 'zod';
import { AdsApiError } from './errors.js';
import type { AdsConnector } from './types.js';

/**
 * A response the connector cannot read (a missing field, a malformed amount, a zone that does not exist) is
 * refused as a non-retryable AdsApiError naming the platform, account and the first problem, instead of a bare
 * ZodError or TypeError escaping the activity. Nothing of that pull lands: sync replaces a day only with rows
 * it read whole. Errors the connectors raise themselves (AdsApiError: HTTP, auth, paging) pass unchanged.
 */
export function refuseUnexpectedResponses(connector: AdsConnector): AdsConnector {
  const refuse = (accountId: string, e: unknown): never => {
    if (e instanceof AdsApiError) throw e;
    throw new AdsApiError(
      `unexpected response: ${reasonOf(e)}`,
      { platform: connector.platform, accountId },
      {
        retryable: false,
        cause: e,
      },
    );
  };
  return {
    platform: connector.platform,
    accountInfo: (accountId) => connector.accountInfo(accountId).catch((e: unknown) => refuse(accountId, e)),
    fetchReport: (account, from, to) =>
      connector.fetchReport(account, from, to).catch((e: unknown) => refuse(account.accountId, e)),
  };
}

function reasonOf(e: unknown): string {
  if (e instanceof ZodError) {
    const issue = e.issues[0];
    return issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'invalid body';
  }
  return e instanceof Error ? e.message : String(e);
}

/** Refuses a paging token the API already handed out: following it again would loop forever. */
export function assertNewCursor(
  seen: Set<string>,
  cursor: string | undefined,
  platform: AdsConnector['platform'],
  accountId: string,
): void {
  if (cursor === undefined) return;
  if (seen.has(cursor))
    throw new AdsApiError(
      `paging loop: the API returned cursor ${JSON.stringify(cursor.slice(0, 40))} twice`,
      {
        platform,
        accountId,
      },
      { retryable: false },
    );
  seen.add(cursor);
}
