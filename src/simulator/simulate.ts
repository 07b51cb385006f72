import { base, en, Faker } from '@faker-js/faker';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DebeziumEncoder } from '../sources/debezium/encode.js';
import { campaignDailyRows, fxCsv, fxRates } from './ads.js';
import { Clickstream } from './clickstream.js';
import { SCALES, type ScaleParams, type SimScale } from './config.js';
import { newBrowser } from './events.js';
import { ChangeLog, SimTypeRegistry } from './pg.js';
import { EventQueue } from './queue.js';
import { Rng } from './rng.js';
import { SnowplowFiles } from './snowplow-files.js';
import { addDays, dayStartUs, isoMillis, US_PER_DAY, US_PER_HOUR, US_PER_MS, utcDate } from './time.js';
import { computeTruth, type GroundTruth } from './truth.js';
import { World } from './world.js';
import { SimCore } from './core.js';

/**
 * simulate(): BookMyEvent's activity over N UTC days, written as the embedded default's landing folder in the
 * real wire formats, plus the ground truth. Deterministic: the same options give byte-identical files.
 */

export const simulateOptionsSchema = z.object({
  seed: z.number().int(),
  start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'start must be YYYY-MM-DD'),
  days: z.number().int().min(1).max(366),
  landingDir: z.string().min(1),
  scale: z.enum(['small', 'demo']).default('demo'),
  /**
   * Multiplies the scale's populations (sign-ups, vendors, anonymous sessions), so events per day grow in
   * proportion; behaviour rates and ad budgets stay. bench/backfill.ts sizes its runs with it. 1: the scale as is.
   */
  volume: z.number().positive().default(1),
});
export type SimulateOptions = z.input<typeof simulateOptionsSchema>;

export const DEBEZIUM_SERVER = 'bookmyevent';
export const OLTP_DATABASES = ['user_db', 'inventory_db'] as const;

/** The scale's populations times `volume` (the same object at 1, so default runs stay byte-identical). */
function volumeOf(p: ScaleParams, volume: number): ScaleParams {
  if (volume === 1) return p;
  return {
    ...p,
    signupsPerDay: p.signupsPerDay * volume,
    initialVendors: Math.max(1, Math.round(p.initialVendors * volume)),
    vendorsPerDay: p.vendorsPerDay * volume,
    anonSessionsPerDay: p.anonSessionsPerDay * volume,
  };
}

export async function simulate(options: SimulateOptions): Promise<GroundTruth> {
  const opts = simulateOptionsSchema.parse(options);
  const scale: SimScale = opts.scale;
  const params = volumeOf(SCALES[scale], opts.volume);
  const startUs = dayStartUs(opts.start);
  const endUs = startUs + opts.days * US_PER_DAY;
  const faker = new Faker({ locale: [en, base] });
  faker.seed(opts.seed);
  const rng = new Rng(opts.seed, 0);
  const queue = new EventQueue(endUs);
  const logs = {
    user_db: new ChangeLog('user_db', new Rng(opts.seed, 3), 0x1a2b3c00n, 7_400),
    inventory_db: new ChangeLog('inventory_db', new Rng(opts.seed, 4), 0x2f0a0000n, 91_200),
  };
  const world = new World(new SimCore(queue, rng, faker, logs.user_db, logs.inventory_db));
  const junkRng = new Rng(opts.seed, 5);
  const junk = newBrowser(junkRng, 'US');
  const files = new SnowplowFiles(opts.landingDir, new Rng(opts.seed, 1), startUs, endUs, (ms) => ({
    app_id: 'bookmyevent-web',
    platform: 'web',
    event: 'page_view',
    event_id: junkRng.uuid(),
    collector_tstamp: isoMillis(ms * US_PER_MS),
    derived_tstamp: isoMillis(ms * US_PER_MS),
    domain_userid: junk.id,
    page_url: 'https://www.bookmyevent.com/',
    page_urlpath: '/',
  }));
  const clicks = new Clickstream(world, rng, files, Math.floor(endUs / US_PER_MS));

  for (let d = 0; d < opts.days; d++) {
    const dayStart = startUs + d * US_PER_DAY;
    queue.schedule(dayStart, () => {
      world.planDay(dayStart, d, params);
      clicks.planDay(dayStart, d, params);
    });
    // Tessera's heartbeat closes each day's file, so a reader can place the day's last transaction.
    queue.schedule(dayStart + US_PER_DAY - 1, (t) => {
      logs.user_db.heartbeat(t);
      logs.inventory_db.heartbeat(t);
    });
  }
  let n = 0;
  while (queue.step()) if (++n % 5_000 === 0) await files.flush(queue.now - 4 * US_PER_HOUR);
  await files.flush(Infinity);

  const debezium: string[] = [];
  const debeziumEvents: Record<string, number> = {};
  for (const db of OLTP_DATABASES) {
    const dir = join(opts.landingDir, 'debezium', db);
    await mkdir(dir, { recursive: true });
    const encoder = new DebeziumEncoder(new SimTypeRegistry(), { server: DEBEZIUM_SERVER, db });
    const byDay = new Map<string, string[]>();
    let events = 0;
    for (const { atUs, tx } of logs[db].transactions) {
      const day = utcDate(atUs);
      let lines = byDay.get(day);
      if (!lines) byDay.set(day, (lines = []));
      for (const e of encoder.transaction(tx)) {
        lines.push(JSON.stringify(e.value));
        events++;
        // Debezium follows a delete with a tombstone (tombstones.on.delete=true) so Kafka compaction can drop the key.
        if ((e.value['payload'] as { op?: string } | undefined)?.op === 'd') lines.push('null');
      }
    }
    for (let d = 0; d < opts.days; d++) {
      const date = addDays(opts.start, d);
      const file = `${db}-${date.replace(/-/g, '')}.jsonl`;
      const lines = byDay.get(date) ?? [];
      await writeFile(join(dir, file), lines.length > 0 ? `${lines.join('\n')}\n` : '');
      debezium.push(`debezium/${db}/${file}`);
    }
    debeziumEvents[db] = events;
  }

  const adRng = new Rng(opts.seed, 2);
  const ads = campaignDailyRows(adRng, opts.start, opts.days, params.adBudgetFactor);
  const fx = fxRates(adRng, opts.start, opts.days);
  await mkdir(join(opts.landingDir, 'ads'), { recursive: true });
  await mkdir(join(opts.landingDir, 'fx'), { recursive: true });
  await writeFile(
    join(opts.landingDir, 'ads', 'campaign_daily.json'),
    `[\n${ads.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`,
  );
  await writeFile(join(opts.landingDir, 'fx', 'rates.csv'), fxCsv(fx));

  const truth = computeTruth({
    seed: opts.seed,
    start: opts.start,
    days: opts.days,
    scale,
    facts: world.facts,
    clicks: clicks.facts,
    malformed: files.malformed,
    duplicatesByDay: files.duplicatesByDay,
    ads,
    fx,
    files: {
      debezium,
      snowplow: files.files,
      ads: 'ads/campaign_daily.json',
      fx: 'fx/rates.csv',
      debezium_events: debeziumEvents,
      snowplow_lines: files.lines,
    },
  });
  await writeFile(join(opts.landingDir, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}
