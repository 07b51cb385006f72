import type { TesseraConfig } from '../../config/index.js';
import { DateTime } from 'luxon';
import type { Engine } from '../../engines/index.js';
import {
  createAdsApiLoader,
  startAdsApiFakes,
  type AdsApiFakes,
  type AdsApiLoader,
} from '../../sources/ads/live/index.js';
import { liveLoaders, withReplayHorizon, type LiveLoaders } from '../../sources/live/live-loaders.js';
import { migrateOltp, type OltpDatabase } from '../../sources/oltp/migrate.js';
import kafkajs from 'kafkajs';
import pg from 'pg';
import type { SourceLoader } from '../../sources/types.js';
import { recreateDatabases } from './oltp-databases.js';
import { writeOltpLive } from './oltp-writer.js';
import { produceSnowplowEvents } from './snowplow-producer.js';

/**
 * `tessera demo --live`: the simulated history goes into the real sources named by the config (the OLTP
 * databases, recreated empty; a fresh Kafka topic per run) and the pipeline ingests it back from them.
 *
 *   const live = startLiveDemo({ config, engine, landingDir, piiKey, runId });  // loaders for the platform
 *   await live.write();   // slots first, then the replay (PostgreSQL) and the produce (Kafka)
 *   ...run the pipeline...
 *   await live.close();
 */

export interface LiveDemoOptions {
  readonly config: TesseraConfig;
  readonly engine: Engine;
  /** The folder simulate() wrote. */
  readonly landingDir: string;
  readonly piiKey: string;
  /** Makes this run's topic and consumer group unique. */
  readonly runId: string | number;
  /** End of the simulated window (ISO): the replayed event stream is complete through it. */
  readonly windowEnd: string;
}

export interface LiveDemo {
  readonly loaders: Readonly<Record<string, SourceLoader>>;
  /** Writes the history into the sources; returns lines saying what was written. */
  write(): Promise<string[]>;
  /** Drops the replication slots and this run's topic, closes connections and the ads fakes (databases stay). */
  close(): Promise<void>;
}

const OLTP: readonly OltpDatabase[] = ['user_db', 'inventory_db'];

export function startLiveDemo(o: LiveDemoOptions): LiveDemo {
  const sources = o.config.sources;
  const urls: Partial<Record<OltpDatabase, string>> = {};
  for (const db of OLTP) {
    const s = sources[db];
    if (s?.type !== 'postgres')
      throw new Error(
        `demo --live needs a postgres source "${db}" in the config (see config/live.yaml: --config config/live.yaml)`,
      );
    urls[db] = s.url;
  }
  const snowplow = Object.entries(sources).find(([, s]) => s.type === 'kafka' && s.format === 'snowplow');
  const kafka = snowplow?.[1].type === 'kafka' ? snowplow[1] : undefined;
  const topic = kafka ? `${kafka.topic}.${o.runId}` : undefined;
  const loaders: LiveLoaders = liveLoaders({
    engine: o.engine,
    sources,
    landingDir: o.landingDir,
    piiKey: o.piiKey,
    replayHorizon: o.windowEnd,
    ...(kafka && topic ? { kafka: { topic, groupId: `${kafka.groupId ?? 'tessera'}.${o.runId}` } } : {}),
  });
  // Ads without endpoints: the local API fakes serve the simulator's rows (started by write()).
  const adsSource = Object.entries(sources).find(([, s]) => s.type === 'ads_api' && !s.baseUrls);
  let fakes: AdsApiFakes | undefined;
  let adsApi: AdsApiLoader | undefined;
  const ready = (): AdsApiLoader => {
    if (!adsApi) throw new Error('live demo: write() starts the ads API fakes before ingestion');
    return adsApi;
  };
  const all: Record<string, SourceLoader> = { ...loaders.loaders };
  // The fakes serve exactly the simulated window, all of it before the pipeline runs: like the event stream,
  // the source is complete through the window's end. (Account-local days alone would stop a UTC+1 account's
  // watermark an hour short of the last UTC day, waiting for a day the simulation never has.)
  if (adsSource)
    all[adsSource[0]] = withReplayHorizon(
      { ingest: (req) => ready().ingest(req), land: (hb) => ready().land(hb) },
      adsSource[0],
      o.windowEnd,
    );
  return {
    loaders: all,
    async write() {
      const lines: string[] = [];
      const t0 = performance.now();
      await recreateDatabases(Object.values(urls));
      for (const db of OLTP) await migrate(urls[db] ?? '', db);
      // The slots exist before the history is written, so it arrives as changes, not as snapshot rows.
      await loaders.init();
      const written = await writeOltpLive({ landingDir: o.landingDir, urls, migrate: false });
      for (const db of OLTP) {
        const w = written[db];
        lines.push(
          `replayed ${w?.transactions ?? 0} transactions (${w?.changes ?? 0} changes) into PostgreSQL ${db}`,
        );
      }
      if (kafka && topic) {
        const p = await produceSnowplowEvents({
          landingDir: o.landingDir,
          brokers: kafka.brokers,
          topic,
          partitions: 3,
        });
        lines.push(`produced ${p.messages} Snowplow events to Kafka topic ${topic}`);
      }
      if (adsSource) {
        fakes = await startAdsApiFakes({ landingDir: o.landingDir });
        const first = DateTime.fromISO(o.windowEnd, { zone: 'utc' });
        adsApi = createAdsApiLoader({
          engine: o.engine,
          accounts: fakes.accountIds,
          baseUrls: fakes.baseUrls,
          env: fakes.env,
          // The replay's "today": every simulated day is closed in every account's timezone (UTC-5 to UTC+0).
          now: () => first.plus({ hours: 12 }),
        });
        lines.push(
          `serving ads through local API fakes: ${Object.entries(fakes.baseUrls)
            .map(([p, u]) => `${p} ${u}`)
            .join(', ')}`,
        );
      }
      lines.push(`live sources written in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
      return lines;
    },
    close: async () => {
      // The demo starts over on every run: free the slots rather than pin WAL (and 2 of the cluster's few slots).
      await loaders.dropSlots().catch(() => undefined);
      await loaders.close();
      // This run's topic too: each run produces a fresh one, which would pile up on the broker.
      if (kafka && topic) await deleteTopic(kafka.brokers, topic).catch(() => undefined);
      await fakes?.close();
    },
  };
}

async function migrate(url: string, db: OltpDatabase): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrateOltp(client, db);
  } finally {
    await client.end();
  }
}

async function deleteTopic(brokers: readonly string[], topic: string): Promise<void> {
  const admin = new kafkajs.Kafka({
    clientId: 'tessera-demo',
    brokers: [...brokers],
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
