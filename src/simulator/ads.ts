import type { FxRateRow } from '../sources/fx/fx.js';
import type { AdPlatform } from '../sources/ads/types.js';
import { AD_ACCOUNTS } from './config.js';
import type { Rng } from './rng.js';
import { addDays } from './time.js';

/**
 * Daily ad reports per platform, account and campaign (account-local days, account currency) and the FX
 * rates that convert them to USD. The rows are `raw.ad_reports`-shaped; accountsByPlatform() in
 * src/sources/ads/live regroups them into the accounts the wire-format fakes of the four ads APIs serve.
 */

/** One campaign-day as written to `ads/campaign_daily.json`. spend_micros: integer millionths of account_currency, as a decimal string. */
export interface CampaignDailyRow {
  readonly platform: AdPlatform;
  readonly account_id: string;
  readonly account_timezone: string;
  readonly account_currency: string;
  /** Account-local day. */
  readonly date: string;
  readonly campaign_id: string;
  readonly campaign_name: string;
  readonly impressions: number;
  readonly clicks: number;
  readonly spend_micros: string;
  readonly conversions: number;
}

export function campaignDailyRows(
  rng: Rng,
  start: string,
  days: number,
  budgetFactor: number,
): CampaignDailyRow[] {
  const rows: CampaignDailyRow[] = [];
  for (let d = 0; d < days; d++) {
    const date = addDays(start, d);
    for (const a of AD_ACCOUNTS) {
      for (const c of a.campaigns) {
        const spend = c.budget * budgetFactor * Math.exp(0.25 * rng.normal());
        const cents = Math.max(0, Math.round(spend * 100));
        const clicks = Math.max(0, Math.round(spend / (c.cpc * Math.exp(0.15 * rng.normal()))));
        rows.push({
          platform: a.platform,
          account_id: a.id,
          account_timezone: a.timezone,
          account_currency: a.currency,
          date,
          campaign_id: c.id,
          campaign_name: c.name,
          impressions: Math.round(clicks / rng.float(0.01, 0.05)),
          clicks,
          spend_micros: String(cents * 10_000),
          conversions: Math.round(clicks * rng.float(0.02, 0.08)),
        });
      }
    }
  }
  return rows;
}

const FX_START: Readonly<Record<string, number>> = { EUR: 1.08, GBP: 1.27 };

/** USD value of one unit per day (a random walk); USD itself is 1. Six decimals, as written to the CSV. */
export function fxRates(rng: Rng, start: string, days: number): FxRateRow[] {
  const rows: FxRateRow[] = [];
  const level: Record<string, number> = { ...FX_START };
  for (let d = 0; d < days; d++) {
    const date = addDays(start, d);
    rows.push({ date, currency: 'USD', usd_rate: 1 });
    for (const cur of Object.keys(FX_START).sort()) {
      const next = (level[cur] as number) * Math.exp(0.004 * rng.normal());
      level[cur] = next;
      rows.push({ date, currency: cur, usd_rate: Number(next.toFixed(6)) });
    }
  }
  return rows;
}

/** `fx/rates.csv` as src/sources/fx reads it. */
export function fxCsv(rows: readonly FxRateRow[]): string {
  return `date,currency,usd_rate\n${rows.map((r) => `${r.date},${r.currency},${r.usd_rate.toFixed(6)}`).join('\n')}\n`;
}
