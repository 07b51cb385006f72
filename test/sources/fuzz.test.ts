/**
 * Fuzzing the parsers that read what other systems send (issue 15): the Snowplow TSV parser, the Debezium,
 * wal2json and pgoutput decoders, the ads response parsers and the selection parser. Each gets FUZZ_RUNS
 * generated bad inputs (default 10,000; `TESSERA_FUZZ_RUNS=100000` runs more) built from valid inputs with one
 * part broken, plus arbitrary text, JSON or bytes. Each input must be quarantined or refused with a reason: no
 * other exception, no hang (vitest's timeout), and nothing dropped silently (every Debezium input is accounted
 * for; a parsed Snowplow line keeps its event id).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSelection, SelectionError } from '../../src/dsl/selection/index.js';
import { Secret } from '../../src/sources/ads/credentials.js';
import { AdsApiError } from '../../src/sources/ads/errors.js';
import { createGoogleAdsConnector } from '../../src/sources/ads/google.js';
import { createMetaAdsConnector } from '../../src/sources/ads/meta.js';
import { createTikTokAdsConnector } from '../../src/sources/ads/tiktok.js';
import { createXAdsConnector } from '../../src/sources/ads/twitter.js';
import type { AdAccountInfo, AdsConnector } from '../../src/sources/ads/types.js';
import { PgOutputDecoder } from '../../src/sources/cdc/pgoutput.js';
import { Wal2JsonDecoder } from '../../src/sources/cdc/wal2json.js';
import { DebeziumDecoder } from '../../src/sources/debezium/decoder.js';
import { debeziumInput } from '../../src/sources/debezium/stream.js';
import { PiiPolicy } from '../../src/sources/pii.js';
import { encodeEnrichedEvent } from '../../src/sources/snowplow/encode.js';
import { parseEnrichedLine } from '../../src/sources/snowplow/parse.js';

const RUNS = Number(process.env['TESSERA_FUZZ_RUNS'] ?? 10_000);
const SEED = Number(process.env['TESSERA_FUZZ_SEED'] ?? 2026);
const opts = { numRuns: RUNS, seed: SEED };
// Generous: the machine CI runs on is shared (10,000 runs take 4–85 s per target at load average 25).
const TIMEOUT = 300_000;

/** One of `parts` replaced by a generated value: a valid input broken in one place. */
const breakOne = <T>(parts: readonly T[], bad: fc.Arbitrary<T>) =>
  fc.tuple(fc.nat({ max: parts.length - 1 }), bad).map(([i, v]) => parts.map((p, j) => (j === i ? v : p)));

const junkText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '\t', 'null', 'NaN', '-1', '1e309', '2026-13-45 25:61:61', '{', '[]', '\u0000'),
);

describe('fuzz: Snowplow enriched TSV', () => {
  const valid = encodeEnrichedEvent({
    app_id: 'bme-web',
    platform: 'web',
    event: 'page_view',
    event_id: 'c6ef3124-b53a-4b13-a233-0088f79dcbcb',
    collector_tstamp: '2026-11-24T10:05:00.000Z',
    derived_tstamp: '2026-11-24T10:05:00.000Z',
    domain_userid: 'du-1',
    domain_sessionidx: '3',
  });
  const fields = valid.split('\t');
  const badLine = fc.oneof(
    breakOne(fields, junkText).map((f) => f.join('\t')),
    fc.array(junkText, { maxLength: 140 }).map((f) => f.join('\t')),
    fc
      .tuple(fc.nat({ max: valid.length }), fc.nat({ max: 40 }))
      .map(([at, n]) => valid.slice(0, at) + valid.slice(at + n)),
    junkText,
  );
  const CODES = /^(field_count|missing_event_id|bad_timestamp|invalid_json|bad_number|unsupported_event): /;

  it(
    `${RUNS} bad lines are parsed or quarantined with a coded reason`,
    () => {
      expect(parseEnrichedLine(valid).ok).toBe(true);
      fc.assert(
        fc.property(badLine, (line) => {
          const r = parseEnrichedLine(line);
          if (r.ok) {
            // Accepted lines are whole events: an id, an hour, and the line kept for replays.
            expect(r.row.event_id).not.toBe('');
            expect(r.row.event_hour).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}$/);
            expect(r.row.raw_line).toBe(line);
          } else expect(r.reason).toMatch(CODES);
        }),
        opts,
      );
    },
    TIMEOUT,
  );
});

describe('fuzz: Debezium decoder', () => {
  const schema = {
    type: 'struct',
    fields: [
      {
        field: 'after',
        type: 'struct',
        fields: [
          { field: 'id', type: 'int64' },
          {
            field: 'amount',
            type: 'bytes',
            name: 'org.apache.kafka.connect.data.Decimal',
            parameters: { scale: '2' },
          },
          { field: 'at', type: 'int64', name: 'io.debezium.time.MicroTimestamp' },
          { field: 'day', type: 'int32', name: 'io.debezium.time.Date' },
          { field: 'ok', type: 'boolean' },
        ],
      },
    ],
  };
  const event = (
    txId: unknown,
    lsn: unknown,
    after: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) => ({
    schema,
    payload: {
      op: 'c',
      before: null,
      after,
      source: {
        ts_us: 1_795_514_400_000_000,
        txId,
        lsn,
        sequence: `["${String(lsn)}","${String(lsn)}"]`,
        table: 'purchases',
      },
      ...extra,
    },
  });
  const row = { id: 1, amount: 'A+g=', at: 1_795_514_400_123_456, day: 20_781, ok: true };
  const junkJson = fc.oneof(fc.anything(), junkText, fc.constant(null), fc.integer(), fc.double());
  const badValue = fc.oneof(
    // One column's value broken.
    fc
      .tuple(fc.constantFrom(...Object.keys(row)), junkJson)
      .map(([k, v]) => event(7, 100, { ...row, [k]: v })),
    // One envelope field broken.
    fc.tuple(fc.constantFrom('op', 'source', 'after', 'before', 'schema'), junkJson).map(([k, v]) => {
      const e = event(7, 100, row) as { schema: unknown; payload: Record<string, unknown> };
      if (k === 'schema') return { ...e, schema: v };
      return { ...e, payload: { ...e.payload, [k]: v } };
    }),
    fc.tuple(junkJson, junkJson).map(([tx, lsn]) => event(tx, lsn, row)),
    junkJson,
  );
  const badInput = fc.oneof(
    badValue.map((v) => JSON.stringify(v) ?? 'undefined'),
    junkText,
    badValue.map((v) => (JSON.stringify(v) ?? '').slice(0, 80)),
  );

  it(
    `${RUNS} bad events are decoded, skipped as what they are, or quarantined with a reason`,
    () => {
      fc.assert(
        fc.property(fc.array(badInput, { minLength: 1, maxLength: 3 }), (texts) => {
          const d = new DebeziumDecoder('inventory_db', PiiPolicy.none());
          // A valid event first, so a bad one can also land inside an open transaction.
          const inputs = [JSON.stringify(event(7, 90, row)), ...texts];
          let emitted = 0;
          inputs.forEach((t, i) => (emitted += d.push(debeziumInput(t, `f:${i + 1}`)).length));
          const q = d.drainQuarantine();
          for (const r of q) {
            expect(r.reason.length).toBeGreaterThan(0);
            expect(r.origin).toMatch(/^f:\d+$/);
          }
          const s = d.stats;
          // Nothing dropped silently: every input is a record (emitted or held back for its commit position),
          // a tombstone, metadata, a message, a skipped table, or a quarantine record.
          expect(
            emitted + d.pendingChanges + s.tombstones + s.metadata + s.messages + s.skipped + s.quarantined,
          ).toBe(inputs.length);
          expect(q.length).toBe(s.quarantined);
        }),
        opts,
      );
    },
    TIMEOUT,
  );
});

describe('fuzz: logical decoding output', () => {
  /** A refusal: an Error naming the plugin (the stream fails with it; nothing is confirmed past it). */
  const refused = (e: unknown, plugin: RegExp): void => {
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(RangeError);
    expect(e).not.toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(plugin);
  };

  it(
    `wal2json: ${RUNS} bad documents are decoded or refused with a reason`,
    () => {
      const begin =
        '{"action":"B","xid":7,"timestamp":"2026-11-24 10:00:00+00","lsn":"0/10","nextlsn":"0/20"}';
      const insert =
        '{"action":"I","xid":7,"timestamp":"2026-11-24 10:00:00+00","lsn":"0/11","schema":"public","table":"t","columns":[{"name":"id","typeoid":20,"value":1},{"name":"s","typeoid":25,"value":"x"}]}';
      const parts = insert.split(/(?<=[,:{[])/);
      const doc = fc.oneof(
        breakOne(parts, junkText).map((p) => p.join('')),
        fc.anything().map((v) => JSON.stringify(v) ?? ''),
        junkText,
        fc.nat({ max: insert.length }).map((n) => insert.slice(0, n)),
      );
      fc.assert(
        fc.property(doc, (text) => {
          const d = new Wal2JsonDecoder();
          d.push(Buffer.from(begin));
          try {
            d.push(Buffer.from(text));
          } catch (e) {
            refused(e, /wal2json/);
          }
        }),
        opts,
      );
    },
    TIMEOUT,
  );

  it(
    `pgoutput: ${RUNS} bad messages are decoded or refused with a reason`,
    () => {
      const relation = Buffer.concat([
        Buffer.from('R'),
        u32(16384),
        Buffer.from('public\0t\0'),
        Buffer.from([0x64]),
        i16(2),
        Buffer.from([1]),
        Buffer.from('id\0'),
        u32(20),
        i32(-1),
        Buffer.from([0]),
        Buffer.from('s\0'),
        u32(25),
        i32(-1),
      ]);
      const begin = Buffer.concat([Buffer.from('B'), Buffer.alloc(8), Buffer.alloc(8), u32(7)]);
      const insert = Buffer.concat([
        Buffer.from('I'),
        u32(16384),
        Buffer.from('N'),
        i16(2),
        Buffer.from('t'),
        i32(1),
        Buffer.from('1'),
        Buffer.from('t'),
        i32(1),
        Buffer.from('x'),
      ]);
      const commit = Buffer.concat([
        Buffer.from('C'),
        Buffer.from([0]),
        Buffer.alloc(8),
        Buffer.alloc(8),
        Buffer.alloc(8),
      ]);
      const valid = [relation, insert, commit, begin];
      const message = fc.oneof(
        fc
          .tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }))
          .map(([m, at, byte]) => {
            const b = Buffer.from(m);
            b[at % b.length] = byte;
            return b;
          }),
        fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([m, n]) => m.subarray(0, n % m.length)),
        fc
          .tuple(fc.constantFrom(...valid), fc.uint8Array({ minLength: 1, maxLength: 8 }))
          .map(([m, extra]) => Buffer.concat([m, Buffer.from(extra)])),
        fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      );
      const d0 = new PgOutputDecoder();
      d0.push(relation);
      d0.push(begin);
      d0.push(insert);
      expect(d0.push(commit)?.changes).toHaveLength(1);
      fc.assert(
        fc.property(message, (m) => {
          const d = new PgOutputDecoder();
          d.push(relation);
          d.push(begin);
          try {
            const tx = d.push(m);
            for (const c of tx?.changes ?? []) expect(['I', 'U', 'D', 'T']).toContain(c.action);
          } catch (e) {
            refused(e, /^pgoutput: /);
          }
        }),
        opts,
      );
    },
    TIMEOUT,
  );
});

describe('fuzz: ads API responses', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const account = (platform: AdsConnector['platform']): AdAccountInfo => ({
    platform,
    accountId: '1234567890',
    timezone: 'UTC',
    currency: 'EUR',
  });
  const connectors: readonly [string, () => AdsConnector, unknown][] = [
    [
      'google',
      () =>
        createGoogleAdsConnector({
          baseUrl: 'http://ads.invalid',
          credentials: { developerToken: new Secret('d'), accessToken: new Secret('a') },
          retry: { retries: 0 },
        }),
      {
        results: [
          {
            campaign: { id: '1', name: 'c' },
            segments: { date: '2026-11-24' },
            metrics: { costMicros: '10' },
          },
        ],
      },
    ],
    [
      'facebook',
      () =>
        createMetaAdsConnector({
          baseUrl: 'http://ads.invalid',
          credentials: { accessToken: new Secret('a') },
          retry: { retries: 0 },
        }),
      { data: [{ campaign_id: '1', date_start: '2026-11-24', spend: '1.5', impressions: '3' }] },
    ],
    [
      'tiktok',
      () =>
        createTikTokAdsConnector({
          baseUrl: 'http://ads.invalid',
          credentials: { accessToken: new Secret('a') },
          retry: { retries: 0 },
        }),
      {
        code: 0,
        message: 'OK',
        data: {
          page_info: { total_page: 1 },
          list: [
            {
              dimensions: { campaign_id: '1', stat_time_day: '2026-11-24 00:00:00' },
              metrics: { spend: '1.5' },
            },
          ],
        },
      },
    ],
    [
      'twitter',
      () =>
        createXAdsConnector({
          baseUrl: 'http://ads.invalid',
          credentials: {
            consumerKey: new Secret('k'),
            consumerSecret: new Secret('s'),
            accessToken: new Secret('a'),
            accessTokenSecret: new Secret('t'),
          },
          retry: { retries: 0 },
        }),
      {
        data: [
          {
            id: 'c1',
            name: 'c',
            id_data: [{ metrics: { billed_charge_local_micro: [10], impressions: [3] } }],
          },
        ],
        next_cursor: null,
        request: { params: { start_time: '2026-11-24T00:00:00Z' } },
      },
    ],
  ];
  /** A valid body with one leaf replaced, or arbitrary JSON. */
  const mutate = (body: unknown): fc.Arbitrary<unknown> => {
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]): void => {
      paths.push(path);
      if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    walk(body, []);
    const set = (v: unknown, path: (string | number)[], to: unknown): unknown => {
      if (path.length === 0) return to;
      const [head, ...rest] = path as [string | number, ...(string | number)[]];
      const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
      copy[head] = set(copy[head], rest, to);
      return copy;
    };
    const junk = fc.oneof(
      fc.anything({ maxDepth: 2, maxKeys: 4 }),
      junkText,
      fc.constant(undefined),
      fc.integer(),
      fc.double(),
    );
    return fc.oneof(
      fc.tuple(fc.constantFrom(...paths), junk).map(([p, v]) => set(body, p, v)),
      fc.anything({ maxDepth: 3, maxKeys: 5 }),
    );
  };

  for (const [platform, make, body] of connectors) {
    it(
      `${platform}: ${RUNS} bad report responses are read whole or refused with an AdsApiError`,
      async () => {
        await fc.assert(
          fc.asyncProperty(mutate(body), async (b) => {
            vi.stubGlobal('fetch', async () => new Response(JSON.stringify(b) ?? '', { status: 200 }));
            const c = make();
            try {
              const rows = await c.fetchReport(account(c.platform), '2026-11-24', '2026-11-24');
              for (const r of rows) {
                expect(r.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
                expect(r.spend_micros).toMatch(/^-?\d+$/);
                expect(Number.isFinite(r.impressions)).toBe(true);
                expect(typeof r.campaign_id).toBe('string');
              }
            } catch (e) {
              expect(e).toBeInstanceOf(AdsApiError);
              expect((e as Error).message).toMatch(new RegExp(`^${platform} account 1234567890: `));
            }
          }),
          opts,
        );
      },
      TIMEOUT,
    );
  }
});

describe('fuzz: selection parser', () => {
  const tokens = [
    '*',
    '+',
    '(',
    ')',
    ',',
    'and',
    'or',
    'not',
    'group:',
    'tag:',
    'kind:',
    'owner:',
    'raw.x',
    '2+',
    '+1',
    ' ',
    '"',
    "'",
    ':',
    '@',
  ];
  const selection = fc.oneof(
    fc.array(fc.constantFrom(...tokens), { maxLength: 12 }).map((t) => t.join('')),
    fc.string(),
    fc.string({ unit: 'binary' }),
  );

  it(
    `${RUNS} bad selections parse or are refused with a SelectionError`,
    () => {
      fc.assert(
        fc.property(selection, (s) => {
          try {
            parseSelection(s);
          } catch (e) {
            expect(e).toBeInstanceOf(SelectionError);
            const pos = (e as SelectionError).position;
            expect(pos).toBeGreaterThanOrEqual(0);
            expect(pos).toBeLessThanOrEqual(s.length);
          }
        }),
        opts,
      );
    },
    TIMEOUT,
  );
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function i16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
