import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Engine, SqlDialect } from '../../engines/index.js';
import { AD_REPORTS_TABLE, adPartitionKey, EngineAdReportStore, type AdReportRow } from '../ads/index.js';
import { readDebeziumFolder, type DeclaredColumnTypes } from '../debezium/index.js';
import { FX_RATES_TABLE, ingestFxFile } from '../fx/index.js';
import type { PiiRules } from '../pii.js';
import { bulkRawSinkFor, engineDialect, rawSinkFor } from '../sinks/index.js';
import {
  ingestSnowplowFile,
  ingestSnowplowFileNative,
  SNOWPLOW_EVENTS_TABLE,
  SnowplowLoader,
} from '../snowplow/index.js';
import type { IngestRequest, IngestResult, LandResult, SourceLoader, WatermarkReport } from '../types.js';
import { landedThrough, landFiles } from './landing-files.js';
import { changeLogWindowStats, partitionStats, snowplowWindowStats } from './partition-stats.js';

export { periodEnd } from './landing-files.js';

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
 * (Debezium JSON, Snowplow enriched TSV, FX CSV). `land` lands everything new (idempotently: rows dedupe on
 * their natural keys; a continuous ingestion workflow calls it); `ingest` lands, then reports one partition.
 */
export interface LandingOptions {
  readonly engine: Engine;
  readonly landingDir: string;
  /** PII rules per OLTP database, e.g. { user_db: { email: 'hash', phone: 'hash' } }. */
  readonly pii?: Readonly<Record<string, PiiRules>>;
  readonly piiKey?: string;
  /** Declared column types per OLTP database, for Debezium files written without schemas (DeclaredColumnTypes). */
  readonly columnTypes?: Readonly<Record<string, DeclaredColumnTypes>>;
  readonly allowedLatenessMinutes?: number;
}

/** The asset stream Snowplow's late events re-open (the catalog's `ingest: { source: 'snowplow', stream }`). */
export const SNOWPLOW_STREAM = 'enriched';
/** The asset stream of ad reports (`ingest: { source: 'ads', stream }`). */
export const ADS_STREAM = 'campaign_daily';

const window = (req: IngestRequest): { start: string; end: string } => {
  if (!req.window) throw new Error(`${req.assetKey}: landing loaders need time partitions`);
  return req.window;
};

const nextDay = (date: string): string =>
  DateTime.fromISO(date, { zone: 'utc' }).plus({ days: 1 }).toISO() ?? date;

/** Builds a SourceLoader whose `ingest` is one landing pass followed by the partition's stats. */
function loader(
  land: (heartbeat: () => void) => Promise<LandResult>,
  report: (req: IngestRequest, watermark: WatermarkReport | undefined) => Promise<IngestResult>,
): SourceLoader {
  return {
    land,
    async ingest(req) {
      const { watermark, quarantined } = await land(req.heartbeat);
      return { ...(await report(req, watermark)), quarantined };
    },
  };
}

function debeziumLoader(o: LandingOptions, db: string): SourceLoader {
  const sink = rawSinkFor(o.engine);
  const dir = join(o.landingDir, 'debezium', db);
  // Activities serialize ingestion per source, so each pass lands what is new and nothing runs beside it.
  const land = async (heartbeat: () => void): Promise<LandResult> => {
    const r = existsSync(dir)
      ? await readDebeziumFolder(dir, sink, {
          source: db,
          ...(o.pii?.[db] ? { pii: o.pii[db] } : {}),
          ...(o.piiKey ? { piiKey: o.piiKey } : {}),
          ...(o.columnTypes?.[db] ? { columnTypes: o.columnTypes[db] } : {}),
        })
      : undefined;
    heartbeat();
    const watermark = (await landedThrough(dir, db)) ?? r?.watermark;
    return {
      landed: r?.inserted ?? 0,
      quarantined: r?.quarantined ?? 0,
      ...(watermark ? { watermark } : {}),
    };
  };
  return loader(land, (req, watermark) => {
    const w = window(req);
    return changeLogWindowStats(o.engine, `raw.${db}_${req.stream}_changes`, w, watermark);
  });
}

/** The newest derived_tstamp landed, as canonical ISO (the event-time watermark before this process started). */
async function latestEventTime(engine: Engine): Promise<string | undefined> {
  if (!(await engine.describeTable(SNOWPLOW_EVENTS_TABLE))) return undefined;
  const d = engineDialect(engine);
  const [r] = await engine.query<{ ts: string | null }>(
    `SELECT max(${d.quote('derived_tstamp')}) AS ${d.quote('ts')} FROM ${d.table(SNOWPLOW_EVENTS_TABLE)}`,
  );
  // Every engine returns timestamps as ISO-8601 UTC text (the engine contract); canonical milliseconds here.
  return typeof r?.ts === 'string' ? new Date(r.ts).toISOString() : undefined;
}

function snowplowLoader(o: LandingOptions): SourceLoader {
  const dir = join(o.landingDir, 'snowplow');
  // Built on first use, resuming the event-time watermark from the table: after a worker restart a late file
  // is still recognised as re-opening hours that were closed before.
  let core: Promise<SnowplowLoader> | undefined;
  const snowplow = (): Promise<SnowplowLoader> =>
    (core ??= latestEventTime(o.engine).then(
      (latest) =>
        new SnowplowLoader({
          sink: bulkRawSinkFor(o.engine),
          allowedLatenessMinutes: o.allowedLatenessMinutes ?? 60,
          ...(latest ? { watermarkState: { landing: latest } } : {}),
        }),
    )).catch((err: unknown) => {
      core = undefined;
      throw err;
    });
  const land = async (heartbeat: () => void): Promise<LandResult> => {
    const sp = await snowplow();
    let landed = 0;
    let quarantined = 0;
    const reopened = new Set<string>();
    await landFiles(
      dir,
      /\.tsv(\.gz)?$/,
      async (path) => {
        // DuckDB parses and lands a file itself; other engines take the parsed rows (the JS parser).
        const r =
          o.engine.name === 'duckdb'
            ? await ingestSnowplowFileNative(path, { engine: o.engine, loader: sp })
            : await ingestSnowplowFile(path, { loader: sp });
        landed += r.inserted;
        quarantined += r.quarantined;
        r.reopenedHours.forEach((h) => reopened.add(h));
        // Only malformed lines: the file does not vouch for its hour (landing-files.ts).
        return { rejected: r.parsed === 0 && r.quarantined > 0 };
      },
      heartbeat,
    );
    const eventTime = sp.watermark.value;
    const watermark =
      (await landedThrough(dir, 'snowplow')) ??
      (eventTime ? { source: 'snowplow', watermark: eventTime } : undefined);
    return {
      landed,
      quarantined,
      ...(watermark ? { watermark } : {}),
      reopened: [...reopened].sort().map((partitionKey) => ({ stream: SNOWPLOW_STREAM, partitionKey })),
    };
  };
  return loader(land, (req, watermark) => {
    const w = window(req);
    return snowplowWindowStats(o.engine, w, watermark);
  });
}

/** `max(date) + 1 day` of a table with a `date` column: daily sources are complete through the last day held. */
async function throughLastDate(
  engine: Engine,
  table: string,
  source: string,
): Promise<WatermarkReport | undefined> {
  const q = engineDialect(engine);
  const [max] = await engine
    .query<{ d: string | null }>(
      `SELECT CAST(max(${q.quote('date')}) AS ${q.portable.types.text}) AS ${q.quote('d')} FROM ${q.table(table)}`,
    )
    .catch(() => []);
  return max?.d ? { source, watermark: nextDay(max.d) } : undefined;
}

function fxLoader(o: LandingOptions): SourceLoader {
  const sink = rawSinkFor(o.engine);
  const land = async (heartbeat: () => void): Promise<LandResult> => {
    let landed = 0;
    let quarantined = 0;
    await landFiles(
      join(o.landingDir, 'fx'),
      /\.(csv|json)$/,
      async (path) => {
        const r = await ingestFxFile(path, sink);
        landed += r.inserted;
        quarantined += r.quarantined;
      },
      heartbeat,
    );
    const watermark = await throughLastDate(o.engine, FX_RATES_TABLE, 'fx');
    return { landed, quarantined, ...(watermark ? { watermark } : {}) };
  };
  return loader(land, (req, watermark) => {
    const date = window(req).start.slice(0, 10);
    return partitionStats(
      o.engine,
      {
        table: FX_RATES_TABLE,
        where: (d) => dayIs(d, date),
        key: (d) => d.quote('currency'),
        partition: { type: 'values', values: { date } },
      },
      watermark,
    );
  });
}

/** `date` (a DATE column) is the day `day`; no rows for a malformed day. */
const dayIs = (d: SqlDialect, day: string): string =>
  /^\d{4}-\d{2}-\d{2}$/.test(day) ? `${d.quote('date')} = ${d.dateLiteral(day)}` : '1 = 0';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Ads in the embedded default: campaign-day rows as the connectors return them (`ads/campaign_daily.json`),
 * each (date, platform, account) partition replaced whole, as a restatement pull would. The file is rewritten in
 * place, so a pass compares content: only (date, platform, account) groups whose rows changed are replaced, and
 * their (date, platform) partitions are reported re-opened (restated figures make their readers stale).
 */
function adsLoader(o: LandingOptions): SourceLoader {
  const store = new EngineAdReportStore(o.engine);
  const file = join(o.landingDir, 'ads', 'campaign_daily.json');
  let fileHash: string | undefined;
  const groupHashes = new Map<string, string>();
  const land = async (heartbeat: () => void): Promise<LandResult> => {
    let landed = 0;
    const reopened = new Set<string>();
    const text = existsSync(file) ? await readFile(file, 'utf8') : undefined;
    if (text !== undefined && sha256(text) !== fileHash) {
      const rows: AdReportRow[] = adRowsSchema
        .parse(JSON.parse(text))
        .map(({ account_currency, ...r }) => ({ ...r, currency: account_currency }));
      const byPartition = new Map<string, AdReportRow[]>();
      for (const r of rows) {
        const key = adPartitionKey(r);
        const group = byPartition.get(key);
        if (group) group.push(r);
        else byPartition.set(key, [r]);
      }
      for (const [key, part] of [...byPartition].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const hash = sha256(JSON.stringify(part));
        if (groupHashes.get(key) === hash) continue;
        const first = part[0] as AdReportRow;
        const r = await store.replacePartition(
          { date: first.date, platform: first.platform, account_id: first.account_id },
          part,
        );
        groupHashes.set(key, hash);
        landed += r.rowCount;
        reopened.add(`${first.date}|${first.platform}`);
        heartbeat();
      }
      fileHash = sha256(text);
    }
    const watermark = await throughLastDate(o.engine, AD_REPORTS_TABLE, 'ads');
    return {
      landed,
      quarantined: 0,
      ...(watermark ? { watermark } : {}),
      reopened: [...reopened].sort().map((partitionKey) => ({ stream: ADS_STREAM, partitionKey })),
    };
  };
  return loader(land, (req, watermark) => {
    const platform = req.dimensions?.platform ?? '';
    const date = req.dimensions?.date ?? '';
    return partitionStats(
      o.engine,
      {
        table: AD_REPORTS_TABLE,
        where: (d) => `${dayIs(d, date)} AND ${d.quote('platform')} = ${d.literal(platform)}`,
        key: (d) =>
          `${d.quote('account_id')} || ':' || ${d.quote('campaign_id')} || ':' || ` +
          `CAST(${d.quote('spend_micros')} AS ${d.portable.types.text})`,
        partition: { type: 'values', values: { date, platform } },
      },
      watermark,
    );
  });
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
