import { DateTime } from 'luxon';
import type { WatermarkReport } from '../types.js';
import { dayBoundsUtc, daysToPull, todayIn } from './days.js';
import { adPartitionKey, type AdPartitionKey, type AdReportStore } from './store.js';
import { DEFAULT_RESTATEMENT_DAYS, type AdReportRow, type AdsConnector } from './types.js';

/**
 * One ad account's run: find the account's timezone, work out which account-local days to (re)pull (the
 * restatement window plus any gap), fetch them, and replace each day's partition — also the days that came
 * back empty, so a campaign-day the platform withdrew disappears. Re-running it leaves the same table.
 */

export interface AdSyncOptions {
  readonly connector: AdsConnector;
  readonly accountId: string;
  readonly store: AdReportStore;
  /** Default: the platform's window (DEFAULT_RESTATEMENT_DAYS). */
  readonly restatementDays?: number;
  /** Latest day already landed for this account (from the ledger); gaps after it are caught up. */
  readonly lastPulledDay?: string;
  /** Backfill start on the first run. */
  readonly firstDay?: string;
  readonly includeToday?: boolean;
  /** Clock, injectable for tests. */
  readonly now?: DateTime;
}

export interface AdSyncResult {
  readonly platform: AdsConnector['platform'];
  readonly accountId: string;
  readonly timezone: string;
  readonly currency: string;
  readonly days: readonly string[];
  /** Partitions replaced (one per day, empty days included), with their `date|platform|account` keys. */
  readonly partitions: readonly (AdPartitionKey & { readonly key: string; readonly rowCount: number })[];
  readonly rows: number;
  /** End of the last closed account-local day, as a UTC instant (ads: "last closed day"). */
  readonly watermark: WatermarkReport;
}

export async function syncAdAccount(options: AdSyncOptions): Promise<AdSyncResult> {
  const { connector, accountId, store } = options;
  const now = options.now ?? DateTime.utc();
  const account = await connector.accountInfo(accountId);
  const today = todayIn(account.timezone, now);
  const days = daysToPull({
    today,
    restatementDays: options.restatementDays ?? DEFAULT_RESTATEMENT_DAYS[connector.platform],
    ...(options.lastPulledDay !== undefined ? { lastPulledDay: options.lastPulledDay } : {}),
    ...(options.firstDay !== undefined ? { firstDay: options.firstDay } : {}),
    ...(options.includeToday !== undefined ? { includeToday: options.includeToday } : {}),
  });
  const source = `ads:${connector.platform}:${accountId}`;
  const closedEnd = dayBoundsUtc(today, account.timezone).start;
  if (days.length === 0) {
    return { ...summary(), days, partitions: [], rows: 0, watermark: { source, watermark: closedEnd } };
  }

  const rows = await connector.fetchReport(account, days[0] as string, days[days.length - 1] as string);
  const byDay = new Map<string, AdReportRow[]>(days.map((d) => [d, []]));
  for (const r of rows) {
    const bucket = byDay.get(r.date);
    // A row for a day we did not ask for means the connector or API misbehaved: fail loudly, land nothing.
    if (!bucket)
      throw new Error(`${source}: API returned a row for ${r.date}, outside ${days[0]}..${days.at(-1)}`);
    bucket.push(r);
  }
  const partitions: (AdPartitionKey & { key: string; rowCount: number })[] = [];
  for (const [date, dayRows] of byDay) {
    const key: AdPartitionKey = { date, platform: connector.platform, account_id: accountId };
    const { rowCount } = await store.replacePartition(key, dayRows);
    partitions.push({ ...key, key: adPartitionKey(key), rowCount });
  }
  return { ...summary(), days, partitions, rows: rows.length, watermark: { source, watermark: closedEnd } };

  function summary() {
    return {
      platform: connector.platform,
      accountId,
      timezone: account.timezone,
      currency: account.currency,
    };
  }
}
