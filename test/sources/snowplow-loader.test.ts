import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { BulkDuckDbSink } from '../../src/sources/snowplow/duckdb-bulk-sink.js';
import type { RawSink } from '../../src/sources/types.js';
import {
  contextsJson,
  encodeEnrichedEvent,
  experimentExposureContext,
  ingestSnowplowFile,
  SnowplowLoader,
  type SnowplowRecord,
} from '../../src/sources/snowplow/index.js';

/** A page view at `derived` (ISO), collected `lagMs` later. */
function pageView(id: string, derived: string, collector = derived): string {
  return encodeEnrichedEvent({
    app_id: 'bme-web',
    platform: 'web',
    event: 'page_view',
    event_id: id,
    collector_tstamp: collector,
    derived_tstamp: derived,
    domain_userid: `du-${id}`,
    contexts: contextsJson([experimentExposureContext('exp1', id.endsWith('1') ? 'B' : 'A')]),
  });
}

const recs = (lines: string[], stream = 'p0'): SnowplowRecord[] =>
  lines.map((line, i) => ({ line, origin: `test/${stream}/${i}`, stream }));

const SINKS: Record<string, (engine: Engine) => RawSink> = {
  'engine raw sink': (engine) => new EngineRawSink(engine),
  'bulk DuckDB sink': (engine) => new BulkDuckDbSink(engine, new EngineRawSink(engine)),
};

describe.each(Object.keys(SINKS))('SnowplowLoader over the %s', (sinkName) => {
  let engine: Engine;
  let sink: RawSink;
  beforeEach(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    sink = (SINKS[sinkName] as (e: Engine) => RawSink)(engine);
  });
  afterEach(async () => engine.close());

  it('lands events, quarantines bad lines with reasons, keeps the first duplicate by collector time', async () => {
    const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 30 });
    const res = await loader.load(
      recs([
        pageView('e1', '2026-11-24T10:05:00.000Z', '2026-11-24T10:05:02.000Z'),
        pageView('e2', '2026-11-24T11:00:00.000Z'),
        // Same event_id collected twice; the earlier collection wins even though it comes second.
        pageView('e2', '2026-11-24T11:00:00.000Z', '2026-11-24T10:59:59.000Z'),
        'not\tan\tevent',
        pageView('e3', '2026-11-24T11:30:00.000Z').replace(
          '2026-11-24 11:30:00.000',
          '2026-11-31 11:30:00.000',
        ),
      ]),
    );
    expect(res).toMatchObject({
      received: 5,
      parsed: 3,
      quarantined: 2,
      quarantinedByCode: { field_count: 1, bad_timestamp: 1 },
      duplicatesInBatch: 1,
      inserted: 2,
      touchedHours: ['2026-11-24T10', '2026-11-24T11'],
      reopenedHours: [],
      watermark: { source: 'snowplow', watermark: '2026-11-24T11:00:00.000Z' },
    });
    const rows = await engine.query(
      `SELECT event_id, strftime(collector_tstamp AT TIME ZONE 'UTC', '%H:%M:%S') AS c, experiment_variant, event_hour
         FROM raw.snowplow_events ORDER BY event_id`,
    );
    expect(rows).toEqual([
      { event_id: 'e1', c: '10:05:02', experiment_variant: 'B', event_hour: '2026-11-24T10' },
      { event_id: 'e2', c: '10:59:59', experiment_variant: 'A', event_hour: '2026-11-24T11' },
    ]);
    // experiment_exposures is a JSON column: the document is stored, not a string of it.
    expect(
      await engine.query(
        `SELECT experiment_exposures->>'$[0].variant' AS v FROM raw.snowplow_events ORDER BY event_id`,
      ),
    ).toEqual([{ v: 'B' }, { v: 'A' }]);
    const q = await engine.query(`SELECT origin, reason FROM raw.quarantine ORDER BY origin`);
    expect(q).toEqual([
      { origin: 'test/p0/3', reason: 'field_count: expected 131 fields, got 3' },
      { origin: 'test/p0/4', reason: 'bad_timestamp: collector_tstamp "2026-11-31 11:30:00.000"' },
    ]);
  });

  it('a replayed batch inserts nothing and touches no hour', async () => {
    const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 30 });
    const batch = recs([
      pageView('a1', '2026-11-24T10:00:00.000Z'),
      pageView('a2', '2026-11-24T12:00:00.000Z'),
    ]);
    await loader.load(batch);
    const again = await loader.load(batch);
    expect(again).toMatchObject({ inserted: 0, touchedHours: [], reopenedHours: [] });
    expect(await engine.query('SELECT count(*)::INT AS n FROM raw.snowplow_events')).toEqual([{ n: 2 }]);
  });

  it('an event for an hour whose lateness has passed re-opens that hour', async () => {
    const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 30 });
    await loader.load(
      recs([pageView('b1', '2026-11-24T10:10:00.000Z'), pageView('b2', '2026-11-24T11:20:00.000Z')]),
    );
    // Watermark 11:20: hour 10 closes at 11:30, so a 10:xx event is still on time.
    const onTime = await loader.load(recs([pageView('b3', '2026-11-24T10:50:00.000Z')]));
    expect(onTime).toMatchObject({ touchedHours: ['2026-11-24T10'], reopenedHours: [] });
    await loader.load(recs([pageView('b4', '2026-11-24T11:45:00.000Z')]));
    const late = await loader.load(
      recs([pageView('b5', '2026-11-24T10:59:00.000Z'), pageView('b6', '2026-11-24T11:50:00.000Z')]),
    );
    expect(late).toMatchObject({
      touchedHours: ['2026-11-24T10', '2026-11-24T11'],
      reopenedHours: ['2026-11-24T10'],
    });
  });

  it('the watermark is the slowest stream’s, and idle streams do not hold it back', async () => {
    const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 0 });
    await loader.load(recs([pageView('c1', '2026-11-24T12:00:00.000Z')], 'p0'));
    const res = await loader.load(recs([pageView('c2', '2026-11-24T09:00:00.000Z')], 'p1'));
    expect(res.watermark?.watermark).toBe('2026-11-24T09:00:00.000Z');
    expect(loader.watermark.snapshot()).toEqual({
      p0: '2026-11-24T12:00:00.000Z',
      p1: '2026-11-24T09:00:00.000Z',
    });
  });

  it('ingests landing files (plain and gzipped), quarantining by file:line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snowplow-'));
    try {
      const lines = [
        pageView('f1', '2026-11-24T08:00:00.000Z'),
        'garbage',
        pageView('f2', '2026-11-24T09:00:00.000Z'),
        '',
      ];
      await writeFile(join(dir, 'a.tsv'), lines.join('\n'));
      await writeFile(
        join(dir, 'b.tsv.gz'),
        gzipSync(
          [pageView('f3', '2026-11-24T09:30:00.000Z'), pageView('f1', '2026-11-24T08:00:00.000Z')].join('\n'),
        ),
      );
      const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 60 });
      const a = await ingestSnowplowFile(join(dir, 'a.tsv'), { loader, batchSize: 2 });
      expect(a).toMatchObject({
        lines: 3,
        inserted: 2,
        quarantined: 1,
        touchedHours: ['2026-11-24T08', '2026-11-24T09'],
      });
      const b = await ingestSnowplowFile(join(dir, 'b.tsv.gz'), { loader });
      expect(b).toMatchObject({ inserted: 1, quarantined: 0, watermark: '2026-11-24T09:30:00.000Z' });
      expect(await engine.query('SELECT origin FROM raw.quarantine')).toEqual([
        { origin: `${join(dir, 'a.tsv')}:2` },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('BulkDuckDbSink', () => {
  it('lands awkward values exactly: through delimited text, or JSON when a value would break it', async () => {
    const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    const sink = new BulkDuckDbSink(engine, new EngineRawSink(engine));
    const cols = [
      { name: 'id', type: 'varchar' },
      { name: 'n', type: 'bigint' },
      { name: 'doc', type: 'json' },
      { name: 'ok', type: 'boolean' },
    ] as const;
    await sink.ensureTable('raw.bulk_test', cols, ['id']);
    const plain = [
      { id: 'a', n: '9007199254740993', doc: '{"x":[1,"t\\tab"]}', ok: true },
      { id: 'b', n: null, doc: null, ok: false },
      { id: 'c', n: 1, doc: '{}', ok: null },
      { id: 'e', n: 0, doc: null, ok: null },
    ];
    const awkward = [
      { id: 'd\u001fx', n: 2, doc: null, ok: null },
      { id: 'multi\nline', n: 3, doc: null, ok: null },
      { id: '', n: 4, doc: null, ok: null },
    ];
    expect(await sink.write('raw.bulk_test', [...plain, plain[0] as (typeof plain)[number]], ['id'])).toEqual(
      { inserted: 4 },
    );
    expect(await sink.write('raw.bulk_test', [...awkward, ...plain], ['id'])).toEqual({ inserted: 3 });
    const got = await engine.query(
      `SELECT id, n::VARCHAR AS n, doc->>'$.x[1]' AS x, ok FROM raw.bulk_test ORDER BY id`,
    );
    expect(got).toEqual([
      { id: '', n: '4', x: null, ok: null },
      { id: 'a', n: '9007199254740993', x: 't\tab', ok: true },
      { id: 'b', n: null, x: null, ok: false },
      { id: 'c', n: '1', x: null, ok: null },
      { id: 'd\u001fx', n: '2', x: null, ok: null },
      { id: 'e', n: '0', x: null, ok: null },
      { id: 'multi\nline', n: '3', x: null, ok: null },
    ]);
    await engine.close();
  });

  it('keeps batches in flight in order: overlapping keys land once, a failed batch lands nothing', async () => {
    const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    const sink = new BulkDuckDbSink(engine, new EngineRawSink(engine));
    const cols = [
      { name: 'id', type: 'varchar' },
      { name: 'at', type: 'timestamp' },
    ] as const;
    await sink.ensureTable('raw.bulk_flight', cols, ['id']);
    const batch = (ids: number[], at = '2026-11-24T10:00:00.000Z') => ids.map((i) => ({ id: `k${i}`, at }));
    // Issued without waiting: each insert must see the rows of the one before it.
    const results = await Promise.allSettled([
      sink.write('raw.bulk_flight', batch([1, 2, 3]), ['id']),
      sink.write('raw.bulk_flight', batch([3, 4, 5]), ['id']),
      sink.write('raw.bulk_flight', [...batch([6]), { id: 'k7', at: 'not a time' }], ['id']),
      sink.write('raw.bulk_flight', batch([5, 6, 7, 8]), ['id']),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.inserted : 'failed'))).toEqual([
      3,
      2,
      'failed',
      3,
    ]);
    const ids = await engine.query<{ id: string }>('SELECT id FROM raw.bulk_flight ORDER BY id');
    expect(ids.map((r) => r.id)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']);
    await engine.close();
  });
});
