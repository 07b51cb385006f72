import { mkdir, readdir, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../engines/index.js';
import { readDebeziumFolder } from '../debezium/index.js';
import { ingestFxFile, FX_RATES_TABLE } from '../fx/index.js';
import type { PiiRules } from '../pii.js';
import { EngineRawSink } from '../sinks/index.js';
import { BulkDuckDbSink, ingestSnowplowFile, SnowplowLoader } from '../snowplow/index.js';
import type { IngestRequest, IngestResult, SourceLoader, WatermarkReport } from '../types.js';
import { partitionStats } from './partition-stats.js';

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

const window = (req: IngestRequest): { start: string; end: string } => {
  if (!req.window) throw new Error(`${req.assetKey}: landing loaders need time partitions`);
  return req.window;
};

function debeziumLoader(o: LandingOptions, db: string): SourceLoader {
  const sink = new EngineRawSink(o.engine);
  let landed: Promise<WatermarkReport | undefined> | undefined;
  return {
    async ingest(req) {
      const dir = join(o.landingDir, 'debezium', db);
      // One landing pass per activity attempt is enough: files arrive between runs, not during one.
      landed ??= existsSync(dir)
        ? readDebeziumFolder(dir, sink, {
            source: db,
            ...(o.pii?.[db] ? { pii: o.pii[db] } : {}),
            ...(o.piiKey ? { piiKey: o.piiKey } : {}),
          }).then((r) => r.watermark)
        : Promise.resolve(undefined);
      const watermark = await landed.finally(() => (landed = undefined));
      const w = window(req);
      return partitionStats(
        o.engine,
        {
          table: `raw.${db}_${req.stream}_changes`,
          where: '_commit_time >= CAST(? AS TIMESTAMPTZ) AND _commit_time < CAST(? AS TIMESTAMPTZ)',
          params: [w.start, w.end],
          key: `_lsn || ':' || CAST(_seq AS VARCHAR)`,
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
        },
        watermark ? { source: 'snowplow', watermark } : undefined,
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
        },
        last ? { source: 'fx', watermark: `${last}T23:59:59.999Z` } : undefined,
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
  };
}

export type { IngestResult };
