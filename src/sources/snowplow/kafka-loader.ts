import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Engine } from '../../engines/index.js';
import { snowplowWindowStats } from '../landing/partition-stats.js';
import { bulkRawSinkFor, rawSinkFor } from '../sinks/index.js';
import type { IngestResult, LandResult, RawSink, SourceLoader, WatermarkReport } from '../types.js';
import { SnowplowKafkaSource, type SnowplowIngestSummary } from './kafka.js';
import { SnowplowLoader } from './loader.js';
import { SNOWPLOW_SOURCE } from './schema.js';

/**
 * Snowplow enriched events from Kafka as a `SourceLoader` (live mode): each call consumes what the topic held
 * when it began (bounded), lands it into `raw.snowplow_events` through the same SnowplowLoader as the landing
 * files (so both transports give identical tables), and reports the requested hour.
 *
 * Watermark: the minimum over Kafka partitions of the latest derived_tstamp each delivered, except that an
 * **idle** partition does not count. A partition is idle when it is caught up (nothing unread below the end
 * offset the pass started from) and its latest event is more than the allowed lateness behind the newest event
 * of any partition. The rule is in event time, so replays decide the same. An event that later arrives on an
 * idle partition for a hour already closed is late: that hour is reported re-opened. The watermark never moves
 * back. The state behind it (latest event time per partition, the watermark reported) is kept in the
 * warehouse's checkpoint table after every pass, before the pass returns, so a restarted worker resumes it:
 * a crash in between leaves it behind the committed offsets, which only makes the watermark more cautious.
 */

export interface SnowplowKafkaLoaderOptions {
  /** Warehouse the raw table lives in (also read for the partition's row count and version). */
  readonly engine: Engine;
  readonly brokers: readonly string[];
  /** Topic of enriched TSV events, one event per message (what enrich's Kafka sink writes). */
  readonly topic: string;
  /** Consumer group; offsets are committed after each batch is landed (at-least-once, dedupe on event_id). */
  readonly groupId: string;
  readonly clientId?: string;
  /** Minutes after an hour's end during which its events are on time (default 60, as the landing loader). */
  readonly allowedLatenessMinutes?: number;
  /** Longest one pass may consume before it returns what it landed (default 120,000 ms). */
  readonly passTimeoutMs?: number;
  /**
   * Partition batches in flight at once. Default 2 with the default sink (BulkDuckDbSink serializes its
   * inserts, so one batch parses while the other lands), 1 with a sink of your own.
   */
  readonly partitionsConsumedConcurrently?: number;
  /** Default: the engine's bulk sink (`bulkRawSinkFor`: BulkDuckDbSink on DuckDB, the portable sink elsewhere). */
  readonly sink?: RawSink;
  /** Asset ingest stream named in `LandResult.reopened` (default `enriched`, as `raw.snowplow_events`). */
  readonly stream?: string;
  /**
   * State from `watermarkState()` of an earlier process. Default: what the last pass of this topic and
   * group saved in the engine's checkpoint table.
   */
  readonly watermarkState?: SnowplowKafkaWatermarkState;
}

export interface SnowplowKafkaWatermarkState {
  /** Latest derived_tstamp per `topic/partition`. */
  readonly streams: Readonly<Record<string, string>>;
  /** The watermark last reported. */
  readonly watermark?: string;
}

const stateSchema = z.object({
  streams: z.record(z.string(), z.string()),
  watermark: z.string().optional(),
});

export interface SnowplowKafkaLoader extends SourceLoader {
  land(heartbeat: () => void): Promise<LandResult>;
  /** Persistable state (pass it back as `watermarkState` after a restart). */
  watermarkState(): SnowplowKafkaWatermarkState;
}

export interface IdleAwareWatermarkInput {
  /** Latest event time (ISO-8601 UTC) per sub-stream that delivered anything. */
  readonly latest: Readonly<Record<string, string>>;
  /** Sub-streams with nothing unread. */
  readonly caughtUp: ReadonlySet<string>;
  readonly allowedLatenessMinutes: number;
  /** The watermark reported before: the result never goes below it. */
  readonly previous?: string;
}

/** The watermark rule above, pure: returns the watermark and which sub-streams were treated as idle. */
export function idleAwareWatermark(input: IdleAwareWatermarkInput): {
  watermark: string | undefined;
  idle: string[];
} {
  const entries = Object.entries(input.latest);
  const ms = (iso: string): number => DateTime.fromISO(iso, { zone: 'utc' }).toMillis();
  const lead = Math.max(...entries.map(([, ts]) => ms(ts)));
  const latenessMs = input.allowedLatenessMinutes * 60_000;
  const idle = entries
    .filter(([s, ts]) => input.caughtUp.has(s) && ms(ts) + latenessMs < lead)
    .map(([s]) => s)
    .sort();
  let min: string | undefined;
  for (const [s, ts] of entries) {
    if (idle.includes(s)) continue;
    if (min === undefined || ms(ts) < ms(min)) min = ts;
  }
  const prev = input.previous;
  const watermark = prev !== undefined && (min === undefined || ms(prev) > ms(min)) ? prev : min;
  return { watermark, idle };
}

/** Whether hour `hourKey` (`2026-11-24T13`) is closed at watermark `wm`: the barrier's rule. */
export function hourClosedAt(hourKey: string, wm: string, allowedLatenessMinutes: number): boolean {
  const closesAt = DateTime.fromISO(`${hourKey}:00:00Z`, { zone: 'utc' }).plus({
    hours: 1,
    minutes: allowedLatenessMinutes,
  });
  return DateTime.fromISO(wm, { zone: 'utc' }) >= closesAt;
}

export function createSnowplowKafkaLoader(options: SnowplowKafkaLoaderOptions): SnowplowKafkaLoader {
  const lateness = options.allowedLatenessMinutes ?? 60;
  const stream = options.stream ?? 'enriched';
  const loader = new SnowplowLoader({
    sink: options.sink ?? bulkRawSinkFor(options.engine),
    allowedLatenessMinutes: lateness,
    ...(options.watermarkState ? { watermarkState: options.watermarkState.streams } : {}),
  });
  const source = new SnowplowKafkaSource({
    brokers: options.brokers,
    topic: options.topic,
    groupId: options.groupId,
    loader,
    partitionsConsumedConcurrently:
      options.partitionsConsumedConcurrently ?? (options.sink || options.engine.name !== 'duckdb' ? 1 : 2),
    // With the default sink, DuckDB lands whole batches itself (native-lines.ts).
    ...(!options.sink && options.engine.name === 'duckdb' ? { native: options.engine } : {}),
    ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
  });
  let reported = options.watermarkState?.watermark;
  const checkpoints = rawSinkFor(options.engine);
  const checkpointKey = `snowplow-kafka:${options.topic}:${options.groupId}`;
  let restored = options.watermarkState !== undefined;

  const state = (): SnowplowKafkaWatermarkState => ({
    streams: loader.watermark.snapshot(),
    ...(reported !== undefined ? { watermark: reported } : {}),
  });

  async function restore(): Promise<void> {
    if (restored) return;
    const saved = await checkpoints.getCheckpoint(checkpointKey);
    restored = true;
    if (!saved) return;
    const parsed = stateSchema.parse(JSON.parse(saved));
    for (const [s, ts] of Object.entries(parsed.streams)) loader.watermark.observe(s, ts);
    reported = parsed.watermark ?? reported;
  }
  // Hours re-opened by passes (also those an ingest() ran) that land() has not reported yet.
  const reopened = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();

  const report = (): WatermarkReport | undefined =>
    reported === undefined ? undefined : { source: SNOWPLOW_SOURCE, watermark: reported };

  async function pass(heartbeat: () => void): Promise<SnowplowIngestSummary> {
    await restore();
    const before = reported;
    const summary = await source.ingestUntilCaughtUp(options.passTimeoutMs ?? 120_000, { heartbeat });
    const pending = new Set(summary.pendingPartitions);
    const caughtUp = new Set(
      summary.partitions.filter((p) => !pending.has(p)).map((p) => `${options.topic}/${p}`),
    );
    reported = idleAwareWatermark({
      latest: loader.watermark.snapshot(),
      caughtUp,
      allowedLatenessMinutes: lateness,
      ...(before !== undefined ? { previous: before } : {}),
    }).watermark;
    // Closed against what was reported before this pass: only then can a reader have seen the hour.
    if (before !== undefined)
      for (const h of summary.touchedHours) if (hourClosedAt(h, before, lateness)) reopened.add(h);
    await checkpoints.putCheckpoint(checkpointKey, JSON.stringify(state()));
    return summary;
  }

  // One pass at a time: a consumer group member per loader, and the watermark updates in order.
  function serialized<T>(run: () => Promise<T>): Promise<T> {
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  }

  return {
    async ingest(req): Promise<IngestResult> {
      if (!req.window) throw new Error(`${req.assetKey}: the Snowplow loader needs hourly partitions`);
      const w = req.window;
      const s = await serialized(() => pass(req.heartbeat));
      return { ...(await snowplowWindowStats(options.engine, w, report())), quarantined: s.quarantined };
    },

    land(heartbeat): Promise<LandResult> {
      return serialized(async () => {
        const s = await pass(heartbeat);
        const hours = [...reopened].sort();
        reopened.clear();
        const wm = report();
        return {
          landed: s.inserted,
          quarantined: s.quarantined,
          ...(wm ? { watermark: wm } : {}),
          ...(hours.length > 0 ? { reopened: hours.map((partitionKey) => ({ stream, partitionKey })) } : {}),
        };
      });
    },

    watermarkState: state,
  };
}
