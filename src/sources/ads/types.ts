import type { RawColumn } from '../types.js';

/** The four ad platforms; each connector lands the same `raw.ad_reports` shape. */
export const AD_PLATFORMS = ['google', 'facebook', 'tiktok', 'twitter'] as const;
export type AdPlatform = (typeof AD_PLATFORMS)[number];

export const AD_REPORTS_TABLE = 'raw.ad_reports';

/**
 * Days each platform may still restate after the fact (late conversions, invalid-click refunds): every run
 * re-pulls that many closed days and replaces their partitions. Overridable per source in config.
 */
export const DEFAULT_RESTATEMENT_DAYS: Readonly<Record<AdPlatform, number>> = {
  google: 30,
  facebook: 28,
  tiktok: 3,
  twitter: 7,
};

/** What a connector needs to know about an ad account before asking for its days. */
export interface AdAccountInfo {
  readonly platform: AdPlatform;
  readonly accountId: string;
  /** IANA zone the platform cuts days in, e.g. `America/Los_Angeles`. */
  readonly timezone: string;
  /** ISO-4217 code of the account's billing currency: spend is reported in it. */
  readonly currency: string;
}

/**
 * One campaign-day of `raw.ad_reports`. A type alias (not an interface) so it is assignable to RawRow.
 * spend_micros is a decimal string of an integer (bigint column): millionths of the account currency.
 */
export type AdReportRow = {
  /** Account-local day, `YYYY-MM-DD`. */
  readonly date: string;
  readonly platform: AdPlatform;
  readonly account_id: string;
  readonly account_timezone: string;
  readonly campaign_id: string;
  readonly campaign_name: string | null;
  readonly impressions: number;
  readonly clicks: number;
  readonly spend_micros: string;
  readonly currency: string;
  readonly conversions: number;
};

export const AD_REPORT_COLUMNS: readonly RawColumn[] = [
  { name: 'date', type: 'date' },
  { name: 'platform', type: 'varchar' },
  { name: 'account_id', type: 'varchar' },
  { name: 'account_timezone', type: 'varchar' },
  { name: 'campaign_id', type: 'varchar' },
  { name: 'campaign_name', type: 'varchar' },
  { name: 'impressions', type: 'bigint' },
  { name: 'clicks', type: 'bigint' },
  { name: 'spend_micros', type: 'bigint' },
  { name: 'currency', type: 'varchar' },
  { name: 'conversions', type: 'double' },
];

/** A connector speaks one platform's API; sync.ts does the days, partitions and watermark around it. */
export interface AdsConnector {
  readonly platform: AdPlatform;
  accountInfo(accountId: string): Promise<AdAccountInfo>;
  /** Campaign-day rows for account-local days `from..to` (inclusive, `YYYY-MM-DD`). */
  fetchReport(account: AdAccountInfo, from: string, to: string): Promise<AdReportRow[]>;
}
