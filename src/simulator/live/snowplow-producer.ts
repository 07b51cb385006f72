import { createReadStream, existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import kafkajs from 'kafkajs';
import { FIELD_INDEX } from '../../sources/snowplow/fields.js';

/**
 * Live mode's clickstream: replays the simulator's hourly Snowplow files (`<landingDir>/snowplow/*.tsv`) into a
 * Kafka topic as enrich's Kafka sink would write them — one enriched TSV event per message, in file order, so
 * the topic holds exactly the landing files' lines (duplicates and malformed lines included). Messages are
 * keyed by domain_userid: one browser's events land in one partition, in order.
 */

const { Kafka, logLevel, Partitioners } = kafkajs;

export interface SnowplowProducerOptions {
  /** The folder `simulate()` wrote; its `snowplow/<yyyy-MM-dd>T<HH>.tsv` files are produced. */
  readonly landingDir: string;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId?: string;
  /** Creates the topic with this many partitions when it does not exist (default: leave topics alone). */
  readonly partitions?: number;
  /** First hour to produce (`2026-11-10T00`, inclusive); default the first file. */
  readonly fromHour?: string;
  /** Hour to stop before (exclusive); default after the last file. */
  readonly untilHour?: string;
  /** Messages per produce request (default 1,000: ~1 MB of TSV, under the broker's default batch limit). */
  readonly batchSize?: number;
}

export interface SnowplowProduceSummary {
  /** Hour keys of the files produced, in order. */
  readonly hours: readonly string[];
  readonly messages: number;
}

const HOUR_FILE = /^(\d{4}-\d{2}-\d{2}T\d{2})\.tsv$/;

/** Partition key: the browser, or (a line cut before it) the event id, so placement is deterministic. */
function keyOf(line: string): string | null {
  const fields = line.split('\t', FIELD_INDEX.domain_userid + 1);
  const key = fields[FIELD_INDEX.domain_userid] || fields[FIELD_INDEX.event_id] || '';
  return key === '' ? null : key;
}

export async function produceSnowplowEvents(
  options: SnowplowProducerOptions,
): Promise<SnowplowProduceSummary> {
  const dir = join(options.landingDir, 'snowplow');
  const files = existsSync(dir)
    ? (await readdir(dir))
        .map((f) => HOUR_FILE.exec(f)?.[1])
        .filter((h): h is string => h !== undefined)
        .filter(
          (h) =>
            (options.fromHour === undefined || h >= options.fromHour) &&
            (options.untilHour === undefined || h < options.untilHour),
        )
        .sort()
    : [];
  const kafka = new Kafka({
    clientId: options.clientId ?? 'tessera-simulator',
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
  });
  if (options.partitions !== undefined) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(options.topic))
        await admin.createTopics({
          topics: [{ topic: options.topic, numPartitions: options.partitions }],
          waitForLeaders: true,
        });
    } finally {
      await admin.disconnect();
    }
  }
  // Idempotent with one request in flight: retries neither duplicate nor reorder a partition's messages.
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const batchSize = options.batchSize ?? 1_000;
  let messages = 0;
  await producer.connect();
  try {
    let batch: { key: string | null; value: string }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await producer.send({ topic: options.topic, acks: -1, messages: batch });
      messages += batch.length;
      batch = [];
    };
    for (const hour of files) {
      const lines = createInterface({
        input: createReadStream(join(dir, `${hour}.tsv`)),
        crlfDelay: Infinity,
      });
      for await (const line of lines) {
        if (line === '') continue;
        batch.push({ key: keyOf(line), value: line });
        if (batch.length >= batchSize) await flush();
      }
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return { hours: files, messages };
}
