import { mkdir, readdir, rename } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { join } from 'node:path';
import type { Engine } from '../../engines/index.js';
import { readDebeziumFolder } from '../debezium/index.js';
import { ingestFxFile, FX_RATES_TABLE } from '../fx/index.js';
import type { PiiRules } from '../pii.js';
import { EngineRawSink } from '../sinks/index.js';
import { BulkDuckDbSink, ingestSnowplowFile, SnowplowLoader } from '../snowplow/index.js';
import type { IngestRequest, IngestResult, SourceLoader, WatermarkReport } from '../types.js';
import { partitionStats } from './partition-stats.js';
import { AD_REPORTS_TABLE, adPartitionKey, EngineAdReportStore, type AdReportRow } from '../ads/index.js';
import { z } from 'zod';

const adRowsSchema = z.array(
  z.object({
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    platform: z.enum(['google', 'facebook', 'tiktok', 'twitter']),
    account_id: z.string(),
    account_timezone: z.string(),
    campaign_id: z.string(),
    campaign_name: z.string().nullable(),
    impressions: z.number(),
    clicks: z.number(),
    // Micros can pass 2^53: the connectors carry them as decimal strings.
    spend_micros: z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(String),
    account_currency: z.string(),
    conversions: z.number(),
  }),
);

/**
 * The embedded default's sources: files in a landing folder, in the same wire formats as the live transports
 * (Debezium JSON, Snowplow enriched TSV, FX CSV). Each loader lands everything new (idempotently: rows dedupe on
 * their natural keys), then reports the requested partition.
 */
export interface LandingOptions {
  readonly engine: Engine;
  readonly landingDir: string;
  /** PII rules per OLTP database, e.g. { user_db: { email: 'hash', phone: 'hash' } }. */
  readonly pii?: Readonly<Record<string, PiiRules>>;
  readonly piiKey?: string;
  readonly allowedLatenessMinutes?: number;
}

/**
 * A landing file is a completed period: `<name>-20261124.jsonl` holds all of that day, `2026-11-24T13.tsv` all
 * of that hour. So once a file has landed, its source is complete through the end of its period (the way a
 * _SUCCESS marker works), which lets the barrier release the last day without waiting for later data.
 */
export function periodEnd(file: string): string | undefined {
  const hour = /(\d{4}-\d{2}-\d{2})T(\d{2})/.exec(file);
  if (hour)
    return (
      DateTime.fromISO(`${hour[1]}T${hour[2]}:00`, { zone: 'utc' }).plus({ hours: 1 }).toISO() ?? undefined
    );
  const day = /(\d{4})-?(\d{2})-?(\d{2})/.exec(file);
  if (day)
    return (
      DateTime.fromISO(`${day[1]}-${day[2]}-${day[3]}`, { zone: 'utc' }).plus({ days: 1 }).toISO() ??
      undefined
    );
  return undefined;
}

/** The latest period end among the files landed so far (in `done/`). */
async function landedThrough(dir: string, source: string): Promise<WatermarkReport | undefined> {
  const done = join(dir, 'done');
  if (!existsSync(done)) return undefined;
  const ends = (await readdir(done))
    .map(periodEnd)
    .filter((e): e is string => e !== undefined)
    .sort();
  const last = ends.at(-1);
  return last ? { source, watermark: last } : undefined;
}

const window = (req: IngestRequest): { start: string; end: string } => {
  if (!req.window) throw new Error(`${req.assetKey}: landing loaders need time partitions`);
  return req.window;
};

function debeziumLoader(o: LandingOptions, db: string): SourceLoader {
  const sink = new EngineRawSink(o.engine);
  return {
    async ingest(req) {
      const dir = join(o.landingDir, 'debezium', db);
      // Activities serialize ingestion per source, so each call lands what is new and nothing runs beside it.
      const streamed = existsSync(dir)
        ? (
            await readDebeziumFolder(dir, sink, {
              source: db,
              ...(o.pii?.[db] ? { pii: o.pii[db] } : {}),
              ...(o.piiKey ? { piiKey: o.piiKey } : {}),
            })
          ).watermark
        : undefined;
      const watermark = (await landedThrough(dir, db)) ?? streamed;
      const w = window(req);
      return partitionStats(
        o.engine,
        {
          table: `raw.${db}_${req.stream}_changes`,
          where: '_commit_time >= CAST(? AS TIMESTAMPTZ) AND _commit_time < CAST(? AS TIMESTAMPTZ)',
          params: [w.start, w.end],
          key: `_lsn || ':' || CAST(_seq AS VARCHAR)`,
          partition: { type: 'window', column: '_commit_time', ...w },
        },
        watermark,
      );
    },
  };
}

/** Moves landed files to `done/`: a crash before the move only re-reads them (rows dedupe on event_id). */
async function landFiles(dir: string, pattern: RegExp, land: (path: string) => Promise<void>): Promise<void> {
  if (!existsSync(dir)) return;
  const files = (await readdir(dir)).filter((f) => pattern.test(f)).sort();
  if (files.length === 0) return;
  await mkdir(join(dir, 'done'), { recursive: true });
  for (const f of files) {
    await land(join(dir, f));
    await rename(join(dir, f), join(dir, 'done', f));
  }
}

function snowplowLoader(o: LandingOptions): SourceLoader {
  const loader = new SnowplowLoader({
    sink: new BulkDuckDbSink(o.engine, new EngineRawSink(o.engine)),
    allowedLatenessMinutes: o.allowedLatenessMinutes ?? 60,
  });
  let watermark: string | undefined;
  return {
    async ingest(req) {
      await landFiles(join(o.landingDir, 'snowplow'), /\.tsv(\.gz)?$/, async (path) => {
        const r = await ingestSnowplowFile(path, { loader });
        if (r.watermark && (!watermark || r.watermark > watermark)) watermark = r.watermark;
        req.heartbeat();
      });
      const w = window(req);
      return partitionStats(
        o.engine,
        {
          table: 'raw.snowplow_events',
          where: 'derived_tstamp >= CAST(? AS TIMESTAMPTZ) AND derived_tstamp < CAST(? AS TIMESTAMPTZ)',
          params: [w.start, w.end],
          key: 'event_id',
          partition: { type: 'window', column: 'derived_tstamp', ...w },
        },
        (await landedThrough(join(o.landingDir, 'snowplow'), 'snowplow')) ??
          (watermark ? { source: 'snowplow', watermark } : undefined),
      );
    },
  };
}

function fxLoader(o: LandingOptions): SourceLoader {
  return {
    async ingest(req) {
      await landFiles(join(o.landingDir, 'fx'), /\.(csv|json)$/, async (path) => {
        await ingestFxFile(path, new EngineRawSink(o.engine));
      });
      const [max] = await o.engine
        .query<{ d: string | null }>(`SELECT CAST(max(date) AS VARCHAR) AS d FROM ${FX_RATES_TABLE}`)
        .catch(() => []);
      const last = max?.d ?? undefined;
      const w = window(req);
      return partitionStats(
        o.engine,
        {
          table: FX_RATES_TABLE,
          where: 'CAST(date AS VARCHAR) = ?',
          params: [w.start.slice(0, 10)],
          key: 'currency',
          partition: { type: 'values', values: { date: w.start.slice(0, 10) } },
        },
        last
          ? {
              source: 'fx',
              watermark: DateTime.fromISO(last, { zone: 'utc' }).plus({ days: 1 }).toISO() ?? last,
            }
          : undefined,
      );
    },
  };
}

/**
 * Ads in the embedded default: campaign-day rows as the connectors return them (`ads/campaign_daily.json`),
 * each (date, platform, account) partition replaced whole, as a restatement pull would.
 */
function adsLoader(o: LandingOptions): SourceLoader {
  const store = new EngineAdReportStore(o.engine);
  let landedFile: string | undefined;
  return {
    async ingest(req) {
      const file = join(o.landingDir, 'ads', 'campaign_daily.json');
      if (existsSync(file) && landedFile !== file) {
        const rows: AdReportRow[] = adRowsSchema
          .parse(JSON.parse(readFileSync(file, 'utf8')))
          .map(({ account_currency, ...r }) => ({ ...r, currency: account_currency }));
        const byPartition = new Map<string, AdReportRow[]>();
        for (const r of rows) {
          const key = adPartitionKey(r);
          byPartition.set(key, [...(byPartition.get(key) ?? []), r]);
        }
        for (const [, part] of [...byPartition].sort(([a], [b]) => (a < b ? -1 : 1))) {
          const first = part[0] as AdReportRow;
          await store.replacePartition(
            { date: first.date, platform: first.platform, account_id: first.account_id },
            part,
          );
        }
        landedFile = file;
      }
      const platform = req.dimensions?.platform ?? '';
      const date = req.dimensions?.date ?? '';
      const last = await o.engine
        .query<{ d: string | null }>(`SELECT CAST(max(date) AS VARCHAR) AS d FROM ${AD_REPORTS_TABLE}`)
        .catch(() => []);
      const through = last[0]?.d
        ? DateTime.fromISO(last[0].d, { zone: 'utc' }).plus({ days: 1 }).toISO()
        : undefined;
      return partitionStats(
        o.engine,
        {
          table: AD_REPORTS_TABLE,
          where: 'CAST(date AS VARCHAR) = ? AND platform = ?',
          params: [date, platform],
          key: `account_id || ':' || campaign_id || ':' || CAST(spend_micros AS VARCHAR)`,
          partition: { type: 'values', values: { date, platform } },
        },
        through ? { source: 'ads', watermark: through } : undefined,
      );
    },
  };
}

export function landingLoaders(o: LandingOptions): Record<string, SourceLoader> {
  return {
    user_db: debeziumLoader(o, 'user_db'),
    inventory_db: debeziumLoader(o, 'inventory_db'),
    snowplow: snowplowLoader(o),
    fx: fxLoader(o),
    ads: adsLoader(o),
  };
}

export type { IngestResult };
