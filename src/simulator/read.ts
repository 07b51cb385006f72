import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groundTruthSchema, type GroundTruth } from './truth.js';
import type { CampaignDailyRow } from './ads.js';
import { z } from 'zod';

/** Readers for a simulated landing folder's own files (truth, ad rows), validated at the boundary. */

export async function readGroundTruth(landingDir: string): Promise<GroundTruth> {
  return groundTruthSchema.parse(JSON.parse(await readFile(join(landingDir, 'truth.json'), 'utf8')));
}

const campaignDailyRow = z.object({
  platform: z.enum(['google', 'facebook', 'tiktok', 'twitter']),
  account_id: z.string(),
  account_timezone: z.string(),
  account_currency: z.string().regex(/^[A-Z]{3}$/),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  campaign_id: z.string(),
  campaign_name: z.string(),
  impressions: z.number().int().nonnegative(),
  clicks: z.number().int().nonnegative(),
  spend_micros: z.string().regex(/^\d+$/),
  conversions: z.number().nonnegative(),
});

export async function readCampaignDaily(landingDir: string): Promise<CampaignDailyRow[]> {
  const json: unknown = JSON.parse(await readFile(join(landingDir, 'ads', 'campaign_daily.json'), 'utf8'));
  return z.array(campaignDailyRow).parse(json);
}
