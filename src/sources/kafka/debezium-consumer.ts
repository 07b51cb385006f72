import { Kafka, logLevel } from 'kafkajs';
import { SourceConfigError, SourceError } from '../cdc/errors.js';
import { fetchCommittedOffsets } from './offsets.js';
import {
  debeziumInput,
  DebeziumStream,
  type DebeziumResult,
  type DebeziumSourceOptions,
} from '../debezium/stream.js';
import type { CdcSink } from '../sinks/types.js';

/**
 * One bounded batch of Debezium events from a Kafka topic: join the group, land what is there (up to
 * `maxMessages`), commit offsets, leave. Offsets are committed only after the rows are written, and only
 * up to the transaction the decoder holds back (it needs the next event to place it), so a crash or a
 * stop anywhere re-reads from the last landed transaction and inserts nothing twice.
 *
 * The topic must have one partition: Debezium's commit order (and the transaction placement that rests
 * on it) only exists within one ordered stream. Route every table of a database into one topic.
 */

export interface KafkaDebeziumOptions extends DebeziumSourceOptions {
  readonly brokers: readonly string[];
  readonly groupId: string;
  readonly clientId?: string;
  /** Stop after about this many messages (default 50,000). */
  readonly maxMessages?: number;
  /** Give up waiting for messages after this long (default 30 s). */
  readonly maxWaitMs?: number;
  /** Test seam: runs after a batch is written and before its offset is committed. */
  readonly hooks?: { readonly beforeCommit?: (info: { readonly offset: string }) => void | Promise<void> };
}

export interface KafkaDebeziumResult extends DebeziumResult {
  /** Next offset to read, as committed for the group (undefined when nothing was committed). */
  readonly committed?: string;
}

export async function consumeDebeziumTopic(
  topic: string,
  sink: CdcSink,
  opts: KafkaDebeziumOptions,
): Promise<KafkaDebeziumResult> {
  const kafka = new Kafka({
    clientId: opts.clientId ?? `tessera-${opts.source}`,
    brokers: [...opts.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  await admin.connect();
  let start: bigint;
  let end: bigint;
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]?.partitions.length ?? 0;
    if (partitions !== 1) {
      throw new SourceConfigError(
        opts.source,
        `topic ${topic} has ${partitions} partitions; Debezium CDC needs exactly one (commit order)`,
      );
    }
    const [high] = await admin.fetchTopicOffsets(topic);
    const [committed] = await fetchCommittedOffsets(admin, opts.groupId, topic);
    end = BigInt(high?.high ?? '0');
    start = BigInt(committed && committed.offset !== '-1' ? committed.offset : (high?.low ?? '0'));
  } finally {
    await admin.disconnect();
  }
  const stream = new DebeziumStream(sink, opts);
  // Nothing new since the last commit: skip joining the group (a join costs a rebalance).
  if (start >= end) return stream.result();

  const consumer = kafka.consumer({
    groupId: opts.groupId,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const maxMessages = opts.maxMessages ?? 50_000;
  let failure: unknown;
  let committed: string | undefined;
  let seen = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, opts.maxWaitMs ?? 30_000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning }) => {
        if (failure !== undefined || !isRunning()) return;
        try {
          let last: string | undefined;
          for (const m of batch.messages) {
            await stream.push(
              debeziumInput(
                m.value === null ? 'null' : m.value.toString('utf8'),
                `${topic}/${batch.partition}/${m.offset}`,
                topic,
              ),
            );
            last = m.offset;
            seen++;
          }
          if (last === undefined) return;
          await stream.flush();
          const next = nextOffset(stream, last);
          await opts.hooks?.beforeCommit?.({ offset: next });
          if (committed === undefined || BigInt(next) > BigInt(committed)) {
            await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
            committed = next;
          }
          await heartbeat();
          if (seen >= maxMessages || BigInt(last) + 1n >= BigInt(batch.highWatermark)) finish();
        } catch (e) {
          failure = e;
          finish();
        }
      },
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  if (failure !== undefined) {
    if (failure instanceof SourceError) throw failure;
    throw new SourceError(
      opts.source,
      `consuming ${topic}: ${failure instanceof Error ? failure.message : String(failure)}`,
      {
        retryable: true,
        cause: failure,
      },
    );
  }
  return { ...stream.result(), ...(committed !== undefined ? { committed } : {}) };
}

/**
 * Everything before the held-back transaction is landed; without one (or when it has no rows yet, e.g. a
 * heartbeat: re-reading it would add nothing), everything up to `last`.
 */
function nextOffset(stream: DebeziumStream, last: string): string {
  const pending = stream.decoder.pendingOrigin;
  if (pending === undefined || !stream.decoder.pendingHasRows) return (BigInt(last) + 1n).toString();
  return pending.slice(pending.lastIndexOf('/') + 1);
}
