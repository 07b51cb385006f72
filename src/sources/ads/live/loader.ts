import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Engine } from '../../../engines/index.js';
import { engineDialect } from '../../sinks/sql-rows.js';
import type { IngestResult, LandResult, SourceLoader, WatermarkReport } from '../../types.js';
import { addDays, dayBoundsUtc, dayRange, todayIn } from '../days.js';
import type { RetryPolicy } from '../http.js';
import { createAdsConnectorFromEnv } from '../index.js';
import { EngineAdReportStore } from '../store.js';
import {
  AD_REPORTS_TABLE,
  DEFAULT_RESTATEMENT_DAYS,
  type AdAccountInfo,
  type AdPlatform,
  type AdReportRow,
  type AdsConnector,
} from '../types.js';

/**
 * The ads APIs as a `SourceLoader` (source name `ads`, asset `raw.ad_reports`, partitions date × platform):
 * a requested (date, platform) is pulled for every configured account of the platform through the real
 * connectors over HTTP, together with the platform's restatement window, and each account-local day's
 * partition (date × platform × account) is replaced whole — the same rows, in the same table, as the landing
 * ads loader writes from `campaign_daily.json`.
 *
 * Each day is pulled once per account-local "today": later requests for days already pulled today only read
 * the table; when the clock reaches a new day the restatement window is pulled again once. `land()` pulls the
 * windows of every account and reports the (date, platform) partitions whose rows changed after an `ingest()`
 * reported them (restatements) as re-opened.
 */

export interface AdsApiLoaderOptions {
  /** Warehouse holding `raw.ad_reports`. */
  readonly engine: Engine;
  /** Ad account ids to pull, per platform (`AdsApiFakes.accountIds` in live mode). */
  readonly accounts: Readonly<Partial<Record<AdPlatform, readonly string[]>>>;
  /** API base URL per platform (`AdsApiFakes.baseUrls`); default the real APIs. */
  readonly baseUrls?: Readonly<Partial<Record<AdPlatform, string>>>;
  /** Where the `TESSERA_*` credential variables are read from (`AdsApiFakes.env`); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Days re-pulled after the fact, per platform; default DEFAULT_RESTATEMENT_DAYS (30, 28, 3, 7). */
  readonly restatementDays?: Readonly<Partial<Record<AdPlatform, number>>>;
  /** First day `land()` pulls on its first run (backfill start); default the restatement window's start. */
  readonly firstDay?: string;
  /**
   * The clock deciding each account's "today" (closed days and the restatement window); default the wall
   * clock. A replayed simulation passes an instant after its last day.
   */
  readonly now?: () => DateTime;
  readonly retry?: RetryPolicy;
  /** Connectors to use instead of building them from `baseUrls` and `env` (tests). */
  readonly connectors?: Readonly<Partial<Record<AdPlatform, AdsConnector>>>;
}

export interface AdsApiLoader extends SourceLoader {
  land(heartbeat: () => void): Promise<LandResult>;
}

const PLATFORMS: readonly AdPlatform[] = ['google', 'facebook', 'tiktok', 'twitter'];

export function createAdsApiLoader(options: AdsApiLoaderOptions): AdsApiLoader {
  const store = new EngineAdReportStore(options.engine);
  const now = options.now ?? (() => DateTime.utc());
  const connectors = new Map<AdPlatform, AdsConnector>();
  const infos = new Map<string, AdAccountInfo>();
  /** `platform/account` → day → the account-local "today" it was last pulled on. */
  const pulled = new Map<string, Map<string, string>>();
  /** `date|platform` → the data version `ingest()` reported. */
  const reported = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();

  function connector(platform: AdPlatform): AdsConnector {
    let c = connectors.get(platform) ?? options.connectors?.[platform];
    if (!c) {
      const baseUrl = options.baseUrls?.[platform];
      c = createAdsConnectorFromEnv(
        platform,
        {
          ...(baseUrl !== undefined ? { baseUrl } : {}),
          ...(options.retry !== undefined ? { retry: options.retry } : {}),
        },
        options.env ?? process.env,
      );
    }
    connectors.set(platform, c);
    return c;
  }

  async function info(platform: AdPlatform, accountId: string): Promise<AdAccountInfo> {
    const key = `${platform}/${accountId}`;
    let i = infos.get(key);
    if (!i) infos.set(key, (i = await connector(platform).accountInfo(accountId)));
    return i;
  }

  /**
   * Pulls `wanted` days (those not pulled yet today) plus the restatement window's closed days not yet
   * re-pulled today, as one range, and replaces every day's partition. Returns the days replaced.
   */
  async function pullAccount(
    platform: AdPlatform,
    accountId: string,
    wanted: readonly string[],
    heartbeat: () => void,
  ): Promise<{ days: string[]; rows: number }> {
    const account = await info(platform, accountId);
    const today = todayIn(account.timezone, now());
    const seen = pulled.get(`${platform}/${accountId}`) ?? new Map<string, string>();
    pulled.set(`${platform}/${accountId}`, seen);
    const window = dayRange(
      addDays(today, -(options.restatementDays?.[platform] ?? DEFAULT_RESTATEMENT_DAYS[platform])),
      addDays(today, -1),
    );
    const due = [...wanted, ...window].filter((d) => d <= today && seen.get(d) !== today).sort();
    if (due.length === 0) return { days: [], rows: 0 };
    const days = dayRange(due[0] as string, due[due.length - 1] as string);
    const rows = await connector(platform).fetchReport(account, days[0] as string, days.at(-1) as string);
    heartbeat();
    const byDay = new Map<string, AdReportRow[]>(days.map((d) => [d, []]));
    for (const r of rows) {
      const bucket = byDay.get(r.date);
      if (!bucket) throw new Error(`ads ${platform}/${accountId}: row for ${r.date} outside ${days[0]}..`);
      bucket.push(r);
    }
    // Empty days are replaced too: a campaign-day the platform withdrew disappears.
    for (const [date, dayRows] of byDay) {
      await store.replacePartition({ date, platform, account_id: accountId }, dayRows);
      seen.set(date, today);
    }
    return { days, rows: rows.length };
  }

  /** End of the last closed account-local day over every account pulled so far (the earliest of them). */
  function watermark(): WatermarkReport | undefined {
    let min: string | undefined;
    for (const a of infos.values()) {
      const end = dayBoundsUtc(todayIn(a.timezone, now()), a.timezone).start;
      if (min === undefined || end < min) min = end;
    }
    return min === undefined ? undefined : { source: 'ads', watermark: min };
  }

  /**
   * The partition's rows and a content fingerprint. Ad rows are replaced in place when a platform restates a
   * day, so the version hashes every value (a count and key range would miss a changed spend).
   */
  async function stats(date: string, platform: string): Promise<IngestResult> {
    const wm = watermark();
    const base = {
      partition: { type: 'values' as const, values: { date, platform } },
      ...(wm ? { watermark: wm } : {}),
    };
    if (!(await options.engine.describeTable(AD_REPORTS_TABLE)))
      return { ...base, rowCount: 0, dataVersion: 'empty' };
    const d = engineDialect(options.engine);
    const q = (c: string): string => d.quote(c);
    const text = (c: string): string => `CAST(${q(c)} AS ${d.portable.types.text}) AS ${q(c)}`;
    const rows = await options.engine.query(
      `SELECT ${q('account_id')}, ${q('campaign_id')}, ${q('campaign_name')}, ${text('impressions')},
              ${text('clicks')}, ${text('spend_micros')}, ${text('conversions')}, ${q('currency')},
              ${q('account_timezone')}
         FROM ${d.table(AD_REPORTS_TABLE)}
        WHERE ${q('date')} = ${d.dateLiteral(date)} AND ${q('platform')} = ${d.literal(platform)}
        ORDER BY ${q('account_id')}, ${q('campaign_id')}`,
    );
    const hash = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16);
    return {
      ...base,
      rowCount: rows.length,
      dataVersion: rows.length === 0 ? 'empty' : `${rows.length}:${hash}`,
    };
  }

  function serialized<T>(run: () => Promise<T>): Promise<T> {
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  }

  return {
    ingest(req): Promise<IngestResult> {
      return serialized(async () => {
        const date = req.dimensions?.['date'] ?? '';
        const platform = req.dimensions?.['platform'] ?? '';
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !PLATFORMS.includes(platform as AdPlatform))
          throw new Error(`${req.assetKey}: ads partitions are date × platform, got ${req.partitionKey}`);
        const p = platform as AdPlatform;
        for (const accountId of options.accounts[p] ?? [])
          await pullAccount(p, accountId, [date], req.heartbeat);
        const result = await stats(date, platform);
        reported.set(`${date}|${platform}`, result.dataVersion);
        return result;
      });
    },

    land(heartbeat): Promise<LandResult> {
      return serialized(async () => {
        let landed = 0;
        const touched = new Set<string>();
        for (const p of PLATFORMS) {
          for (const accountId of options.accounts[p] ?? []) {
            const seen = pulled.get(`${p}/${accountId}`);
            // First run: back to firstDay, as a backfill would.
            const first = seen === undefined && options.firstDay !== undefined ? [options.firstDay] : [];
            const r = await pullAccount(p, accountId, first, heartbeat);
            landed += r.rows;
            for (const d of r.days) touched.add(`${d}|${p}`);
          }
        }
        const reopened: { stream: string; partitionKey: string }[] = [];
        for (const key of [...touched].sort()) {
          const before = reported.get(key);
          if (before === undefined) continue;
          const [date, platform] = key.split('|') as [string, string];
          const after = (await stats(date, platform)).dataVersion;
          if (after !== before) {
            reopened.push({ stream: 'campaign_daily', partitionKey: key });
            reported.set(key, after);
          }
        }
        const wm = watermark();
        return {
          landed,
          quarantined: 0,
          ...(wm ? { watermark: wm } : {}),
          ...(reopened.length > 0 ? { reopened } : {}),
        };
      });
    },
  };
}
