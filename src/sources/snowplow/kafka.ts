import kafkajs from 'kafkajs';
import type { Consumer, EachBatchPayload, Kafka as KafkaClient } from 'kafkajs';
import type { Engine } from '../../engines/types.js';
import { fetchCommittedOffsets } from '../kafka/offsets.js';
import type { SnowplowBatchResult, SnowplowLoader, SnowplowRecord } from './loader.js';
import { landSnowplowLinesNative } from './native-lines.js';

/**
 * Snowplow enriched events from a Kafka topic (one TSV event per message, as enrich's Kafka sink writes them).
 * At-least-once: a partition's offsets are committed only after its batch is landed and quarantined, and the
 * sink deduplicates on event_id, so a crash between landing and commit replays without double rows.
 */

const { Kafka, logLevel } = kafkajs;

export interface SnowplowKafkaOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly clientId?: string;
  readonly loader: SnowplowLoader;
  /** Start from the earliest offset when the group has no committed offset (default true: raw is replayable). */
  readonly fromBeginning?: boolean;
  /**
   * Partition batches processed at once (default 1). 2+ overlaps parsing one batch with landing another when
   * the sink serializes its inserts (BulkDuckDbSink does).
   */
  readonly partitionsConsumedConcurrently?: number;
  /**
   * A DuckDB engine holding the loader's table: batches are then landed by DuckDB (native-lines.ts), each
   * falling back to the loader's JS path when it cannot be. Fetches are larger (16 MB per partition), so a
   * batch is thousands of events rather than hundreds.
   */
  readonly native?: Engine;
  /** Called after each landed and committed batch (report the watermark, re-plan touched hours). */
  readonly onBatch?: (result: SnowplowKafkaBatchResult) => void | Promise<void>;
}

export interface SnowplowKafkaBatchResult extends SnowplowBatchResult {
  readonly topic: string;
  readonly partition: number;
  /** Last offset of the batch (committed as lastOffset + 1). */
  readonly lastOffset: string;
  /** Who landed it: DuckDB (`native` option) or the loader's JS path. */
  readonly path: 'native' | 'js';
}

export interface SnowplowIngestSummary {
  readonly batches: number;
  readonly received: number;
  readonly inserted: number;
  readonly quarantined: number;
  readonly touchedHours: readonly string[];
  readonly reopenedHours: readonly string[];
  readonly watermark: string | undefined;
  /** False when the timeout hit before the consumer reached the topic's end offsets. */
  readonly caughtUp: boolean;
  /** Every partition of the topic when the pass began. */
  readonly partitions: readonly number[];
  /** Partitions still short of the end offset they had when the pass began (only when `caughtUp` is false). */
  readonly pendingPartitions: readonly number[];
}

export interface IngestPassOptions {
  /** Called after each landed and committed batch: a Temporal activity's heartbeat. */
  readonly heartbeat?: () => void;
}

export class SnowplowKafkaSource {
  private readonly kafka: KafkaClient;
  private consumer: Consumer | undefined;

  constructor(private readonly options: SnowplowKafkaOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'tessera-snowplow',
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      retry: { retries: 5 },
    });
  }

  /** Runs until stop(): each partition batch is landed, then its offset committed. */
  async start(): Promise<void> {
    await this.startConsumer(
      () => undefined,
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await c.disconnect();
  }

  /**
   * Consumes until every partition reaches the end offset it had when the call began (or `timeoutMs` passes),
   * then stops: the bounded unit of work an ingestion activity runs between heartbeats.
   */
  async ingestUntilCaughtUp(
    timeoutMs = 60_000,
    pass: IngestPassOptions = {},
  ): Promise<SnowplowIngestSummary> {
    const { topic, groupId } = this.options;
    const admin = this.kafka.admin();
    await admin.connect();
    let remaining: Map<number, bigint>;
    let partitions: number[];
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      partitions = ends.map((e) => e.partition).sort((a, b) => a - b);
      const committed = await fetchCommittedOffsets(admin, groupId, topic);
      const done = new Map<number, bigint>();
      for (const p of committed) done.set(p.partition, BigInt(p.offset));
      remaining = new Map();
      for (const e of ends) {
        const end = BigInt(e.high);
        const at = done.get(e.partition) ?? -1n;
        if (end > BigInt(e.low) && at < end) remaining.set(e.partition, end);
      }
    } finally {
      await admin.disconnect();
    }

    const results: SnowplowKafkaBatchResult[] = [];
    let caughtUp = remaining.size === 0;
    if (!caughtUp) {
      let resolveDone!: () => void;
      let rejectDone!: (e: Error) => void;
      const allDone = new Promise<void>((res, rej) => ((resolveDone = res), (rejectDone = rej)));
      let timer: NodeJS.Timeout | undefined;
      try {
        await this.startConsumer((r) => {
          results.push(r);
          const end = remaining.get(r.partition);
          if (end !== undefined && BigInt(r.lastOffset) + 1n >= end) remaining.delete(r.partition);
          pass.heartbeat?.();
          if (remaining.size === 0) resolveDone();
        }, rejectDone);
        const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
        caughtUp = await Promise.race([allDone.then(() => true), timedOut]);
      } finally {
        clearTimeout(timer);
        await this.stop();
      }
    }
    const hours = new Set<string>();
    const reopened = new Set<string>();
    for (const r of results) {
      r.touchedHours.forEach((h) => hours.add(h));
      r.reopenedHours.forEach((h) => reopened.add(h));
    }
    return {
      batches: results.length,
      received: results.reduce((n, r) => n + r.received, 0),
      inserted: results.reduce((n, r) => n + r.inserted, 0),
      quarantined: results.reduce((n, r) => n + r.quarantined, 0),
      touchedHours: [...hours].sort(),
      reopenedHours: [...reopened].sort(),
      watermark: this.options.loader.watermark.value,
      caughtUp,
      partitions,
      pendingPartitions: caughtUp ? [] : [...remaining.keys()].sort((a, b) => a - b),
    };
  }

  private async startConsumer(
    after: (r: SnowplowKafkaBatchResult) => void,
    crashed: (e: Error) => void,
  ): Promise<void> {
    if (this.consumer) throw new Error('SnowplowKafkaSource: already running');
    const { topic, groupId, loader, onBatch } = this.options;
    const native = this.options.native;
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      ...(native ? { maxBytesPerPartition: 16 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 } : {}),
    });
    this.consumer = consumer;
    // A batch that keeps failing (sink down) crashes the consumer: surface it instead of waiting for a timeout.
    consumer.on(consumer.events.CRASH, (e) => crashed(e.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
        if (batch.messages.length === 0) return;
        const stream = `${batch.topic}/${batch.partition}`;
        const landed = native
          ? await landSnowplowLinesNative(
              batch.messages.map((m) => m.value),
              {
                engine: native,
                loader,
                stream,
                offsets: batch.messages.map((m) => m.offset),
              },
            )
          : undefined;
        // Decoded only for the JS path. A null value (tombstone) parses as a 1-field line and is quarantined.
        const res =
          landed ??
          (await loader.load(
            batch.messages.map((m): SnowplowRecord => ({
              line: m.value === null ? '' : m.value.toString('utf8'),
              origin: `${stream}/${m.offset}`,
              stream,
            })),
          ));
        const lastOffset = batch.lastOffset();
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() },
        ]);
        resolveOffset(lastOffset);
        await heartbeat();
        const path: 'native' | 'js' = landed ? 'native' : 'js';
        const result = { ...res, topic: batch.topic, partition: batch.partition, lastOffset, path };
        if (onBatch) await onBatch(result);
        after(result);
      },
    });
  }
}
