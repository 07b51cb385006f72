import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AD_PLATFORMS, type AdPlatform } from '../../types.js';
import type { FakeAdAccount } from './server.js';

/**
 * The simulator's ad data as the fakes serve it: `<landingDir>/ads/campaign_daily.json` (one campaign-day per
 * row, account-local date, spend as a decimal string of integer micros), regrouped into accounts per platform.
 */

export const campaignDailySchema = z.array(
  z.object({
    platform: z.enum(AD_PLATFORMS),
    account_id: z.string().min(1),
    account_timezone: z.string().min(1),
    account_currency: z.string().regex(/^[A-Z]{3}$/),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    campaign_id: z.string().min(1),
    campaign_name: z.string(),
    impressions: z.number().int().nonnegative(),
    clicks: z.number().int().nonnegative(),
    // Micros can pass 2^53: kept as a decimal string end to end.
    spend_micros: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
    conversions: z.number().int().nonnegative(),
  }),
);
export type CampaignDailyRecord = z.input<typeof campaignDailySchema>[number];

/** A row as read back from the file: spend always a decimal string. */
export type CampaignDailyFileRow = z.output<typeof campaignDailySchema>[number];

/** `<landingDir>/ads/campaign_daily.json`, validated: the one reader of the file (fakes, simulator tests). */
export async function readCampaignDailyFile(landingDir: string): Promise<CampaignDailyFileRow[]> {
  return campaignDailySchema.parse(
    JSON.parse(await readFile(join(landingDir, 'ads', 'campaign_daily.json'), 'utf8')),
  );
}

/** Rows → the accounts each platform's fake serves, in first-seen order. */
export function accountsByPlatform(
  records: readonly CampaignDailyRecord[],
): Record<AdPlatform, FakeAdAccount[]> {
  const out: Record<AdPlatform, FakeAdAccount[]> = { google: [], facebook: [], tiktok: [], twitter: [] };
  const byKey = new Map<string, FakeAdAccount>();
  for (const r of campaignDailySchema.parse(records)) {
    const key = `${r.platform}/${r.account_id}`;
    let a = byKey.get(key);
    if (!a) {
      a = { id: r.account_id, timezone: r.account_timezone, currency: r.account_currency, rows: [] };
      byKey.set(key, a);
      out[r.platform].push(a);
    }
    a.rows.push({
      date: r.date,
      campaignId: r.campaign_id,
      campaignName: r.campaign_name,
      impressions: r.impressions,
      clicks: r.clicks,
      spendMicros: r.spend_micros,
      conversions: r.conversions,
    });
  }
  return out;
}
