import { describe, expect, it } from 'vitest';
import { EngineError, PartitionMismatchError } from '../../../src/engines/errors.js';
import type { Engine } from '../../../src/engines/types.js';
import { useEngine, suiteSql, type TestEngineFactory } from './helpers.js';

/** Both marts of a group at one version: revenue = 100 × v, roas = v. */
async function build(e: Engine, v: number): Promise<Record<string, string>> {
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
}

async function served(e: Engine): Promise<[unknown, unknown]> {
  const [r] = await e.query('SELECT total FROM marts.revenue');
  // Qualified: in GoogleSQL a bare name that is also the table's (`roas` of marts.roas) reads the whole row.
  const [s] = await e.query('SELECT m.roas FROM marts.roas AS m');
  return [r?.['total'], s?.['roas']];
}

export function publishSuite(factory: TestEngineFactory): void {
  const { engine, hooks } = useEngine(factory);
  const sql = suiteSql(factory.type);
  const flipsByHistoryRow = !sql.transactionalDdl;

  describe('versioned tables and publish groups', () => {
    it('names a publication after the asset and version', async () => {
      const r = await engine().createVersionedTable({
        assetKey: 'marts.revenue',
        version: 'Run 42/abc',
        selectSql: 'SELECT 1 AS x',
      });
      expect(r).toMatchObject({ table: 'marts.revenue@run_42_abc', rowCount: 1 });
    });

    it('flips every view of a group at once and records the history', async () => {
      const e = engine();
      const first = await e.flipPublishGroup({ group: 'finance', tables: await build(e, 1), runId: 'run-1' });
      expect(first).toMatchObject({ changed: true, state: { seq: 1, runId: 'run-1', rolledBack: false } });
      expect(await served(e)).toEqual([100, 1]);
      const second = await e.flipPublishGroup({ group: 'finance', tables: await build(e, 2), version: 'v2' });
      expect(second.state).toMatchObject({ seq: 2, version: 'v2' });
      expect(await served(e)).toEqual([200, 2]);
      const history = await e.publishHistory('finance');
      expect(history.map((h) => [h.seq, h.tables['marts.roas']])).toEqual([
        [1, 'marts.roas@v1'],
        [2, 'marts.roas@v2'],
      ]);
      expect(history[0]?.publishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('re-flipping to the tables already served changes nothing', async () => {
      const e = engine();
      const tables = await build(e, 1);
      await e.flipPublishGroup({ group: 'finance', tables });
      const again = await e.flipPublishGroup({ group: 'finance', tables });
      expect(again.changed).toBe(false);
      expect(await e.publishHistory('finance')).toHaveLength(1);
    });

    it('a failed blocking check means no flip: the old group is still served', async () => {
      const e = engine();
      await e.flipPublishGroup({ group: 'finance', tables: await build(e, 1) });
      await e.replaceTable({ table: 'marts.revenue__build', selectSql: 'SELECT 200 AS total' });
      const check = await e.runCheck({ type: 'row_count', max: 0 }, 'marts.revenue__build');
      expect(check.passed).toBe(false);
      // The caller does not flip.
      expect(await served(e)).toEqual([100, 1]);
    });

    it('readers never see a half-flipped group; a failure mid-flip leaves the old group', async () => {
      const e = engine();
      await e.flipPublishGroup({ group: 'finance', tables: await build(e, 1) });
      const v2 = await build(e, 2);
      const seenMidFlip: Record<string, unknown> = {};
      hooks.step = async (op, step) => {
        if (op === 'flip') seenMidFlip[step] = await served(e);
      };
      await e.flipPublishGroup({ group: 'finance', tables: v2 });
      expect(seenMidFlip).toEqual({
        // A view re-pointed (DuckDB) or checked (the others), nothing committed yet: readers see all old.
        'view:marts.revenue': [100, 1],
        'view:marts.roas': [100, 1],
        // After the history row: DuckDB's flip is one transaction that commits after this step, so readers
        // still see the old group. Engines without transactional DDL (Trino, Spark, BigQuery) flip by that
        // row, one commit that has just switched every view of the group (docs/engines.md).
        recorded: flipsByHistoryRow ? [200, 2] : [100, 1],
      });
      expect(await served(e)).toEqual([200, 2]);

      const v3 = await build(e, 3);
      hooks.step = (op, step) => {
        if (op === 'flip' && step === 'view:marts.revenue') throw new Error('injected: crash between views');
      };
      await expect(e.flipPublishGroup({ group: 'finance', tables: v3 })).rejects.toThrow('injected');
      expect(await served(e)).toEqual([200, 2]);
      expect(await e.publishHistory('finance')).toHaveLength(2);
    });

    it('rolls back to the previous version, then the one before; keeps the published rows', async () => {
      const e = engine();
      for (const v of [1, 2, 3]) await e.flipPublishGroup({ group: 'finance', tables: await build(e, v) });
      const back = await e.rollbackPublishGroup('finance');
      expect(back.state.seq).toBe(2);
      expect(await served(e)).toEqual([200, 2]);
      await e.rollbackPublishGroup('finance');
      expect(await served(e)).toEqual([100, 1]);
      await expect(e.rollbackPublishGroup('finance')).rejects.toThrow(/no earlier version/);
      expect((await e.publishHistory('finance')).map((h) => h.rolledBack)).toEqual([false, true, true]);
      expect(await e.query(`SELECT total FROM marts.__p_revenue WHERE __tessera_slice = 'v3'`)).toEqual([
        { total: 300 },
      ]);
      // Publishing again after rollbacks appends.
      const again = await e.flipPublishGroup({ group: 'finance', tables: await build(e, 4) });
      expect(again.state.seq).toBe(4);
      expect(await served(e)).toEqual([400, 4]);
    });

    it('a flip naming some members keeps serving the others', async () => {
      const e = engine();
      const v1 = await build(e, 1);
      await e.flipPublishGroup({ group: 'finance', tables: v1 });
      const v2 = await build(e, 2);
      const only = { 'marts.revenue': v2['marts.revenue'] ?? '' };
      const flip = await e.flipPublishGroup({ group: 'finance', tables: only });
      expect(flip.state.tables).toEqual({
        'marts.revenue': 'marts.revenue@v2',
        'marts.roas': 'marts.roas@v1',
      });
      expect(await served(e)).toEqual([200, 1]);
      await e.rollbackPublishGroup('finance');
      expect(await served(e)).toEqual([100, 1]);
    });

    it('refuses to flip over a table or to a missing table', async () => {
      const e = engine();
      await e.replaceTable({ table: 'marts.revenue', selectSql: 'SELECT 1 AS total' });
      const tables = await build(e, 1);
      await expect(e.flipPublishGroup({ group: 'finance', tables })).rejects.toThrow(
        /marts\.revenue is a table/,
      );
      await expect(
        e.flipPublishGroup({ group: 'other', tables: { 'marts.x': 'marts.__v_x__nope' } }),
      ).rejects.toBeInstanceOf(EngineError);
      await expect(
        e.flipPublishGroup({ group: 'other', tables: { 'marts.x': 'marts.x@never' } }),
      ).rejects.toThrow(/does not exist/);
    });
  });

  describe('published partitions', () => {
    /** Publishes the given days of `marts.daily` (rows: day, amount) as `version`, then flips `finance`. */
    async function publishDays(
      e: Engine,
      version: string,
      days: readonly string[],
      rows: readonly (readonly [string, number])[],
    ) {
      const r = await e.createVersionedTable({
        assetKey: 'marts.daily',
        version,
        selectSql: sql
          .values(
            [
              ['_partition_key', 'VARCHAR'],
              ['amount', 'INTEGER'],
            ],
            rows.length > 0 ? rows : [['none', 0]],
          )
          .concat(rows.length > 0 ? '' : ' WHERE 1 = 0'),
        partitions: { column: '_partition_key', keys: days },
      });
      const flip = await e.flipPublishGroup({ group: 'finance', tables: { 'marts.daily': r.table } });
      return { r, flip };
    }
    const servedDays = async (e: Engine) =>
      e.query('SELECT _partition_key, amount FROM marts.daily ORDER BY _partition_key, amount');
    const stored = async (e: Engine) =>
      Number((await e.query('SELECT count(*) AS n FROM marts.__p_daily'))[0]?.['n']);

    it('serves exactly the published partitions; a republish replaces only its own', async () => {
      const e = engine();
      await publishDays(e, 'v1', ['d1'], [['d1', 10]]);
      expect(await servedDays(e)).toEqual([{ _partition_key: 'd1', amount: 10 }]);
      await publishDays(
        e,
        'v2',
        ['d2'],
        [
          ['d2', 20],
          ['d2', 21],
        ],
      );
      expect(await servedDays(e)).toEqual([
        { _partition_key: 'd1', amount: 10 },
        { _partition_key: 'd2', amount: 20 },
        { _partition_key: 'd2', amount: 21 },
      ]);
      const { r } = await publishDays(e, 'v3', ['d2'], [['d2', 22]]);
      expect(r.partitions).toEqual({ d2: { rowCount: 1, dataVersion: r.dataVersion, reused: false } });
      expect(await servedDays(e)).toEqual([
        { _partition_key: 'd1', amount: 10 },
        { _partition_key: 'd2', amount: 22 },
      ]);
      // Only the changed partition was appended: 1 + 2 + 1 rows stored for three publications.
      expect(await stored(e)).toBe(4);
      await e.rollbackPublishGroup('finance');
      expect(await servedDays(e)).toEqual([
        { _partition_key: 'd1', amount: 10 },
        { _partition_key: 'd2', amount: 20 },
        { _partition_key: 'd2', amount: 21 },
      ]);
    });

    it('writes nothing for a partition whose content is already stored; a retry writes nothing again', async () => {
      const e = engine();
      await publishDays(e, 'v1', ['d1'], [['d1', 10]]);
      const again = await publishDays(e, 'v2', ['d1'], [['d1', 10]]);
      expect(again.r.partitions['d1']?.reused).toBe(true);
      expect(again.flip.changed).toBe(false);
      expect(await stored(e)).toBe(1);
      const retry = await publishDays(e, 'v1', ['d1'], [['d1', 99]]);
      expect(retry.r.partitions['d1']).toMatchObject({ rowCount: 1, reused: false });
      expect(await servedDays(e)).toEqual([{ _partition_key: 'd1', amount: 10 }]);
      expect(await stored(e)).toBe(1);
    });

    it('publishes a listed partition without rows as empty; refuses rows outside the listed partitions', async () => {
      const e = engine();
      await publishDays(
        e,
        'v1',
        ['d1', 'd2'],
        [
          ['d1', 10],
          ['d2', 20],
        ],
      );
      await publishDays(e, 'v2', ['d2'], []);
      expect(await servedDays(e)).toEqual([{ _partition_key: 'd1', amount: 10 }]);
      await expect(publishDays(e, 'v3', ['d3'], [['d4', 40]])).rejects.toBeInstanceOf(PartitionMismatchError);
      expect(await servedDays(e)).toEqual([{ _partition_key: 'd1', amount: 10 }]);
    });

    it('keeps serving older partitions when the store gains a column', async () => {
      const e = engine();
      await publishDays(e, 'v1', ['d1'], [['d1', 10]]);
      const published = e.createVersionedTable({
        assetKey: 'marts.daily',
        version: 'v2',
        selectSql: `SELECT 'd2' AS _partition_key, 20 AS amount, 'new' AS note`,
        partitions: { column: '_partition_key', keys: ['d2'] },
      });
      if (!sql.addsColumns) {
        // The BigQuery emulator never sees an added column (SuiteSql.addsColumns): the publication fails and
        // the group keeps serving v1.
        await expect(published).rejects.toThrow(/Column note is not present in table/);
        expect(await e.query('SELECT _partition_key, amount FROM marts.daily')).toEqual([
          { _partition_key: 'd1', amount: 10 },
        ]);
        return;
      }
      const r = await published;
      await e.flipPublishGroup({ group: 'finance', tables: { 'marts.daily': r.table } });
      expect(await e.query('SELECT _partition_key, amount, note FROM marts.daily ORDER BY 1')).toEqual([
        { _partition_key: 'd1', amount: 10, note: null },
        { _partition_key: 'd2', amount: 20, note: 'new' },
      ]);
    });
  });
}
