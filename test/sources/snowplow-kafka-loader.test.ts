/**
 * The Snowplow Kafka SourceLoader against a real broker: the idle-partition watermark rule, late events
 * re-opening hours through land(), ingest() reporting one hour, and the simulator's events produced to Kafka
 * landing the same raw table as its landing files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { produceSnowplowEvents } from '../../src/simulator/live/snowplow-producer.js';
import { simulate } from '../../src/simulator/index.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import {
  createSnowplowKafkaLoader,
  hourClosedAt,
  idleAwareWatermark,
} from '../../src/sources/snowplow/kafka-loader.js';
import { createTopic, deleteTopic, ensureKafka, uniqueTopic } from '../helpers/kafka.js';
import { pageView } from '../helpers/snowplow.js';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
const brokersEnv = process.env['TESSERA_TEST_KAFKA_BROKERS'];
const noop = (): void => undefined;

describe('idle-aware watermark rule', () => {
  const latest = { 'e/0': '2026-11-24T14:00:00.000Z', 'e/1': '2026-11-24T12:30:00.000Z' };

  it('ignores a caught-up partition more than the lateness behind the lead', () => {
    const r = idleAwareWatermark({ latest, caughtUp: new Set(['e/0', 'e/1']), allowedLatenessMinutes: 60 });
    expect(r).toEqual({ watermark: '2026-11-24T14:00:00.000Z', idle: ['e/1'] });
  });

  it('waits for a partition that still has unread messages, or is within the lateness', () => {
    expect(
      idleAwareWatermark({ latest, caughtUp: new Set(['e/0']), allowedLatenessMinutes: 60 }).watermark,
    ).toBe('2026-11-24T12:30:00.000Z');
    expect(
      idleAwareWatermark({ latest, caughtUp: new Set(['e/0', 'e/1']), allowedLatenessMinutes: 90 }).watermark,
    ).toBe('2026-11-24T12:30:00.000Z');
  });

  it('never moves back', () => {
    const r = idleAwareWatermark({
      latest,
      caughtUp: new Set(),
      allowedLatenessMinutes: 60,
      previous: '2026-11-24T13:00:00.000Z',
    });
    expect(r.watermark).toBe('2026-11-24T13:00:00.000Z');
  });

  it('closes an hour once the watermark passed its end plus the lateness', () => {
    expect(hourClosedAt('2026-11-24T10', '2026-11-24T11:59:59.999Z', 60)).toBe(false);
    expect(hourClosedAt('2026-11-24T10', '2026-11-24T12:00:00.000Z', 60)).toBe(true);
  });
});

const suite = brokersEnv ? describe : describe.skip;

suite('Snowplow Kafka loader against a real broker', () => {
  let brokers: string[];
  let kafka: kafkajs.Kafka;
  const topics: string[] = [];
  const engines: Engine[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    brokers = await ensureKafka();
    kafka = new kafkajs.Kafka({
      clientId: 'snowplow-loader-test',
      brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    });
  });
  afterAll(async () => {
    for (const t of topics) await deleteTopic(t);
    for (const e of engines) await e.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const engine = async (): Promise<Engine> => {
    const e = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    engines.push(e);
    return e;
  };

  it('does not let an idle partition hold the watermark, and reports late events as re-opened hours', async () => {
    const topic = uniqueTopic('snowplow-live');
    topics.push(topic);
    await createTopic(topic, 2);
    const producer = kafka.producer();
    await producer.connect();
    const send = (partition: number, values: string[]) =>
      producer.send({ topic, messages: values.map((value) => ({ partition, value })) });
    const db = await engine();
    const loader = createSnowplowKafkaLoader({
      engine: db,
      brokers,
      topic,
      groupId: `${topic}-g`,
      allowedLatenessMinutes: 15,
    });
    try {
      await send(0, [
        pageView('a-1', '2026-11-24T10:05:00.000Z'),
        pageView('a-2', '2026-11-24T10:20:00.000Z'),
      ]);
      await send(1, [pageView('b-1', '2026-11-24T10:10:00.000Z')]);
      let heartbeats = 0;
      const first = await loader.land(() => heartbeats++);
      // Partition 1 is 10 min behind: within the lateness, so it holds the watermark.
      expect(first).toMatchObject({
        landed: 3,
        quarantined: 0,
        watermark: { source: 'snowplow', watermark: '2026-11-24T10:10:00.000Z' },
      });
      expect(first.reopened).toBeUndefined();
      expect(heartbeats).toBeGreaterThan(0);

      // Only partition 0 moves on, 2 h past partition 1's last event: partition 1 is idle, hour 10 closes.
      await send(0, [pageView('a-3', '2026-11-24T12:10:00.000Z')]);
      const second = await loader.land(noop);
      expect(second.watermark?.watermark).toBe('2026-11-24T12:10:00.000Z');
      expect(second.reopened).toBeUndefined();

      // A late event for hour 10 on the idle partition re-opens it (and does not move the watermark back).
      await send(1, [
        pageView('b-late', '2026-11-24T10:40:00.000Z'),
        pageView('b-2', '2026-11-24T12:05:00.000Z'),
      ]);
      const third = await loader.land(noop);
      expect(third).toMatchObject({
        landed: 2,
        watermark: { watermark: '2026-11-24T12:10:00.000Z' },
        reopened: [{ stream: 'enriched', partitionKey: '2026-11-24T10' }],
      });

      // ingest(): nothing new, reports the hour and the watermark.
      const hour10 = await loader.ingest({
        assetKey: 'raw.snowplow_events',
        stream: 'enriched',
        partitionKey: '2026-11-24T10',
        window: { start: '2026-11-24T10:00:00.000Z', end: '2026-11-24T11:00:00.000Z' },
        heartbeat: noop,
      });
      expect(hour10).toMatchObject({
        rowCount: 4,
        watermark: { source: 'snowplow', watermark: '2026-11-24T12:10:00.000Z' },
        partition: { type: 'window', column: 'derived_tstamp' },
      });
      expect(hour10.dataVersion).toMatch(/^4:/);
      // A restarted loader resumes from the persisted state: the same late rule applies.
      const state = loader.watermarkState();
      expect(state.watermark).toBe('2026-11-24T12:10:00.000Z');
      const restarted = createSnowplowKafkaLoader({
        engine: db,
        brokers,
        topic,
        groupId: `${topic}-g`,
        allowedLatenessMinutes: 15,
        watermarkState: state,
      });
      await send(0, [pageView('a-late', '2026-11-24T10:50:00.000Z')]);
      expect((await restarted.land(noop)).reopened).toEqual([
        { stream: 'enriched', partitionKey: '2026-11-24T10' },
      ]);
      // Without state handed over, a new loader finds what the last pass saved in the warehouse.
      const fromCheckpoint = createSnowplowKafkaLoader({
        engine: db,
        brokers,
        topic,
        groupId: `${topic}-g`,
        allowedLatenessMinutes: 15,
      });
      await send(1, [pageView('b-late-2', '2026-11-24T10:55:00.000Z')]);
      expect(await fromCheckpoint.land(noop)).toMatchObject({
        landed: 1,
        watermark: { watermark: '2026-11-24T12:10:00.000Z' },
        reopened: [{ stream: 'enriched', partitionKey: '2026-11-24T10' }],
      });
      expect(fromCheckpoint.watermarkState()).toEqual(restarted.watermarkState());
    } finally {
      await producer.disconnect();
    }
  });

  it('lands the simulator events from Kafka into the same table as from the landing files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-sp-kafka-'));
    dirs.push(dir);
    const truth = await simulate({ seed: 7, start: '2026-11-10', days: 1, landingDir: dir, scale: 'small' });
    const topic = uniqueTopic('snowplow-sim');
    topics.push(topic);
    const produced = await produceSnowplowEvents({ landingDir: dir, brokers, topic, partitions: 3 });
    expect(produced.hours).toHaveLength(24);
    expect(produced.messages).toBe(truth.files.snowplow_lines);

    const viaKafka = await engine();
    const live = createSnowplowKafkaLoader({ engine: viaKafka, brokers, topic, groupId: `${topic}-g` });
    const landed = await live.land(noop);
    expect(landed.landed).toBeGreaterThan(0);
    expect(landed.quarantined).toBeGreaterThan(0);

    const viaFiles = await engine();
    await landingLoaders({ engine: viaFiles, landingDir: dir }).snowplow?.ingest({
      assetKey: 'raw.snowplow_events',
      stream: 'enriched',
      partitionKey: '2026-11-10T00',
      window: { start: '2026-11-10T00:00:00.000Z', end: '2026-11-10T01:00:00.000Z' },
      heartbeat: noop,
    });

    const content = async (e: Engine) =>
      e.query<{ n: number; h: string; q: number }>(
        `SELECT (SELECT count(*)::INT FROM raw.snowplow_events) AS n,
                (SELECT md5(string_agg(CAST(t AS VARCHAR), '\n' ORDER BY event_id)) FROM raw.snowplow_events t) AS h,
                (SELECT count(*)::INT FROM raw.quarantine) AS q`,
      );
    const [k] = await content(viaKafka);
    expect(k?.n).toBe(landed.landed);
    expect(k?.q).toBe(landed.quarantined);
    expect(await content(viaFiles)).toEqual([k]);
  });
});
