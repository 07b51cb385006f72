import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReadOnlyQuery } from '../../src/activities/query.js';
import { asset, defineDefinitions } from '../../src/dsl/index.js';
import { SchemaEvolutionError } from '../../src/engines/errors.js';
import { ENGINES } from '../../src/engines/registry.js';
import { createTrinoEngine, type TrinoEngine } from '../../src/engines/trino/trino-engine.js';
import type { Engine } from '../../src/engines/types.js';
import { valuesSql } from './conformance/helpers.js';

/**
 * What Trino over Iceberg guarantees beyond the conformance suite, and where it differs from DuckDB
 * (docs/engines.md, "Trino"): readers never see a half-done replace or flip (a reader loop against a
 * writer, interleaved by counts, no sleeps), Iceberg's stored types and narrower widenings, time travel.
 * Runs when scripts/services/trino.sh started a server (TESSERA_TRINO_URL).
 */
const config = await ENGINES.trino.testConfig();

// Every statement is a round trip and every write an Iceberg commit: minutes on a busy 2-core machine.
describe.skipIf(!config)('trino over iceberg', { timeout: 300_000 }, () => {
  let engine: TrinoEngine;
  beforeAll(async () => {
    if (config) engine = await createTrinoEngine(config);
  });
  afterAll(async () => {
    await engine?.close();
  });

  /** Partition d1 at version k: 3 + k rows, every amount = k. */
  const version = (k: number): string =>
    valuesSql(
      [
        ['day', 'VARCHAR'],
        ['id', 'INTEGER'],
        ['amount', 'INTEGER'],
      ],
      Array.from({ length: 3 + k }, (_, i) => ['d1', i, k] as const),
    );

  /**
   * Runs `writes` one after another while a reader loops on `read`; each write waits until the reader
   * finished a read that started after the previous write, so reads interleave with every write.
   * Returns what the reader saw.
   */
  async function readWhileWriting<T>(
    writes: readonly (() => Promise<unknown>)[],
    read: () => Promise<T>,
  ): Promise<T[]> {
    const seen: T[] = [];
    let done = false;
    let reads = 0;
    let wake: (() => void) | undefined;
    const reader = (async () => {
      while (!done) {
        seen.push(await read());
        reads++;
        wake?.();
      }
    })();
    try {
      for (const write of writes) {
        await write();
        // The next write starts only after a read that began after this one finished (the read in
        // flight when it finished may have begun before).
        const after = reads + 2;
        while (reads < after) await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      done = true;
      await reader;
    }
    return seen;
  }

  it('a reader never sees a half-replaced partition', async () => {
    const e: Engine = engine;
    await e.replacePartition({
      table: 'mart.sales',
      partition: { type: 'values', values: { day: 'd1' } },
      selectSql: version(1),
    });
    await e.replacePartition({
      table: 'mart.sales',
      partition: { type: 'values', values: { day: 'd2' } },
      selectSql: `SELECT CAST('d2' AS VARCHAR) AS day, 99 AS id, 99 AS amount`,
    });
    const writes = [2, 3, 4, 5].map(
      (k) => () =>
        e.replacePartition({
          table: 'mart.sales',
          partition: { type: 'values', values: { day: 'd1' } },
          selectSql: version(k),
        }),
    );
    const seen = await readWhileWriting(writes, async () => {
      const [row] = await e.query(
        `SELECT count_if(day = 'd1') AS n, min(CASE WHEN day = 'd1' THEN amount END) AS lo, ` +
          `max(CASE WHEN day = 'd1' THEN amount END) AS hi, count_if(day = 'd2') AS other FROM mart.sales`,
      );
      return row ?? {};
    });
    // Every read: one version whole (3 + k rows, all amount k), the other partition untouched.
    for (const s of seen) {
      expect(s['lo']).toBe(s['hi']);
      expect(s['n']).toBe(3 + Number(s['lo']));
      expect(s['other']).toBe(1);
    }
    expect(seen.length).toBeGreaterThanOrEqual(writes.length * 2);
    expect(new Set(seen.map((s) => s['lo'])).size).toBeGreaterThanOrEqual(3);
  });

  it('a reader of several views of a group sees all old or all new, across flips and a rollback', async () => {
    const e: Engine = engine;
    const build = async (v: number): Promise<Record<string, string>> => {
      const revenue = await e.createVersionedTable({
        assetKey: 'marts.revenue',
        version: `v${v}`,
        selectSql: `SELECT ${100 * v} AS total`,
      });
      const roas = await e.createVersionedTable({
        assetKey: 'marts.roas',
        version: `v${v}`,
        selectSql: `SELECT ${v} AS roas`,
      });
      return { 'marts.revenue': revenue.table, 'marts.roas': roas.table };
    };
    const builds = [];
    for (const v of [1, 2, 3]) builds.push(await build(v));
    await e.flipPublishGroup({ group: 'finance', tables: builds[0] ?? {} });
    const writes = [
      ...builds.slice(1).map((tables) => () => e.flipPublishGroup({ group: 'finance', tables })),
      () => e.rollbackPublishGroup('finance'),
    ];
    const seen = await readWhileWriting(writes, async () => {
      const [row] = await e.query(
        `SELECT (SELECT max(total) FROM marts.revenue) AS total, (SELECT max(roas) FROM marts.roas) AS roas, ` +
          `(SELECT count(*) FROM marts.revenue) + (SELECT count(*) FROM marts.roas) AS n`,
      );
      return row ?? {};
    });
    for (const s of seen) {
      expect(s['n']).toBe(2);
      expect(s['total']).toBe(100 * Number(s['roas']));
    }
    // Reads after each write: v2, v3, then v2 again (rolled back).
    expect(new Set(seen.map((s) => s['roas'])).size).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toMatchObject({ roas: 2, total: 200 });
  });

  it('a flip naming some members: a reader sees the others served throughout, and the rollback', async () => {
    // Views follow the group's live version, so a member the flip does not name must be carried into it.
    const e: Engine = engine;
    const publish = async (assetKey: string, v: number): Promise<string> =>
      (await e.createVersionedTable({ assetKey, version: `v${v}`, selectSql: `SELECT ${v} AS x` })).table;
    await e.flipPublishGroup({
      group: 'ops',
      tables: { 'ops.a': await publish('ops.a', 1), 'ops.b': await publish('ops.b', 1) },
    });
    const ids: string[] = [];
    for (const v of [2, 3]) ids.push(await publish('ops.a', v));
    const writes = [
      ...ids.map((id) => () => e.flipPublishGroup({ group: 'ops', tables: { 'ops.a': id } })),
      () => e.rollbackPublishGroup('ops'),
    ];
    const seen = await readWhileWriting(writes, async () => {
      const [row] = await e.query(
        `SELECT (SELECT max(x) FROM ops.a) AS a, (SELECT max(x) FROM ops.b) AS b, ` +
          `(SELECT count(*) FROM ops.a) + (SELECT count(*) FROM ops.b) AS n`,
      );
      return row ?? {};
    });
    for (const s of seen) {
      expect(s['n']).toBe(2);
      expect(s['b']).toBe(1);
    }
    expect(new Set(seen.map((s) => s['a'])).size).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toMatchObject({ a: 2, b: 1 });
    const history = await e.publishHistory('ops');
    expect(history.map((h) => [h.tables['ops.a'], h.tables['ops.b'], h.rolledBack])).toEqual([
      ['ops.a@v1', 'ops.b@v1', false],
      ['ops.a@v2', 'ops.b@v1', false],
      ['ops.a@v3', 'ops.b@v1', true],
    ]);
  });

  it('stores Iceberg types: small integers as INTEGER, timestamps in microseconds', async () => {
    const e: Engine = engine;
    await e.replaceTable({
      table: 'core.types',
      selectSql: `SELECT CAST(1 AS SMALLINT) AS s, CAST('2026-01-01 00:00:00' AS TIMESTAMP) AS ts, CAST('x' AS CHAR(3)) AS c`,
    });
    expect(await e.describeTable('core.types')).toEqual([
      { name: 's', type: 'INTEGER' },
      { name: 'ts', type: 'TIMESTAMP(6)' },
      { name: 'c', type: 'VARCHAR' },
    ]);
    const added = await e.replaceTable({
      table: 'core.types',
      selectSql: `SELECT CAST(2 AS SMALLINT) AS s, CAST('2026-01-01 00:00:00.123' AS TIMESTAMP(3)) AS ts, CAST(3 AS TINYINT) AS t`,
    });
    expect(added.schemaChanges).toContainEqual({ type: 'add_column', column: 't', newType: 'INTEGER' });
    expect(await e.query('SELECT s, ts, c, t FROM core.types')).toEqual([
      { s: 2, ts: '2026-01-01T00:00:00.123Z', c: null, t: 3 },
    ]);
  });

  it('widens only what Iceberg can promote; other widenings are refused before any DDL', async () => {
    const e: Engine = engine;
    await e.replaceTable({
      table: 'core.money',
      selectSql: `SELECT CAST(1.5 AS DECIMAL(10,2)) AS amount, CAST(1 AS REAL) AS r`,
    });
    expect(
      await e.evolveSchema(
        'core.money',
        `SELECT CAST(1.5 AS DECIMAL(14,2)) AS amount, CAST(1 AS DOUBLE) AS r`,
      ),
    ).toEqual([
      { type: 'widen_column', column: 'amount', oldType: 'DECIMAL(10,2)', newType: 'DECIMAL(14,2)' },
      { type: 'widen_column', column: 'r', oldType: 'REAL', newType: 'DOUBLE' },
    ]);
    // DuckDB widens DECIMAL(14,2) + DECIMAL(12,4) to DECIMAL(16,4); Iceberg cannot change a scale.
    const scale = e.evolveSchema('core.money', `SELECT CAST(1.5 AS DECIMAL(12,4)) AS amount`);
    await expect(scale).rejects.toBeInstanceOf(SchemaEvolutionError);
    await expect(scale).rejects.toThrow(/Iceberg can only widen/);
    expect(await e.describeTable('core.money')).toEqual([
      { name: 'amount', type: 'DECIMAL(14,2)' },
      { name: 'r', type: 'DOUBLE' },
    ]);
  });

  it('time travel: a table as Iceberg committed it at an instant', async () => {
    await engine.replaceTable({ table: 'core.tt', selectSql: `SELECT 1 AS v` });
    const [first] = await engine.query(`SELECT max(committed_at) AS at FROM core."tt$snapshots"`);
    await engine.replaceTable({ table: 'core.tt', selectSql: `SELECT 2 AS v` });
    const at = String(first?.['at']);
    expect(await engine.query(engine.tableAsOfSql('core.tt', at))).toEqual([{ v: 1 }]);
    const [last] = await engine.query(`SELECT max(committed_at) AS at FROM core."tt$snapshots"`);
    expect(await engine.query(engine.tableAsOfSql('core.tt', String(last?.['at'])))).toEqual([{ v: 2 }]);
    await expect(engine.query(engine.tableAsOfSql('core.tt', '2000-01-01T00:00:00Z'))).rejects.toThrow(
      /No version history/,
    );
  });

  it('tessera query --committed-at reads the assets as Iceberg committed them, marts refused', async () => {
    await engine.replaceTable({ table: 'core.facts', selectSql: `SELECT 1 AS v` });
    const [first] = await engine.query(
      `SELECT to_iso8601(max(committed_at)) AS at FROM core."facts$snapshots"`,
    );
    await engine.replaceTable({ table: 'core.facts', selectSql: `SELECT 2 AS v UNION ALL SELECT 3` });
    const defs = defineDefinitions({
      assets: [
        asset({ key: 'core.facts', kind: 'fact', sql: 'select 1 as v' }),
        asset({ key: 'reporting.mart', kind: 'mart', deps: ['core.facts'], sql: 'select * from core.facts' }),
      ],
    });
    const at = String(first?.['at']);
    const then = await runReadOnlyQuery(engine, defs, {
      sql: 'select sum(v) as total from core.facts',
      limit: 10,
      committedAt: at,
    });
    expect(then.rows).toEqual([{ total: 1 }]);
    expect(then.committedAtAssets).toEqual(['core.facts']);
    const now = await runReadOnlyQuery(engine, defs, {
      sql: 'select sum(v) as total from core.facts',
      limit: 10,
    });
    expect(now.rows).toEqual([{ total: 5 }]);
    await expect(
      runReadOnlyQuery(engine, defs, { sql: 'select * from reporting.mart', limit: 10, committedAt: at }),
    ).rejects.toThrow(/reads none/);
  });
});
