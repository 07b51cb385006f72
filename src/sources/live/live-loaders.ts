import type { SourceConfig } from '../../config/index.js';
import type { Engine } from '../../engines/index.js';
import { PostgresCdcLoader } from '../cdc/loader.js';
import { landingLoaders } from '../landing/landing-loaders.js';
import type { PiiRules } from '../pii.js';
import { createAdsApiLoader } from '../ads/live/index.js';
import { createSnowplowKafkaLoader } from '../snowplow/kafka-loader.js';
import type { SourceLoader, WatermarkReport } from '../types.js';

/**
 * Live mode's sources, from the config's `sources` section: `postgres` sources become PostgresCdcLoaders
 * (logical decoding; source name = database), a `kafka` source with format `snowplow` the Snowplow Kafka loader,
 * an `ads_api` source with base URLs and accounts the ads API loader. Sources with no live transport (FX rates,
 * or ads without API endpoints: the demo serves them from local fakes, see simulator/live) keep the landing
 * loaders.
 */

export interface LiveOptions {
  readonly engine: Engine;
  readonly sources: Readonly<Record<string, SourceConfig>>;
  /** Landing folder for the sources that have no live transport. */
  readonly landingDir: string;
  /** HMAC key for `hash` PII rules (default $TESSERA_PII_KEY). */
  readonly piiKey?: string;
  readonly allowedLatenessMinutes?: number;
  /** Overrides per source name (a unique topic or consumer group per run, for example). */
  readonly kafka?: { readonly topic?: string; readonly groupId?: string };
  /**
   * Simulation hook for the Kafka event stream, the counterpart of the OLTP replay clock: the replay driver
   * has produced everything up to this instant (ISO) before the pipeline runs, so once a pass has caught up
   * the stream is complete through it. A replay ends with silence, which event time alone cannot tell from
   * a late stream. Never set it for a production stream.
   */
  readonly replayHorizon?: string;
}

export interface LiveLoaders {
  readonly loaders: Readonly<Record<string, SourceLoader>>;
  /** Creates the replication slots (with their initial snapshots): do it before history is written. */
  init(): Promise<void>;
  /** Releases connections; slots and consumer groups stay, so the next run resumes. */
  close(): Promise<void>;
  /** Drops the replication slots (the demo starts over each run). */
  dropSlots(): Promise<void>;
}

export function liveLoaders(o: LiveOptions): LiveLoaders {
  // The PII rules of the sources: a landing folder of the same database (debezium/<db>) gets them too.
  const pii: Record<string, PiiRules> = {};
  for (const [name, s] of Object.entries(o.sources)) if (s.type === 'postgres' && s.pii) pii[name] = s.pii;
  const landing = landingLoaders({
    engine: o.engine,
    landingDir: o.landingDir,
    pii,
    ...(o.piiKey ? { piiKey: o.piiKey } : {}),
    ...(o.allowedLatenessMinutes !== undefined ? { allowedLatenessMinutes: o.allowedLatenessMinutes } : {}),
  });
  const loaders: Record<string, SourceLoader> = { ...landing };
  const cdc: PostgresCdcLoader[] = [];
  for (const [name, s] of Object.entries(o.sources)) {
    if (s.type === 'postgres') {
      const l = new PostgresCdcLoader({
        engine: o.engine,
        url: s.url,
        database: name,
        tables: s.tables,
        slot: s.slot,
        pii: s.pii,
        ...(o.piiKey ? { piiKey: o.piiKey } : {}),
        replayClock: s.replayClock,
        plugin: s.plugin,
      });
      cdc.push(l);
      loaders[name] = l;
    } else if (s.type === 'kafka' && s.format === 'snowplow') {
      const kafka = createSnowplowKafkaLoader({
        engine: o.engine,
        brokers: s.brokers,
        topic: o.kafka?.topic ?? s.topic,
        groupId: o.kafka?.groupId ?? s.groupId ?? `tessera-${name}`,
        ...(o.allowedLatenessMinutes !== undefined
          ? { allowedLatenessMinutes: o.allowedLatenessMinutes }
          : {}),
      });
      loaders[name] = o.replayHorizon ? withReplayHorizon(kafka, name, o.replayHorizon) : kafka;
    } else if (s.type === 'ads_api' && s.baseUrls && s.accounts) {
      const days = s.restatementDays;
      loaders[name] = createAdsApiLoader({
        engine: o.engine,
        accounts: s.accounts,
        baseUrls: s.baseUrls,
        ...(days !== undefined
          ? { restatementDays: { google: days, facebook: days, tiktok: days, twitter: days } }
          : {}),
      });
    }
  }
  return {
    loaders,
    init: async () => {
      for (const l of cdc) await l.init();
    },
    close: async () => {
      for (const l of cdc) await l.close();
    },
    dropSlots: async () => {
      for (const l of cdc) await l.dropSlot();
    },
  };
}

/** The loader with its watermark raised to `horizon` after each (caught-up, bounded) pass. */
export function withReplayHorizon(loader: SourceLoader, source: string, horizon: string): SourceLoader {
  const raise = (w: WatermarkReport | undefined): WatermarkReport =>
    w && w.watermark > horizon ? w : { source, watermark: horizon };
  const land = loader.land?.bind(loader);
  return {
    ingest: async (req) => {
      const r = await loader.ingest(req);
      return { ...r, watermark: raise(r.watermark) };
    },
    ...(land
      ? {
          land: async (heartbeat: () => void) => {
            const r = await land(heartbeat);
            return { ...r, watermark: raise(r.watermark) };
          },
        }
      : {}),
  };
}
