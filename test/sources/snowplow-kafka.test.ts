/**
 * Snowplow from a real Kafka broker (`eval "$(bash scripts/services/kafka.sh start)"` sets
 * TESSERA_TEST_KAFKA_BROKERS); without it the suite shows as skipped.
 */
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { BulkDuckDbSink } from '../../src/sources/snowplow/duckdb-bulk-sink.js';
import {
  contextsJson,
  experimentExposureContext,
  linkClickEvent,
  listingContext,
  SnowplowKafkaSource,
  SnowplowLoader,
  unstructEventJson,
} from '../../src/sources/snowplow/index.js';
import { pageView } from '../helpers/snowplow.js';

const brokers = process.env['TESSERA_TEST_KAFKA_BROKERS'];
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

if (!brokers) {
  describe('Snowplow from Kafka', () => {
    it.skip('needs TESSERA_TEST_KAFKA_BROKERS (eval "$(bash scripts/services/kafka.sh start)")', () =>
      undefined);
  });
} else {
  describe('Snowplow from Kafka', () => {
    const kafka = new kafkajs.Kafka({
      clientId: 'snowplow-test',
      brokers: brokers.split(','),
      logLevel: kafkajs.logLevel.WARN,
    });
    const topic = `snowplow-enriched-${process.pid}-${Date.now().toString(36)}`;
    const groupId = `${topic}-loader`;
    const producer = kafka.producer();
    let engine: Engine;
    let loader: SnowplowLoader;

    const send = (partition: number, values: (string | null)[]) =>
      producer.send({ topic, messages: values.map((value) => ({ partition, value })) });
    const source = () =>
      new SnowplowKafkaSource({
        brokers: brokers.split(','),
        topic,
        groupId,
        loader,
        partitionsConsumedConcurrently: 2,
      });

    beforeAll(async () => {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      await admin.disconnect();
      await producer.connect();
      engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
      // The bulk sink serializes inserts, so both partitions' batches may be in flight at once.
      loader = new SnowplowLoader({
        sink: new BulkDuckDbSink(engine, new EngineRawSink(engine)),
        allowedLatenessMinutes: 15,
      });
    });
    afterAll(async () => {
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
      await engine?.close();
    });

    it('parses, flattens, quarantines with reasons and dedupes on event_id', async () => {
      const good = pageView('pv-1', '2026-11-24T10:05:00.000Z', {
        contexts: contextsJson([experimentExposureContext('search_ranking', 'B'), listingContext('L-9')]),
        page_urlpath: '/e/9',
      });
      await send(0, [
        good,
        pageView('click-1', '2026-11-24T10:06:00.000Z', {
          event: 'unstruct',
          unstruct_event: unstructEventJson(linkClickEvent('https://x.test/')),
        }),
        'too\tfew\tfields',
        pageView('bad-ts', '2026-11-24T10:07:00.000Z').replace(
          '2026-11-24 10:07:00.000',
          '2026-11-24 25:07:00.000',
        ),
        null,
      ]);
      await send(1, [
        pageView('se-1', '2026-11-24T11:10:00.000Z', {
          event: 'struct',
          se_category: 'checkout',
          se_action: 'pay',
          se_value: 49.9,
        }),
        pageView('bad-json', '2026-11-24T11:11:00.000Z', { contexts: '{"schema":"iglu:c","data":[{]}' }),
        good, // the same event delivered twice, to another partition
      ]);

      const summary = await source().ingestUntilCaughtUp(60_000);
      expect(summary).toMatchObject({ caughtUp: true, received: 8, inserted: 3, quarantined: 4 });
      expect(summary.touchedHours).toEqual(['2026-11-24T10', '2026-11-24T11']);
      const rows = await engine.query(
        `SELECT event_id, event_name, experiment_key, experiment_variant, listing_id, link_target_url, se_value
           FROM raw.snowplow_events ORDER BY event_id`,
      );
      expect(rows).toEqual([
        {
          event_id: 'click-1',
          event_name: 'link_click',
          experiment_key: null,
          experiment_variant: null,
          listing_id: null,
          link_target_url: 'https://x.test/',
          se_value: null,
        },
        {
          event_id: 'pv-1',
          event_name: 'page_view',
          experiment_key: 'search_ranking',
          experiment_variant: 'B',
          listing_id: 'L-9',
          link_target_url: null,
          se_value: null,
        },
        {
          event_id: 'se-1',
          event_name: 'struct',
          experiment_key: null,
          experiment_variant: null,
          listing_id: null,
          link_target_url: null,
          se_value: 49.9,
        },
      ]);
      const q = await engine.query(
        `SELECT origin, split_part(reason, ':', 1) AS code FROM raw.quarantine ORDER BY origin`,
      );
      expect(q).toEqual([
        { origin: `${topic}/0/2`, code: 'field_count' },
        { origin: `${topic}/0/3`, code: 'bad_timestamp' },
        { origin: `${topic}/0/4`, code: 'field_count' },
        { origin: `${topic}/1/1`, code: 'invalid_json' },
      ]);
    });

    it('lands batches natively (DuckDB) with the same rows, quarantine and hours as the JS path', async () => {
      const viaJs = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
      const viaDuckDb = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
      try {
        const read = async (engine: Engine, native: boolean, group: string) => {
          const paths: string[] = [];
          const l = new SnowplowLoader({
            sink: new BulkDuckDbSink(engine, new EngineRawSink(engine)),
            allowedLatenessMinutes: 15,
          });
          const summary = await new SnowplowKafkaSource({
            brokers: brokers.split(','),
            topic,
            groupId: group,
            loader: l,
            partitionsConsumedConcurrently: 2,
            ...(native ? { native: engine } : {}),
            onBatch: (b) => void paths.push(`${b.partition}:${b.path}`),
          }).ingestUntilCaughtUp(60_000);
          return { summary, paths: paths.sort(), watermark: l.watermark.snapshot() };
        };
        const js = await read(viaJs, false, `${groupId}-js`);
        const native = await read(viaDuckDb, true, `${groupId}-native`);
        // Partition 0 holds a tombstone (no line to write for it): that batch takes the JS path.
        expect(native.paths).toEqual(['0:js', '1:native']);
        const { batches: _a, ...jsSummary } = js.summary;
        const { batches: _b, ...nativeSummary } = native.summary;
        expect(nativeSummary).toEqual(jsSummary);
        expect(native.watermark).toEqual(js.watermark);
        const dump = (e: Engine) =>
          Promise.all([
            e.query('SELECT * FROM raw.snowplow_events ORDER BY event_id'),
            // JSON parser messages differ by design (V8's vs "not valid JSON"); the rest of a reason is equal.
            e.query(
              `SELECT source, origin, regexp_replace(reason, '^(invalid_json: [a-z_]+): .*$', '\\1') AS reason, raw
                 FROM raw.quarantine ORDER BY origin`,
            ),
          ]);
        const [events, quarantine] = await dump(viaDuckDb);
        expect(events.length).toBeGreaterThan(0);
        expect(quarantine.map((r) => r['origin'])).toContain(`${topic}/1/1`); // quarantined by the SQL
        expect([events, quarantine]).toEqual(await dump(viaJs));
      } finally {
        await viaJs.close();
        await viaDuckDb.close();
      }
    });

    it('resumes from committed offsets, and a late event re-opens its closed hour', async () => {
      // Both partitions move past 10:00 + 1h + 15 min: hour 10 is closed.
      await send(0, [pageView('w-0', '2026-11-24T11:40:00.000Z')]);
      await send(1, [pageView('w-1', '2026-11-24T11:20:00.000Z')]);
      const advance = await source().ingestUntilCaughtUp(60_000);
      expect(advance).toMatchObject({
        received: 2,
        inserted: 2,
        reopenedHours: [],
        watermark: '2026-11-24T11:20:00.000Z',
      });

      await send(1, [
        pageView('late-1', '2026-11-24T10:59:00.000Z'),
        pageView('on-time', '2026-11-24T11:30:00.000Z'),
      ]);
      const late = await source().ingestUntilCaughtUp(60_000);
      expect(late).toMatchObject({
        received: 2,
        inserted: 2,
        touchedHours: ['2026-11-24T10', '2026-11-24T11'],
        reopenedHours: ['2026-11-24T10'],
      });

      const nothing = await source().ingestUntilCaughtUp(10_000);
      expect(nothing).toMatchObject({ batches: 0, received: 0, caughtUp: true });
      expect(await engine.query('SELECT count(*)::INT AS n FROM raw.snowplow_events')).toEqual([{ n: 7 }]);
    });
  });
}
