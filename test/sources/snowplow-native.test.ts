/**
 * The DuckDB-native landing path (duckdb-native.ts) lands exactly what the JS path (ingestSnowplowFile through
 * SnowplowLoader and BulkDuckDbSink, as the landing loader does) lands: the simulator's hourly files plus a
 * hand-made file of every kind of bad line, a duplicate collected earlier further down, and a late event.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { simulate } from '../../src/simulator/index.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { ingestSnowplowFileNative } from '../../src/sources/snowplow/duckdb-native.js';
import { landSnowplowLinesNative } from '../../src/sources/snowplow/native-lines.js';
import {
  BulkDuckDbSink,
  contextsJson,
  encodeEnrichedEvent,
  experimentExposureContext,
  ingestSnowplowFile,
  linkClickEvent,
  listingContext,
  SnowplowLoader,
  unstructEventJson,
  type SnowplowFileSummary,
} from '../../src/sources/snowplow/index.js';
import {
  SNOWPLOW_DEDUPE_WINDOW_HOURS,
  SNOWPLOW_EVENT_COLUMNS,
  SNOWPLOW_EVENTS_TABLE,
} from '../../src/sources/snowplow/schema.js';

const LATENESS = 60;

function event(id: string, at: string, extra: Record<string, string | number> = {}): string {
  return encodeEnrichedEvent({
    app_id: 'bme-web',
    platform: 'web',
    event: 'page_view',
    event_id: id,
    collector_tstamp: at,
    derived_tstamp: at,
    dvce_created_tstamp: at,
    domain_userid: `du-${id}`,
    domain_sessionidx: 3,
    contexts: contextsJson([
      experimentExposureContext('checkout_v2', 'B'),
      experimentExposureContext('search_rank', 'A'),
      listingContext('L-42'),
    ]),
    ...extra,
  });
}

/** Replaces field `i` (0-based) of a TSV line. */
function setField(line: string, i: number, value: string): string {
  const f = line.split('\t');
  f[i] = value;
  return f.join('\t');
}

/** Every quarantine code, duplicates, blank lines, and events for an hour long closed (late). */
function handMadeLines(lateAt: string, at: string): string[] {
  const ok = event('hand-ok', at);
  return [
    ok,
    'truncated\tline',
    `${ok}\textra`,
    '',
    setField(ok, 6, ''), // missing event_id
    setField(setField(ok, 6, 'hand-bad-c'), 3, '2026-02-30 10:00:00'), // not a calendar day
    setField(setField(ok, 6, 'hand-bad-d'), 122, 'yesterday'),
    setField(setField(ok, 6, 'hand-bad-v'), 4, '2026-11-24 10:00:00.'),
    setField(setField(ok, 6, 'hand-bad-ctx'), 52, '{"schema":"x","data":[{"schema":'),
    setField(setField(ok, 6, 'hand-bad-ctx2'), 52, '{"schema":"x","data":{}}'),
    setField(setField(ok, 6, 'hand-bad-ctx3'), 52, '{"schema":"x","data":[{"data":1}]}'),
    setField(setField(ok, 6, 'hand-bad-ue'), 5, 'unstruct'), // unstruct without a JSON event
    event('hand-ue-other', at, {
      event: 'unstruct',
      unstruct_event: unstructEventJson({ schema: 'iglu:com.acme/other/jsonschema/1-0-0', data: {} }),
    }),
    event('hand-tr', at, { event: 'transaction' }),
    setField(setField(ok, 6, 'hand-bad-idx'), 16, '2.5'),
    setField(setField(ok, 6, 'hand-bad-se'), 57, 'abc'),
    event('hand-click', at, {
      event: 'unstruct',
      unstruct_event: unstructEventJson(linkClickEvent('https://partner.example/a?b=c')),
      contexts: '',
    }),
    event('hand-struct', at, { event: 'struct', se_category: 'checkout', se_action: 'add', se_value: 2.5 }),
    // Collected twice: the later line has the earlier collector time and wins.
    event('hand-dup', at, { collector_tstamp: '2026-11-23T20:00:05.000Z' }),
    event('hand-dup', at, { collector_tstamp: '2026-11-23T20:00:01.250Z', geo_country: 'DE' }),
    event('hand-late', lateAt),
    setField(event('hand-no-derived', at), 122, ''), // falls back to collector time
    `${event('hand-crlf', at)}\r`,
    ok, // an exact duplicate of the first line
  ];
}

interface Warehouse {
  readonly engine: Engine;
  readonly loader: SnowplowLoader;
}

async function warehouse(): Promise<Warehouse> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 2 });
  const loader = new SnowplowLoader({
    sink: new BulkDuckDbSink(engine, new EngineRawSink(engine)),
    allowedLatenessMinutes: LATENESS,
  });
  return { engine, loader };
}

const events = (e: Engine): Promise<unknown[]> =>
  e.query(`SELECT COLUMNS(*)::VARCHAR FROM raw.snowplow_events ORDER BY event_id`);
const quarantine = (e: Engine): Promise<{ origin: string; reason: string; raw: string }[]> =>
  e.query(`SELECT origin, reason, raw FROM raw.quarantine WHERE source = 'snowplow' ORDER BY origin`);

/** JSON parser messages are V8's on one side and a fixed text on the other (docs: "DuckDB-native landing"). */
const comparable = (reason: string): string =>
  reason.startsWith('invalid_json:') && !reason.endsWith('self-describing event') && !reason.includes('array')
    ? reason.replace(/^(invalid_json: \w+): .*$/, '$1: <parser message>')
    : reason;

describe('DuckDB-native Snowplow landing', () => {
  let dir: string;
  let files: string[];
  let js: Warehouse;
  let native: Warehouse;
  const jsRuns: SnowplowFileSummary[] = [];
  const nativeRuns: (SnowplowFileSummary & { path: string; fallbackReason?: string })[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-snowplow-native-'));
    const truth = await simulate({ seed: 7, start: '2026-11-23', days: 1, landingDir: dir, scale: 'small' });
    files = truth.files.snowplow.map((f) => join(dir, f)).sort();
    const hand = join(dir, 'snowplow', 'zz-hand-made.tsv');
    await writeFile(
      hand,
      handMadeLines('2026-11-23T01:10:00.000Z', '2026-11-23T20:00:00.000Z').join('\n') + '\n',
    );
    files.push(hand);
    [js, native] = await Promise.all([warehouse(), warehouse()]);
    for (const f of files) {
      jsRuns.push(await ingestSnowplowFile(f, { loader: js.loader }));
      nativeRuns.push(await ingestSnowplowFileNative(f, { engine: native.engine, loader: native.loader }));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([js.engine.close(), native.engine.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the native path for every plain file', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(nativeRuns.map((r) => r.fallbackReason ?? r.path)).toEqual(files.map(() => 'native'));
  });

  it('lands exactly the rows the JS path lands', async () => {
    const [a, b] = await Promise.all([events(js.engine), events(native.engine)]);
    expect(a.length).toBeGreaterThan(500);
    expect(b).toEqual(a);
    const [dup] = await native.engine.query<{ geo_country: string; collector: string }>(
      `SELECT geo_country, CAST(collector_tstamp AS VARCHAR) AS collector FROM raw.snowplow_events WHERE event_id = 'hand-dup'`,
    );
    expect(dup).toEqual({ geo_country: 'DE', collector: '2026-11-23 20:00:01.25+00' });
  });

  it('quarantines the same lines, with the same reasons but for JSON parser messages', async () => {
    const [a, b] = await Promise.all([quarantine(js.engine), quarantine(native.engine)]);
    expect(a.length).toBeGreaterThanOrEqual(15);
    const codes = new Set(a.map((r) => r.reason.slice(0, r.reason.indexOf(':'))));
    expect([...codes].sort()).toEqual([
      'bad_number',
      'bad_timestamp',
      'field_count',
      'invalid_json',
      'missing_event_id',
      'unsupported_event',
    ]);
    const norm = (rows: typeof a) => rows.map((r) => ({ ...r, reason: comparable(r.reason) }));
    expect(norm(b)).toEqual(norm(a));
  });

  it('reports the same counts, touched and re-opened hours and watermark per file', () => {
    const strip = (r: SnowplowFileSummary) => ({
      lines: r.lines,
      inserted: r.inserted,
      quarantined: r.quarantined,
      touchedHours: r.touchedHours,
      reopenedHours: r.reopenedHours,
      watermark: r.watermark,
    });
    expect(nativeRuns.map(strip)).toEqual(jsRuns.map(strip));
    expect(nativeRuns.at(-1)?.reopenedHours).toContain('2026-11-23T01');
  });

  it('a replay inserts nothing and quarantines nothing twice', async () => {
    const last = files.at(-1) as string;
    const [before] = await quarantine(native.engine).then((q) => [q.length]);
    const r = await ingestSnowplowFileNative(last, { engine: native.engine, loader: native.loader });
    expect(r.path).toBe('native');
    expect(r.inserted).toBe(0);
    expect(r.touchedHours).toEqual([]);
    expect((await quarantine(native.engine)).length).toBe(before);
  });

  it('leaves a file with a lone carriage return (a line break to readline) to the JS path', async () => {
    const odd = join(dir, 'odd.tsv');
    const at = '2026-11-23T21:00:00.000Z';
    await writeFile(odd, `${event('odd-1', at)}\n${setField(event('odd-2', at), 30, 'a\rb')}\n`);
    const r = await ingestSnowplowFileNative(odd, { engine: native.engine, loader: native.loader });
    expect(r.path).toBe('js');
    expect(r.inserted).toBe(1);
    expect(r.quarantined).toBe(2);
    const [row] = await native.engine.query<{ n: number }>(
      `SELECT count(*)::INT AS n FROM raw.snowplow_events WHERE event_id LIKE 'odd-%'`,
    );
    expect(row?.n).toBe(1);
  });
});

describe('DuckDB-native Snowplow landing: edge files and dedupe without a key index', () => {
  let dir: string;
  const at = '2026-11-23T20:00:00.000Z';
  const wide = `${event('edge-wide', at)}${'\tx'.repeat(9)}`; // 140 fields
  const contents: Record<string, string> = {
    'empty.tsv': '',
    'blank.tsv': '\n\n\n',
    'wide.tsv': `${event('edge-ok', at)}\n${wide}\n\n${event('edge-crlf', at)}\r\n${event('edge-last', at)}`,
  };
  const path = (name: string): string => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-snowplow-native-edge-'));
    for (const [name, body] of Object.entries(contents)) await writeFile(path(name), body);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('lands files without events and lines of any field count as the JS path does', async () => {
    const [js, native] = await Promise.all([warehouse(), warehouse()]);
    try {
      for (const name of Object.keys(contents)) {
        const a = await ingestSnowplowFile(path(name), { loader: js.loader });
        const b = await ingestSnowplowFileNative(path(name), {
          engine: native.engine,
          loader: native.loader,
        });
        expect(b.path).toBe('native');
        expect({ ...b, path: undefined }).toEqual({ ...a, path: undefined });
      }
      expect(await events(native.engine)).toEqual(await events(js.engine));
      const q = await quarantine(native.engine);
      expect(q).toEqual(await quarantine(js.engine));
      expect(q).toEqual([
        { origin: `${path('wide.tsv')}:2`, reason: 'field_count: expected 131 fields, got more', raw: wide },
      ]);
    } finally {
      await Promise.all([js.engine.close(), native.engine.close()]);
    }
  });

  it('dedupes against rows either path landed, with or without a primary key on the table', async () => {
    for (const legacyKey of [false, true]) {
      const w = await warehouse();
      try {
        if (legacyKey)
          await new EngineRawSink(w.engine).ensureTable(SNOWPLOW_EVENTS_TABLE, SNOWPLOW_EVENT_COLUMNS, [
            'event_id',
          ]);
        const first = await ingestSnowplowFileNative(path('wide.tsv'), {
          engine: w.engine,
          loader: w.loader,
        });
        expect(first).toMatchObject({ path: 'native', inserted: 3, quarantined: 1 });
        // The same lines again through the native path, the JS path (bulk sink), and the native path.
        const again = await ingestSnowplowFileNative(path('wide.tsv'), {
          engine: w.engine,
          loader: w.loader,
        });
        const viaJs = await ingestSnowplowFile(path('wide.tsv'), { loader: w.loader });
        const jsFirst = await w.loader.load([
          { line: event('edge-js', at), origin: 'test:1', stream: 'landing' },
          { line: event('edge-ok', '2026-11-23T19:00:00.000Z'), origin: 'test:2', stream: 'landing' },
        ]);
        const thenNative = await ingestSnowplowFileNative(path('wide.tsv'), {
          engine: w.engine,
          loader: w.loader,
        });
        expect([again.inserted, viaJs.inserted, jsFirst.inserted, thenNative.inserted]).toEqual([0, 0, 1, 0]);
        const [row] = await w.engine.query<{ n: number; ids: number }>(
          `SELECT count(*)::INT AS n, count(DISTINCT event_id)::INT AS ids FROM raw.snowplow_events`,
        );
        expect(row).toEqual({ n: 4, ids: 4 });
        const keys = await w.engine.query(
          `SELECT constraint_type FROM duckdb_constraints() WHERE schema_name = 'raw' AND table_name = 'snowplow_events' AND constraint_type = 'PRIMARY KEY'`,
        );
        expect(keys.length).toBe(legacyKey ? 1 : 0);
      } finally {
        await w.engine.close();
      }
    }
  });

  it('lands a Kafka batch from its bytes, and leaves one that is not UTF-8 to the JS path, landing nothing', async () => {
    const w = await warehouse();
    try {
      const opts = { engine: w.engine, loader: w.loader, stream: 'topic/0', offsets: ['7', '8'] };
      // A byte that is never UTF-8, inside the event id.
      const line = event('kafka-bad', at);
      const cut = line.indexOf('kafka-bad');
      const notUtf8 = Buffer.concat([
        Buffer.from(line.slice(0, cut)),
        Buffer.from([0xff]),
        Buffer.from(line.slice(cut)),
      ]);
      expect(
        await landSnowplowLinesNative([Buffer.from(event('kafka-a', at)), notUtf8], opts),
      ).toBeUndefined();
      expect(await w.engine.query(`SELECT event_id FROM raw.snowplow_events`)).toEqual([]);
      const landed = await landSnowplowLinesNative(
        [Buffer.from(event('kafka-a', at)), Buffer.from('too\tfew')],
        opts,
      );
      expect(landed).toMatchObject({ received: 2, inserted: 1, quarantined: 1 });
      expect(await quarantine(w.engine)).toEqual([
        { origin: 'topic/0/8', reason: 'field_count: expected 131 fields, got 2', raw: 'too\tfew' },
      ]);
    } finally {
      await w.engine.close();
    }
  });

  it(`dedupes within ${SNOWPLOW_DEDUPE_WINDOW_HOURS} hours of event time: replays and near duplicates land nothing`, async () => {
    const w = await warehouse();
    const file = async (name: string, lines: readonly string[]): Promise<string> => {
      await writeFile(path(name), lines.join('\n') + '\n');
      return path(name);
    };
    const land = async (name: string, lines: readonly string[]): Promise<number> =>
      (await ingestSnowplowFileNative(await file(name, lines), { engine: w.engine, loader: w.loader }))
        .inserted;
    const hoursAfter = (h: number): string => new Date(Date.parse(at) + h * 3_600_000).toISOString();
    try {
      const first = [event('win-a', at), event('win-b', at)];
      expect(await land('win-1.tsv', first)).toBe(2);
      expect(await land('win-replay.tsv', first)).toBe(0);
      // The same ids again, one just inside the window (a late collector duplicate), one just outside it.
      const inside = event('win-a', hoursAfter(SNOWPLOW_DEDUPE_WINDOW_HOURS - 1));
      const outside = event('win-b', hoursAfter(SNOWPLOW_DEDUPE_WINDOW_HOURS + 1));
      expect(await land('win-2.tsv', [inside, outside])).toBe(1);
      expect(await land('win-2-replay.tsv', [inside, outside])).toBe(0);
      const rows = await w.engine.query<{ event_id: string; n: number }>(
        `SELECT event_id, count(*)::INT AS n FROM raw.snowplow_events GROUP BY event_id ORDER BY event_id`,
      );
      expect(rows).toEqual([
        { event_id: 'win-a', n: 1 },
        { event_id: 'win-b', n: 2 },
      ]);
    } finally {
      await w.engine.close();
    }
  });
});
