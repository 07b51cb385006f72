/**
 * Real Kafka 3.9 for source tests: TESSERA_TEST_KAFKA_BROKERS when set (the test script starts the
 * broker), otherwise scripts/services/kafka.sh is run once (it fetches the jars on first use).
 * Topics are unique per test and deleted afterwards.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let brokers: Promise<string[]> | undefined;

export function ensureKafka(): Promise<string[]> {
  brokers ??= (async () => {
    let list = process.env.TESSERA_TEST_KAFKA_BROKERS;
    if (!list) {
      const { stdout } = await promisify(execFile)(
        'bash',
        [join(repo, 'scripts', 'services', 'kafka.sh'), 'start'],
        { timeout: 600_000 },
      );
      list = /TESSERA_TEST_KAFKA_BROKERS=(\S+)/.exec(stdout)?.[1];
      if (!list) throw new Error(`kafka.sh printed no TESSERA_TEST_KAFKA_BROKERS:\n${stdout}`);
      process.env.TESSERA_TEST_KAFKA_BROKERS = list;
    }
    const listed = list.split(',');
    await coordinatorReady(listed);
    return listed;
  })();
  return brokers;
}

/**
 * A new broker creates __consumer_offsets on the first group lookup and answers "not the correct coordinator"
 * until it is ready; wait for that here so consumer tests start on a broker that can commit offsets.
 */
async function coordinatorReady(list: string[]): Promise<void> {
  const admin = client(list).admin();
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.describeGroups(['tessera-warmup']);
        return;
      } catch (e) {
        if (attempt >= 60) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

function client(list: string[]): Kafka {
  return new Kafka({ clientId: 'tessera-tests', brokers: list, logLevel: logLevel.NOTHING });
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`;
}

export async function createTopic(topic: string, partitions = 1): Promise<void> {
  const admin = client(await ensureKafka()).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(topic: string): Promise<void> {
  const admin = client(await ensureKafka()).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** Produces values in order to partition 0 (null = tombstone). */
export async function produce(topic: string, values: readonly (string | null)[], key = 'k'): Promise<void> {
  const producer = client(await ensureKafka()).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key, value, partition: 0 })) });
  } finally {
    await producer.disconnect();
  }
}
