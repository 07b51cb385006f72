import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groundTruthSchema, type GroundTruth } from './truth.js';
import { readCampaignDailyFile } from '../sources/ads/live/fake-apis/campaign-daily.js';
import type { CampaignDailyRow } from './ads.js';

/** Readers for a simulated landing folder's own files (truth, ad rows), validated at the boundary. */

export async function readGroundTruth(landingDir: string): Promise<GroundTruth> {
  return groundTruthSchema.parse(JSON.parse(await readFile(join(landingDir, 'truth.json'), 'utf8')));
}

/** The simulator's ad rows, read back through the sources' reader of the file (one schema for one format). */
export async function readCampaignDaily(landingDir: string): Promise<CampaignDailyRow[]> {
  return readCampaignDailyFile(landingDir);
}
