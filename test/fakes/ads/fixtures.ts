import { DateTime } from 'luxon';
import type { Engine } from '../../../src/engines/types.js';
import { createDuckDbEngine } from '../../../src/engines/index.js';
import { dayRange } from '../../../src/sources/ads/days.js';
import type { FakeAdAccount, FakeAdRow } from '../../../src/sources/ads/live/fake-apis/server.js';

/** Shared test data for the ads connector tests: deterministic rows over a range of days. */

/** 2026-11-24T06:00Z: still 2026-11-23 in Los Angeles, already the 24th in UTC and Asia. */
export const NOW = DateTime.fromISO('2026-11-24T06:00:00Z', { zone: 'utc' });

export const FAST_RETRY = { retries: 3, minBackoffMs: 1, maxBackoffMs: 5 } as const;

/** Two campaigns per day from `from` to `to`, values derived from the day so restatements are visible. */
export function sampleRows(from: string, to: string, campaigns = ['111', '222']): FakeAdRow[] {
  return dayRange(from, to).flatMap((date, d) =>
    campaigns.map((id, c) => ({
      date,
      campaignId: id,
      campaignName: `Campaign ${id}`,
      impressions: 1000 + d * 10 + c,
      clicks: 50 + d + c,
      // 12.345678 + d units: exercises 6 decimals through the decimal-string APIs.
      spendMicros: BigInt(12_345_678 + d * 1_000_000 + c),
      conversions: (d + c) % 3,
    })),
  );
}

export function account(id: string, timezone: string, currency: string, rows: FakeAdRow[]): FakeAdAccount {
  return { id, timezone, currency, rows };
}

export async function memoryEngine(): Promise<Engine> {
  return createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
}

export interface LandedRow {
  date: string;
  campaign_id: string;
  impressions: number;
  clicks: number;
  spend_micros: string;
  conversions: number;
  currency: string;
  account_timezone: string;
  campaign_name: string | null;
}

export async function landed(engine: Engine, platform: string, accountId: string): Promise<LandedRow[]> {
  const rows = await engine.query(
    `SELECT CAST("date" AS VARCHAR) AS "date", campaign_id, CAST(impressions AS DOUBLE) AS impressions,
            CAST(clicks AS DOUBLE) AS clicks, CAST(spend_micros AS VARCHAR) AS spend_micros, conversions, currency,
            account_timezone, campaign_name
       FROM raw.ad_reports WHERE platform = ? AND account_id = ? ORDER BY "date", campaign_id`,
    [platform, accountId],
  );
  return rows as unknown as LandedRow[];
}
