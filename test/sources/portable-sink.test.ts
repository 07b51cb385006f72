/**
 * The portable raw sink on the real server engines here (Trino over Iceberg, the BigQuery emulator, Spark over
 * Iceberg): idempotent writes by dedupe key (also from two writers at once), statement-sized batches, exact
 * decimals, additive drift and the refusal of incompatible changes, quarantine, checkpoints, discardSnapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableTestEngines, type Engine, type EngineType } from '../../src/engines/index.js';
import { engineDialect, IncompatibleColumnError, PortableRawSink } from '../../src/sources/sinks/index.js';
import type { RawColumn, RawRow } from '../../src/sources/types.js';

const servers = (await availableTestEngines()).filter((e) => e.type !== 'duckdb');

const COLUMNS: readonly RawColumn[] = [
  { name: 'id', type: 'bigint' },
  { name: 'name', type: 'varchar' },
  { name: 'amount', type: 'decimal' },
  { name: 'at', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'rate', type: 'double' },
  { name: 'ok', type: 'boolean' },
  { name: 'doc', type: 'json' },
];
const row = (id: number, extra: Partial<Record<string, RawRow[string]>> = {}): RawRow => ({
  id,
  name: `n'${id}\\"x"\nü`,
  amount: `${id}234567890123456789.0123456789`,
  at: `2026-11-24T10:00:00.${String(id % 1000).padStart(3, '0')}456Z`,
  day: '2026-11-24',
  rate: id % 2 === 0 ? -0.5 : 1e21,
  ok: id % 2 === 0,
  doc: JSON.stringify({ id, tags: ['a', 'b'] }),
  ...extra,
});

describe.each(servers.map((s) => s.type))('PortableRawSink on %s', (type: EngineType) => {
  let engine: Engine;
  beforeAll(async () => {
    const found = servers.find((s) => s.type === type);
    if (!found) throw new Error(`${type} is not available`);
    engine = await found.create();
  }, 180_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('writes each key once, in statement-sized batches, with exact values', async () => {
    const sink = new PortableRawSink(engine, { statementBudget: 3_000 });
    await sink.ensureTable('raw.sink_rows', COLUMNS, ['id']);
    const rows = Array.from({ length: 40 }, (_, i) => row(i + 1));
    expect(await sink.write('raw.sink_rows', rows, ['id'])).toEqual({ inserted: 40 });
    // A replay, and a batch overlapping it, insert only what is new.
    expect(await sink.write('raw.sink_rows', rows, ['id'])).toEqual({ inserted: 0 });
    expect(await sink.write('raw.sink_rows', [row(40), row(41), row(41)], ['id'])).toEqual({ inserted: 1 });
    const d = engineDialect(engine);
    const text = d.portable.types.text;
    const got = await engine.query<{
      id: number;
      name: string;
      amount: string;
      at: string;
      rate: number;
      ok: boolean;
    }>(
      `SELECT ${d.quote('id')} AS ${d.quote('id')}, ${d.quote('name')}, CAST(${d.quote('amount')} AS ${text}) AS ${d.quote('amount')}, ` +
        `${d.quote('at')}, ${d.quote('rate')}, ${d.quote('ok')} FROM ${d.table('raw.sink_rows')} ORDER BY ${d.quote('id')}`,
    );
    expect(got).toHaveLength(41);
    expect(got[6]).toMatchObject({ id: 7, name: row(7)['name'], at: row(7)['at'], rate: 1e21, ok: false });
    expect(got[7]).toMatchObject({ rate: -0.5, ok: true });
    // Money is exact: 38 digits, 10 of them fractional (BigQuery: BIGNUMERIC prints no trailing zeros).
    expect(got[6]?.amount.replace(/0+$/, '')).toBe('7234567890123456789.0123456789');
  }, 300_000);

  // Spark plans an insert-only MERGE as an unvalidated append: one writer per table there (portable-sink.ts).
  it.skipIf(type === 'spark')(
    'two writers at once never duplicate a key (a lost commit race is run again)',
    async () => {
      // A second Engine object: its writes are not queued behind the first one's in this process.
      const twin = new Proxy(engine, {});
      const a = new PortableRawSink(engine);
      const b = new PortableRawSink(twin);
      await a.ensureTable('raw.sink_race', COLUMNS, ['id']);
      const batch = (from: number) => Array.from({ length: 30 }, (_, i) => row(from + i));
      const results = await Promise.all([
        a.write('raw.sink_race', batch(1), ['id']),
        b.write('raw.sink_race', batch(16), ['id']),
        a.write('raw.sink_race', batch(31), ['id']),
        b.write('raw.sink_race', batch(11), ['id']),
      ]);
      const d = engineDialect(engine);
      const [c] = await engine.query<{ n: number; k: number }>(
        `SELECT count(*) AS n, count(DISTINCT ${d.quote('id')}) AS k FROM ${d.table('raw.sink_race')}`,
      );
      expect(c).toEqual({ n: 60, k: 60 });
      if (type === 'trino') expect(results.reduce((s, r) => s + r.inserted, 0)).toBe(60);
    },
    300_000,
  );

  it('adds new columns, refuses incompatible type changes and widenings Iceberg cannot make', async () => {
    const sink = new PortableRawSink(engine);
    await sink.ensureTable('raw.sink_drift', COLUMNS.slice(0, 2), ['id']);
    await expect(
      sink.ensureTable('raw.sink_drift', [{ name: 'id', type: 'varchar' }], ['id']),
    ).rejects.toBeInstanceOf(IncompatibleColumnError);
    if (type !== 'bigquery') {
      // The emulator never shows columns added to an existing table; BigQuery itself does.
      await sink.ensureTable(
        'raw.sink_drift',
        [...COLUMNS.slice(0, 2), { name: 'extra', type: 'varchar' }],
        ['id'],
      );
      expect((await sink.describe('raw.sink_drift'))?.map((c) => c.name)).toEqual(['id', 'name', 'extra']);
      await expect(
        sink.ensureTable('raw.sink_drift', [{ name: 'id', type: 'decimal' }], ['id']),
      ).rejects.toBeInstanceOf(IncompatibleColumnError);
      expect(
        await sink.write(
          'raw.sink_drift',
          [
            { id: 1, name: 'a', extra: 'x' },
            { id: 2, name: 'b' },
          ],
          ['id'],
        ),
      ).toEqual({
        inserted: 2,
      });
    }
  }, 300_000);

  it('quarantines once per (source, origin), keeps checkpoints, discards a snapshot', async () => {
    const sink = new PortableRawSink(engine);
    const bad = { source: 's', origin: 'f.tsv:3', reason: 'field_count: 2', raw: "a\tb'c" };
    await sink.quarantine([bad, { ...bad, origin: 'f.tsv:4' }]);
    await sink.quarantine([bad]);
    const d = engineDialect(engine);
    const q = await engine.query<{ origin: string; raw: string }>(
      `SELECT ${d.quote('origin')}, ${d.quote('raw')} FROM ${d.table('raw.quarantine')} ORDER BY ${d.quote('origin')}`,
    );
    expect(q).toEqual([
      { origin: 'f.tsv:3', raw: "a\tb'c" },
      { origin: 'f.tsv:4', raw: "a\tb'c" },
    ]);

    expect(await sink.getCheckpoint('snap:x')).toBeUndefined();
    await sink.putCheckpoint('snap:x', '{"lsn":"1"}');
    await sink.putCheckpoint('snap:x', '{"lsn":"2"}');
    expect(await sink.getCheckpoint('snap:x')).toBe('{"lsn":"2"}');

    const cols: RawColumn[] = [
      { name: '_lsn', type: 'varchar' },
      { name: '_seq', type: 'bigint' },
      { name: '_op', type: 'varchar' },
    ];
    await sink.ensureTable('raw.sink_changes', cols, ['_lsn', '_seq']);
    await sink.write(
      'raw.sink_changes',
      [
        { _lsn: '00A', _seq: 0, _op: 'r' },
        { _lsn: '00A', _seq: 1, _op: 'r' },
        { _lsn: '00B', _seq: 0, _op: 'c' },
      ],
      ['_lsn', '_seq'],
    );
    expect(await sink.discardSnapshot('raw.sink_changes', '00A')).toBe(2);
    expect(await sink.discardSnapshot('raw.sink_missing', '00A')).toBe(0);
  }, 300_000);
});
