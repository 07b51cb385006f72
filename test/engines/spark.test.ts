import { describe, expect, it } from 'vitest';
import {
  PartitionMismatchError,
  SchemaEvolutionError,
  UnsupportedFeatureError,
} from '../../src/engines/errors.js';
import { sparkDialect } from '../../src/engines/spark/spark-dialect.js';
import { createSparkEngine } from '../../src/engines/spark/spark-engine.js';
import { sparkTypes } from '../../src/engines/spark/spark-types.js';
import type { EngineHooks } from '../../src/engines/core/context.js';
import type { Engine, PartitionSelector } from '../../src/engines/types.js';

/**
 * The Spark engine: rendering without a server, then on the real Spark SQL server over Iceberg
 * (scripts/services/spark.sh; `TESSERA_SPARK_URL`). Each engine here gets a catalog of its own, emptied on
 * close. SQL in these tests is Spark's (STRING, INT), the rest of the suite is in test/engines/conformance.
 */

const URL = process.env['TESSERA_SPARK_URL'];

describe('Spark dialect (no server)', () => {
  it('quotes with backticks and stages with CACHE TABLE', () => {
    expect(sparkDialect.table('core.dim_users')).toBe('`core`.`dim_users`');
    expect(sparkDialect.quote('we`ird')).toBe('`we``ird`');
    expect(sparkDialect.createTempTableAs('__s', 'SELECT 1 AS x')).toBe(
      'DROP VIEW IF EXISTS `__s`; CACHE TABLE `__s` AS SELECT 1 AS x',
    );
  });

  it("maps Spark's type spellings: TIMESTAMP is an instant, TIMESTAMP_NTZ a naive one", () => {
    expect(sparkTypes.parse('int')).toMatchObject({ family: 'integer', rank: 4 });
    expect(sparkTypes.parse('BIGINT')).toMatchObject({ family: 'integer', rank: 8 });
    expect(sparkTypes.parse('TIMESTAMP').family).toBe('timestamptz');
    expect(sparkTypes.parse('TIMESTAMP_NTZ').family).toBe('timestamp');
    expect(sparkTypes.parse('VARCHAR(10)').family).toBe('string');
    expect(sparkTypes.parse('DECIMAL(12,4)')).toMatchObject({ family: 'decimal', precision: 12, scale: 4 });
    expect(sparkTypes.parse('ARRAY<INT>').family).toBe('nested');
  });

  it('refuses SCD2 merges and publishing up front, naming the flag (no request reaches a server)', async () => {
    const e = await createSparkEngine({ type: 'spark', url: 'http://127.0.0.1:9' });
    const merge = e.mergeScd2FromSnapshot({
      target: 'core.dim_users',
      businessKey: ['id'],
      tracked: ['email'],
      snapshotSql: 'SELECT 1 AS id',
      snapshotTime: '2026-11-24T00:00:00Z',
    });
    await expect(merge).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await expect(merge).rejects.toMatchObject({ feature: 'supportsUpdateFrom' });
    await expect(
      e.createVersionedTable({ assetKey: 'marts.x', version: 'v1', selectSql: 'SELECT 1 AS x' }),
    ).rejects.toMatchObject({ feature: 'supportsTransactionalDdl' });
    await expect(
      e.flipPublishGroup({ group: 'finance', tables: { 'marts.x': 'marts.x@v1' } }),
    ).rejects.toMatchObject({
      feature: 'supportsTransactionalDdl',
    });
  });
});

const sales = (rows: readonly (readonly [string, number, number])[]): string =>
  `SELECT * FROM VALUES ${rows.map(([d, id, a]) => `('${d}', ${id}, CAST(${a} AS DOUBLE))`).join(', ')} AS v(day, id, amount)`;
const day = (d: string): PartitionSelector => ({ type: 'values', values: { day: d } });

async function withEngine(fn: (e: Engine, hooks: { step?: EngineHooks['afterStep'] }) => Promise<void>) {
  const hooks: { step?: EngineHooks['afterStep'] } = {};
  const e = await createSparkEngine(
    { type: 'spark', url: URL ?? '', isolated: true },
    { afterStep: async (op, s) => hooks.step?.(op, s) },
  );
  try {
    await fn(e, hooks);
  } finally {
    await e.close();
  }
}

describe.skipIf(!URL)('Spark engine on Iceberg', () => {
  it('replaces a partition whole in one commit, touching only its partition; versions by content', async () => {
    await withEngine(async (e) => {
      const first = await e.replacePartition({
        table: 'mart.sales',
        partition: day('d1'),
        selectSql: sales([
          ['d1', 1, 10],
          ['d1', 2, 20],
        ]),
      });
      await e.replacePartition({
        table: 'mart.sales',
        partition: day('d2'),
        selectSql: sales([['d2', 3, 30]]),
      });
      const again = await e.replacePartition({
        table: 'mart.sales',
        partition: day('d1'),
        selectSql: sales([
          ['d1', 2, 20],
          ['d1', 1, 10],
        ]),
      });
      expect(again.rowCount).toBe(2);
      expect(again.dataVersion).toBe(first.dataVersion);
      expect(await e.query('SELECT day, id, amount FROM mart.sales ORDER BY id')).toEqual([
        { day: 'd1', id: 1, amount: 10 },
        { day: 'd1', id: 2, amount: 20 },
        { day: 'd2', id: 3, amount: 30 },
      ]);
      // Every replace after the first is ONE snapshot (delete + insert together): readers never see it half done.
      const ops = await e.query<{ operation: string }>(
        'SELECT operation FROM mart.sales.snapshots ORDER BY committed_at',
      );
      expect(ops.map((o) => o.operation)).toEqual(['append', 'overwrite', 'overwrite']);
    });
  }, 600_000);

  it('keeps the old partition when the select fails, when rows fall outside it, and when the write dies', async () => {
    await withEngine(async (e, hooks) => {
      await e.replacePartition({
        table: 'mart.sales',
        partition: day('d1'),
        selectSql: sales([['d1', 1, 10]]),
      });
      await expect(
        e.replacePartition({
          table: 'mart.sales',
          partition: day('d1'),
          selectSql: sales([
            ['d1', 2, 20],
            ['d2', 3, 30],
          ]),
        }),
      ).rejects.toBeInstanceOf(PartitionMismatchError);
      await expect(
        e.replacePartition({
          table: 'mart.sales',
          partition: day('d1'),
          selectSql: `SELECT 'd1' AS day, 5 AS id, CAST('not a number' AS DOUBLE) AS amount`,
        }),
      ).rejects.toThrow(/CAST_INVALID_INPUT|cannot be cast/);
      hooks.step = (op, s) => {
        if (op === 'replacePartition' && s === 'deleted') throw new Error('injected: worker died');
      };
      await expect(
        e.replacePartition({ table: 'mart.sales', partition: day('d1'), selectSql: sales([['d1', 9, 90]]) }),
      ).rejects.toThrow('injected');
      hooks.step = undefined;
      expect(await e.query('SELECT day, id, amount FROM mart.sales')).toEqual([
        { day: 'd1', id: 1, amount: 10 },
      ]);
    });
  }, 600_000);

  it('evolves the schema (adds, keeps dropped, widens, refuses), describes, and converts values', async () => {
    await withEngine(async (e) => {
      await e.replaceTable({ table: 'core.t', selectSql: `SELECT 'a' AS code, CAST(1 AS INT) AS n` });
      expect(await e.describeTable('core.t')).toEqual([
        { name: 'code', type: 'STRING' },
        { name: 'n', type: 'INT' },
      ]);
      expect(await e.describeTable('core.missing')).toBeUndefined();
      const r = await e.replaceTable({
        table: 'core.t',
        selectSql: `SELECT CAST(2 AS BIGINT) AS n, 'web' AS channel`,
      });
      expect(r.schemaChanges).toEqual([
        { type: 'widen_column', column: 'n', oldType: 'INT', newType: 'BIGINT' },
        { type: 'add_column', column: 'channel', newType: 'STRING' },
        { type: 'keep_dropped', column: 'code', oldType: 'STRING' },
      ]);
      expect(await e.query('SELECT * FROM core.t')).toEqual([{ code: null, n: 2, channel: 'web' }]);
      await expect(e.replaceTable({ table: 'core.t', selectSql: `SELECT 'x' AS n` })).rejects.toBeInstanceOf(
        SchemaEvolutionError,
      );
      expect(
        await e.query(
          `SELECT CAST(42 AS BIGINT) AS small, CAST(9007199254740993 AS BIGINT) AS big, CAST(12.34 AS DECIMAL(10,2)) AS dec, ` +
            `TIMESTAMP '2026-11-24 13:05:00' AS ts, TIMESTAMP '2026-11-24 13:05:00.123456' AS ts_us, ` +
            `DATE '2026-11-24' AS d, CAST(NULL AS INT) AS nothing, ? AS param`,
          ['p'],
        ),
      ).toEqual([
        {
          small: 42,
          big: '9007199254740993',
          dec: 12.34,
          ts: '2026-11-24T13:05:00.000Z',
          ts_us: '2026-11-24T13:05:00.123456Z',
          d: '2026-11-24',
          nothing: null,
          param: 'p',
        },
      ]);
    });
  }, 600_000);

  it('runs checks', async () => {
    await withEngine(async (e) => {
      await e.replaceTable({
        table: 'core.t',
        selectSql: `SELECT * FROM VALUES (1), (1), (2), (NULL) AS v(id)`,
      });
      const unique = await e.runCheck({ type: 'unique', columns: ['id'] }, 'core.t');
      const notNull = await e.runCheck({ type: 'not_null', columns: ['id'] }, 'core.t');
      expect([unique.passed, unique.failingRows, notNull.failingRows]).toEqual([false, 2, 1]);
    });
  }, 600_000);
});
