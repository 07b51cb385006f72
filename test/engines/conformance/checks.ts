import { describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../../src/dsl/types.js';
import type { Engine } from '../../../src/engines/types.js';
import { useEngine, suiteSql, type SuiteSql, type TestEngineFactory } from './helpers.js';

async function seed(e: Engine, sql: SuiteSql): Promise<void> {
  await e.replaceTable({
    table: 'core.orders',
    selectSql: sql.values(
      [
        ['id', 'INTEGER'],
        ['user_id', 'INTEGER'],
        ['status', 'VARCHAR'],
        ['day', 'VARCHAR'],
        ['created_at', 'TIMESTAMP'],
      ],
      [
        [1, 10, 'paid', 'd1', '2026-11-24 10:00:00'],
        [2, 10, 'paid', 'd1', '2026-11-24 11:00:00'],
        [2, 11, 'refunded', 'd2', '2026-11-25 09:00:00'],
        [3, null, 'lost', 'd2', '2026-11-25 10:00:00'],
        [4, 99, null, 'd2', '2026-11-25 11:00:00'],
      ],
    ),
  });
  await e.replaceTable({ table: 'core.users', selectSql: sql.values([['id', 'INTEGER']], [[10], [11]]) });
}

export function checksSuite(factory: TestEngineFactory): void {
  const { engine } = useEngine(factory);
  const sql = suiteSql(factory.type);

  describe('runCheck', () => {
    const cases: readonly (readonly [string, CheckSpec, boolean, number])[] = [
      ['unique fails on a duplicate', { type: 'unique', columns: ['id'] }, false, 2],
      ['unique passes on a compound key', { type: 'unique', columns: ['id', 'day'] }, true, 0],
      ['not_null counts NULL rows', { type: 'not_null', columns: ['user_id', 'status'] }, false, 2],
      ['row_count within bounds', { type: 'row_count', min: 1, max: 5 }, true, 0],
      ['row_count outside bounds', { type: 'row_count', min: 6 }, false, 1],
      [
        'relationship finds orphans (NULLs ignored)',
        { type: 'relationship', column: 'user_id', to: 'core.users', toColumn: 'id' },
        false,
        1,
      ],
      [
        'accepted_values (NULLs ignored)',
        { type: 'accepted_values', column: 'status', values: ['paid', 'refunded'] },
        false,
        1,
      ],
      [
        'custom sql returns failing rows',
        { type: 'sql', sql: `SELECT * FROM core.orders WHERE status = 'lost'` },
        false,
        1,
      ],
      [
        'custom sql passes on no rows',
        { type: 'sql', sql: `SELECT * FROM core.orders WHERE id > 100` },
        true,
        0,
      ],
    ];
    for (const [title, check, passed, failing] of cases) {
      it(title, async () => {
        const e = engine();
        await seed(e, sql);
        const r = await e.runCheck(check, 'core.orders');
        expect(r).toMatchObject({ passed, failingRows: failing });
        expect(r.detail.length).toBeGreaterThan(0);
      });
    }

    it('names checks like the DSL, and honours the given name', async () => {
      const e = engine();
      await seed(e, sql);
      expect((await e.runCheck({ type: 'unique', columns: ['id'] }, 'core.orders')).name).toBe('unique(id)');
      expect((await e.runCheck({ type: 'row_count', min: 1, name: 'has_rows' }, 'core.orders')).name).toBe(
        'has_rows',
      );
    });

    it('restricts to a partition', async () => {
      const e = engine();
      await seed(e, sql);
      const d1 = { type: 'values', values: { day: 'd1' } } as const;
      expect(
        await e.runCheck({ type: 'not_null', columns: ['user_id', 'status'] }, 'core.orders', {
          partition: d1,
        }),
      ).toMatchObject({ passed: true });
      const window = {
        type: 'window',
        column: 'created_at',
        start: '2026-11-25T00:00:00Z',
        end: '2026-11-26T00:00:00Z',
      } as const;
      expect(
        await e.runCheck({ type: 'row_count', max: 3 }, 'core.orders', { partition: window }),
      ).toMatchObject({ passed: true });
      expect(
        await e.runCheck(
          { type: 'relationship', column: 'user_id', to: 'core.users', toColumn: 'id' },
          'core.orders',
          { partition: d1 },
        ),
      ).toMatchObject({ passed: true });
    });

    it('freshness compares the newest value with the given now', async () => {
      const e = engine();
      await seed(e, sql);
      const check: CheckSpec = { type: 'freshness', column: 'created_at', maxLagMinutes: 60 };
      expect(await e.runCheck(check, 'core.orders', { now: '2026-11-25T11:30:00Z' })).toMatchObject({
        passed: true,
      });
      const late = await e.runCheck(check, 'core.orders', { now: '2026-11-25T13:00:00Z' });
      expect(late).toMatchObject({ passed: false, failingRows: 1 });
      expect(late.detail).toContain('2026-11-25');
    });

    it('quarantine_rate bounds quarantined / (kept + quarantined)', async () => {
      const e = engine();
      await seed(e, sql);
      await e.replaceTable({ table: 'core.orders_quarantine', selectSql: `SELECT 'bad json' AS reason` });
      const opts = { quarantineTable: 'core.orders_quarantine' };
      expect(await e.runCheck({ type: 'quarantine_rate', max: 0.2 }, 'core.orders', opts)).toMatchObject({
        passed: true,
      });
      expect(await e.runCheck({ type: 'quarantine_rate', max: 0.1 }, 'core.orders', opts)).toMatchObject({
        passed: false,
      });
      await expect(e.runCheck({ type: 'quarantine_rate', max: 0.1 }, 'core.orders')).rejects.toThrow(
        /quarantineTable/,
      );
    });

    it('scd2_intervals catches overlaps, gaps, two current rows and inverted intervals', async () => {
      const e = engine();
      const ts = (h: number | null): string | null => (h === null ? null : `2026-01-01 0${h}:00:00`);
      const table = (rows: readonly (readonly [number, number, number | null, boolean])[]): string =>
        sql.values(
          [
            ['id', 'INTEGER'],
            ['valid_from', 'TIMESTAMP'],
            ['valid_to', 'TIMESTAMP'],
            ['is_current', 'BOOLEAN'],
          ],
          rows.map(([id, f, t, c]) => [id, ts(f), ts(t), c]),
        );
      const opts = { scd2: { businessKey: ['id'] } };
      const run = async (rows: readonly (readonly [number, number, number | null, boolean])[]) => {
        await e.replaceTable({ table: 'core.dim', selectSql: table(rows) });
        return (await e.runCheck({ type: 'scd2_intervals' }, 'core.dim', opts)).failingRows;
      };
      expect(
        await run([
          [1, 1, 2, false],
          [1, 2, null, true],
          [2, 1, null, true],
        ]),
      ).toBe(0);
      expect(
        await run([
          [1, 1, 3, false],
          [1, 2, null, true],
        ]),
      ).toBe(1); // overlap
      expect(
        await run([
          [1, 1, 2, false],
          [1, 3, null, true],
        ]),
      ).toBe(1); // gap
      expect(
        await run([
          [1, 1, 2, true],
          [1, 2, null, true],
        ]),
      ).toBe(1); // two current
      expect(await run([[1, 3, 2, false]])).toBe(1); // inverted and not current
      expect(
        await run([
          [1, 1, null, true],
          [1, 1, null, true],
        ]),
      ).toBe(2); // same start twice
      await expect(e.runCheck({ type: 'scd2_intervals' }, 'core.dim')).rejects.toThrow(/businessKey/);
    });
  });
}
