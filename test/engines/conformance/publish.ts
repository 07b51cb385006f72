import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engines/errors.js';
import type { Engine } from '../../../src/engines/types.js';
import { useEngine, type TestEngineFactory } from './helpers.js';

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
  const [s] = await e.query('SELECT roas FROM marts.roas');
  return [r?.['total'], s?.['roas']];
}

export function publishSuite(factory: TestEngineFactory): void {
  const { engine, hooks } = useEngine(factory);

  describe('versioned tables and publish groups', () => {
    it('names physical tables after the asset and version', async () => {
      const r = await engine().createVersionedTable({
        assetKey: 'marts.revenue',
        version: 'Run 42/abc',
        selectSql: 'SELECT 1 AS x',
      });
      expect(r).toMatchObject({ table: 'marts.__v_revenue__run_42_abc', rowCount: 1 });
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
        [1, 'marts.__v_roas__v1'],
        [2, 'marts.__v_roas__v2'],
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
      const next = await build(e, 2);
      const check = await e.runCheck({ type: 'row_count', max: 0 }, next['marts.revenue'] ?? '');
      expect(check.passed).toBe(false);
      // The caller does not flip.
      expect(await served(e)).toEqual([100, 1]);
    });

    it('readers never see a half-flipped group; a failure mid-flip leaves the old group', async () => {
      const e = engine();
      await e.flipPublishGroup({ group: 'finance', tables: await build(e, 1) });
      const v2 = await build(e, 2);
      const seenMidFlip: unknown[] = [];
      hooks.step = async (op, step) => {
        if (op === 'flip' && step === 'view:marts.revenue') seenMidFlip.push(await served(e));
      };
      await e.flipPublishGroup({ group: 'finance', tables: v2 });
      expect(seenMidFlip).toEqual([[100, 1]]); // one view replaced, not committed: others see all old
      expect(await served(e)).toEqual([200, 2]);

      const v3 = await build(e, 3);
      hooks.step = (op, step) => {
        if (op === 'flip' && step === 'view:marts.revenue') throw new Error('injected: crash between views');
      };
      await expect(e.flipPublishGroup({ group: 'finance', tables: v3 })).rejects.toThrow('injected');
      expect(await served(e)).toEqual([200, 2]);
      expect(await e.publishHistory('finance')).toHaveLength(2);
    });

    it('rolls back to the previous version, then the one before; keeps the physical tables', async () => {
      const e = engine();
      for (const v of [1, 2, 3]) await e.flipPublishGroup({ group: 'finance', tables: await build(e, v) });
      const back = await e.rollbackPublishGroup('finance');
      expect(back.state.seq).toBe(2);
      expect(await served(e)).toEqual([200, 2]);
      await e.rollbackPublishGroup('finance');
      expect(await served(e)).toEqual([100, 1]);
      await expect(e.rollbackPublishGroup('finance')).rejects.toThrow(/no earlier version/);
      expect((await e.publishHistory('finance')).map((h) => h.rolledBack)).toEqual([false, true, true]);
      expect(await e.query('SELECT total FROM marts.__v_revenue__v3')).toEqual([{ total: 300 }]);
      // Publishing again after rollbacks appends.
      const again = await e.flipPublishGroup({ group: 'finance', tables: await build(e, 4) });
      expect(again.state.seq).toBe(4);
      expect(await served(e)).toEqual([400, 4]);
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
    });
  });
}
