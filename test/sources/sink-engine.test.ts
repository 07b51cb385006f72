/** The CdcSink contract, run over the DuckDB engine sink and the in-memory sink. */
import { afterEach, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { planDrift } from '../../src/sources/sinks/drift.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { MemorySink } from '../../src/sources/sinks/memory-sink.js';
import { IncompatibleColumnError, type CdcSink } from '../../src/sources/sinks/types.js';
import type { RawColumn, RawRow } from '../../src/sources/types.js';

let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

const SINKS: Record<string, () => Promise<{ sink: CdcSink; read: (t: string) => Promise<unknown[]> }>> = {
  engine: async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    const e = engine;
    return { sink: new EngineRawSink(e), read: (t) => e.query(`SELECT * FROM ${t} ORDER BY _lsn, _seq`) };
  },
  memory: async () => {
    const sink = new MemorySink();
    return { sink, read: async (t) => sink.rows(t) };
  },
};

const COLS: RawColumn[] = [
  { name: '_lsn', type: 'varchar' },
  { name: '_seq', type: 'bigint' },
  { name: 'id', type: 'bigint' },
  { name: 'amount', type: 'decimal' },
  { name: 'at', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'doc', type: 'json' },
  { name: 'ok', type: 'boolean' },
];
const KEY = ['_lsn', '_seq'];
const row = (
  lsn: string,
  seq: number | string,
  extra: Partial<Record<string, RawRow[string]>> = {},
): RawRow => ({
  _lsn: lsn,
  _seq: seq,
  id: 1,
  amount: '12.50',
  at: '2026-11-25T10:00:00.123456Z',
  day: '2026-11-25',
  doc: '{"a": [1, 2]}',
  ok: true,
  ...extra,
});

describe.each(Object.keys(SINKS))('%s sink', (name) => {
  it('writes idempotently on the dedupe key, within and across batches', async () => {
    const { sink, read } = await SINKS[name]!();
    await sink.ensureTable('raw.t', COLS, KEY);
    expect(await sink.write('raw.t', [row('A', 0), row('A', 1), row('A', 0)], KEY)).toEqual({ inserted: 2 });
    expect(await sink.write('raw.t', [row('A', 1), row('B', '9223372036854775807')], KEY)).toEqual({
      inserted: 1,
    });
    const rows = await read('raw.t');
    expect(rows).toHaveLength(3);
    if (name === 'engine') {
      expect(rows[0]).toEqual({
        _lsn: 'A',
        _seq: 0,
        id: 1,
        amount: 12.5,
        at: '2026-11-25T10:00:00.123456Z',
        day: '2026-11-25',
        doc: '{"a": [1, 2]}',
        ok: true,
      });
      expect((rows[2] as Record<string, unknown>)['_seq']).toBe('9223372036854775807');
    }
  });

  it('adds columns, widens compatible types and refuses incompatible ones', async () => {
    const { sink, read } = await SINKS[name]!();
    await sink.ensureTable('raw.t', COLS, KEY);
    await sink.write('raw.t', [row('A', 0)], KEY);
    await sink.ensureTable('raw.t', [...COLS, { name: 'extra', type: 'varchar' }], KEY);
    await sink.ensureTable(
      'raw.t',
      COLS.map((c) => (c.name === 'id' ? { name: 'id', type: 'decimal' as const } : c)),
      KEY,
    );
    expect((await sink.describe('raw.t'))?.find((c) => c.name === 'id')?.type).toBe('decimal');
    await expect(sink.ensureTable('raw.t', [{ name: 'ok', type: 'timestamp' }], KEY)).rejects.toBeInstanceOf(
      IncompatibleColumnError,
    );
    await sink.write('raw.t', [row('B', 0, { extra: 'x', id: '1.25' })], KEY);
    expect(((await read('raw.t')) as Record<string, unknown>[]).map((r) => [r['extra'], r['id']])).toEqual([
      [null, 1],
      ['x', name === 'engine' ? 1.25 : '1.25'],
    ]);
  });

  it('deduplicates quarantine on (source, origin), keeps checkpoints, discards snapshot rows', async () => {
    const { sink, read } = await SINKS[name]!();
    const rec = { source: 's', origin: 'f:1', reason: 'bad', raw: '{}' };
    await sink.quarantine([rec, rec]);
    await sink.quarantine([rec, { ...rec, origin: 'f:2' }]);
    if (name === 'engine')
      expect(await engine!.query('SELECT count(*) AS n FROM raw.quarantine')).toEqual([{ n: 2 }]);
    else expect((sink as MemorySink).quarantined.size).toBe(2);
    expect(await sink.getCheckpoint('k')).toBeUndefined();
    await sink.putCheckpoint('k', 'v1');
    await sink.putCheckpoint('k', 'v2');
    expect(await sink.getCheckpoint('k')).toBe('v2');
    await sink.ensureTable('raw.t', [...COLS, { name: '_op', type: 'varchar' }], KEY);
    await sink.write(
      'raw.t',
      [row('S', 1, { _op: 'r' }), row('S', 2, { _op: 'r' }), row('T', 0, { _op: 'c' })],
      KEY,
    );
    expect(await sink.discardSnapshot('raw.t', 'S')).toBe(2);
    expect(await read('raw.t')).toHaveLength(1);
    expect(await sink.discardSnapshot('raw.missing', 'S')).toBe(0);
  });
});

describe('planDrift', () => {
  it('classifies additions, drops, widenings and incompatible changes', () => {
    const existing: RawColumn[] = [
      { name: '_lsn', type: 'varchar' },
      { name: 'a', type: 'bigint' },
      { name: 'b', type: 'varchar' },
      { name: 'c', type: 'boolean' },
      { name: 'gone', type: 'date' },
    ];
    const plan = planDrift(
      existing,
      [
        { name: 'a', type: 'decimal' },
        { name: 'b', type: 'bigint' },
        { name: 'c', type: 'varchar' },
        { name: 'new', type: 'json' },
      ],
      true,
    );
    expect(plan).toEqual({
      add: [{ name: 'new', type: 'json' }],
      widen: [{ name: 'a', from: 'bigint', to: 'decimal' }],
      incompatible: [{ name: 'c', from: 'boolean', to: 'varchar' }],
      dropped: ['gone'],
    });
  });
});

describe('EngineRawSink staging', () => {
  it('lands awkward text exactly and refuses an unparseable timestamp instead of landing NULL', async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    const sink = new EngineRawSink(engine);
    const cols: RawColumn[] = [
      { name: 'k', type: 'varchar' },
      { name: 's', type: 'varchar' },
      { name: 'at', type: 'timestamp' },
    ];
    await sink.ensureTable('raw.stage', cols, ['k']);
    const texts = ['', 'a,"b"', 'line\nbreak', 'cr\rx', 'sep\u001fx', 'nul\u001dx', '\u001d', "it's", null];
    const rows = texts.map((s, i) => ({ k: `k${i}`, s, at: '2026-11-25T10:00:00.000001Z' }));
    // One batch per value, so each goes through delimited text or its JSON fallback on its own.
    for (const r of rows) expect(await sink.write('raw.stage', [r], ['k'])).toEqual({ inserted: 1 });
    const got = await engine.query<{ s: string | null; at: string }>(
      'SELECT s, "at" FROM raw.stage ORDER BY k',
    );
    expect(got.map((r) => r.s)).toEqual(texts);
    expect(new Set(got.map((r) => r.at))).toEqual(new Set(['2026-11-25T10:00:00.000001Z']));
    // read_csv alone would turn this into NULL; the staged SELECT casts and fails the whole batch.
    await expect(
      sink.write(
        'raw.stage',
        [
          { k: 'ok', s: 'x', at: '2026-11-25T10:00:00Z' },
          { k: 'bad', s: 'x', at: 'soon' },
        ],
        ['k'],
      ),
    ).rejects.toThrow(/soon/);
    expect(await engine.query('SELECT count(*)::INT AS n FROM raw.stage')).toEqual([{ n: texts.length }]);
  });
});

describe('EngineRawSink dedupe paths', () => {
  it('with pruneBy, skips landed keys in the batch range and settles a key outside it on the primary key', async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    const sink = new EngineRawSink(engine);
    const prune = { pruneBy: 'at' };
    await sink.ensureTable('raw.t', COLS, KEY);
    const batch = [row('A', 0), row('A', 1, { at: '2026-11-25T10:00:01Z' })];
    expect(await sink.write('raw.t', batch, KEY, prune)).toEqual({ inserted: 2 });
    expect(await sink.write('raw.t', batch, KEY, prune)).toEqual({ inserted: 0 }); // a replay
    // A key landed with a time outside the next batch's range: the pruned lookup misses it, the primary key
    // refuses it, and the batch is settled by INSERT OR IGNORE without losing its new row.
    const next = [row('A', 1, { at: '2026-11-25T11:00:00Z' }), row('B', 0, { at: '2026-11-25T11:00:00Z' })];
    expect(await sink.write('raw.t', next, KEY, prune)).toEqual({ inserted: 1 });
    expect(await engine.query('SELECT _lsn, _seq FROM raw.t ORDER BY _lsn, _seq')).toEqual([
      { _lsn: 'A', _seq: 0 },
      { _lsn: 'A', _seq: 1 },
      { _lsn: 'B', _seq: 0 },
    ]);
  });

  it('dedupes on the key of a table created without a key index', async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    const sink = new EngineRawSink(engine);
    await sink.ensureTable('raw.nokey', COLS, []);
    expect(await sink.write('raw.nokey', [row('A', 0), row('A', 1)], KEY)).toEqual({ inserted: 2 });
    expect(await sink.write('raw.nokey', [row('A', 1), row('A', 2)], KEY)).toEqual({ inserted: 1 });
    expect(await engine.query('SELECT count(*)::INT AS n FROM raw.nokey')).toEqual([{ n: 3 }]);
  });
});
