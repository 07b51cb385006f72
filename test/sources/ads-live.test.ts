/**
 * Ads in live mode: the simulator's campaign-day rows served by the four API fakes and pulled through the real
 * connectors by the ads SourceLoader land the same `raw.ad_reports` as the landing loader reads from the file;
 * days are pulled once per account-local day, and a restatement seen by land() re-opens its partition.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engines/types.js';
import { simulate } from '../../src/simulator/index.js';
import { createAdsApiLoader, startAdsApiFakes, type AdsApiFakes } from '../../src/sources/ads/live/index.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import type { IngestRequest } from '../../src/sources/types.js';
import { memoryEngine } from '../fakes/ads/fixtures.js';

const DATES = ['2026-11-23', '2026-11-24', '2026-11-25'];
const PLATFORMS = ['facebook', 'google', 'tiktok', 'twitter'] as const;
const noop = (): void => undefined;
const request = (date: string, platform: string): IngestRequest => ({
  assetKey: 'raw.ad_reports',
  stream: 'campaign_daily',
  partitionKey: `${date}|${platform}`,
  dimensions: { date, platform },
  heartbeat: noop,
});

let dir: string;
let fakes: AdsApiFakes;
const engines: Engine[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-ads-live-'));
  await simulate({ seed: 5, start: DATES[0] as string, days: DATES.length, landingDir: dir, scale: 'small' });
  fakes = await startAdsApiFakes({ landingDir: dir, pageSize: 3 });
});
afterAll(async () => {
  await fakes?.close();
  for (const e of engines) await e.close();
  await rm(dir, { recursive: true, force: true });
});

const engine = async (): Promise<Engine> => {
  const e = await memoryEngine();
  engines.push(e);
  return e;
};
const requests = (): number => Object.values(fakes.servers).reduce((n, s) => n + s.requests.length, 0);
const content = (e: Engine) =>
  e.query(
    `SELECT count(*)::INT AS n, md5(string_agg(CAST(t AS VARCHAR), '\n'
       ORDER BY platform, account_id, "date", campaign_id)) AS h FROM raw.ad_reports t`,
  );

describe('ads APIs as a live source', () => {
  // Two days after the last simulated day: closed in every account's timezone. Moved by the restatement test.
  let clock = DateTime.fromISO('2026-11-27T12:00:00Z', { zone: 'utc' });
  let live: ReturnType<typeof createAdsApiLoader>;
  let liveDb: Engine;

  it('lands the same raw table and partitions as the landing loader', async () => {
    liveDb = await engine();
    live = createAdsApiLoader({
      engine: liveDb,
      accounts: fakes.accountIds,
      baseUrls: fakes.baseUrls,
      env: fakes.env,
      now: () => clock,
      retry: { retries: 1, minBackoffMs: 1, maxBackoffMs: 2 },
    });
    const fileDb = await engine();
    const files = landingLoaders({ engine: fileDb, landingDir: dir }).ads;
    for (const date of DATES) {
      for (const platform of PLATFORMS) {
        const a = await live.ingest(request(date, platform));
        const b = await files?.ingest(request(date, platform));
        expect(a.rowCount, `${date}|${platform}`).toBeGreaterThan(0);
        expect({ rowCount: a.rowCount, partition: a.partition }).toEqual({
          rowCount: b?.rowCount,
          partition: b?.partition,
        });
        // Every account is closed through the start of its "today"; the earliest of those is London's.
        expect(a.watermark).toEqual({ source: 'ads', watermark: '2026-11-27T00:00:00Z' });
      }
    }
    const [got] = await content(liveDb);
    expect(got).toEqual((await content(fileDb))[0]);
    expect((got as { n: number }).n).toBeGreaterThan(0);
    // land() alone (a continuous ingestion pass) from the first day lands the same table too.
    const landDb = await engine();
    const landed = await createAdsApiLoader({
      engine: landDb,
      accounts: fakes.accountIds,
      baseUrls: fakes.baseUrls,
      env: fakes.env,
      now: () => clock,
      firstDay: DATES[0] as string,
    }).land(noop);
    expect(landed.landed).toBe((got as { n: number }).n);
    expect((await content(landDb))[0]).toEqual(got);
    // Paging happened (page size 3) and nothing is pulled twice on the same day.
    expect(
      fakes.servers.google.requests.filter((r) => r.path.includes('googleAds:search')).length,
    ).toBeGreaterThan(2);
    const before = requests();
    await live.ingest(request('2026-11-24', 'google'));
    expect(requests()).toBe(before);
  });

  it('re-pulls the restatement window on the next day; land() reports the restated partition as re-opened', async () => {
    const account = fakes.accounts.google[0];
    if (!account) throw new Error('simulation has a Google account');
    const target = account.rows.find((r) => r.date === '2026-11-24');
    if (!target) throw new Error('simulation has a Google row on 2026-11-24');
    account.rows = account.rows.map((r) => (r === target ? { ...r, spendMicros: '123450000' } : r));

    // Same day: nothing is pulled again, so the restatement is not seen yet.
    expect((await live.land(noop)).reopened).toBeUndefined();
    clock = clock.plus({ days: 1 });
    const res = await live.land(noop);
    expect(res.reopened).toEqual([{ stream: 'campaign_daily', partitionKey: '2026-11-24|google' }]);
    expect(res.watermark).toEqual({ source: 'ads', watermark: '2026-11-28T00:00:00Z' });
    const [row] = await liveDb.query<{ s: string }>(
      `SELECT CAST(spend_micros AS VARCHAR) AS s FROM raw.ad_reports
        WHERE platform = 'google' AND account_id = ? AND campaign_id = ? AND CAST("date" AS VARCHAR) = '2026-11-24'`,
      [account.id, target.campaignId],
    );
    expect(row?.s).toBe('123450000');
  });
});
