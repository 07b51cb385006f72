import { describe, expect, it } from 'vitest';
import { Scd2InputError } from '../../../src/engines/errors.js';
import type { Engine, Row, Scd2ChangesMergeRequest } from '../../../src/engines/types.js';
import { useEngine, suiteSql, type SuiteSql, type TestEngineFactory } from './helpers.js';

/** A change row: id, name, city, commit time ('2026-01-0D HH'), lsn, op. */
export type ChangeRow = readonly [number, string | null, string | null, string, number, string];

export function changesSql(rows: readonly ChangeRow[], sql: SuiteSql = suiteSql('duckdb')): string {
  return sql.values(
    [
      ['id', 'INTEGER'],
      ['name', 'VARCHAR'],
      ['city', 'VARCHAR'],
      ['ts', 'TIMESTAMP'],
      ['lsn', 'BIGINT'],
      ['op', 'VARCHAR'],
    ],
    rows,
  );
}

export const mergeReq = (
  rows: readonly ChangeRow[],
  target = 'core.dim_users',
  sql: SuiteSql = suiteSql('duckdb'),
): Scd2ChangesMergeRequest => ({
  target,
  changes: changesSql(rows, sql),
  businessKey: ['id'],
  tracked: ['name', 'city'],
  orderBy: 'lsn',
  commitTimeColumn: 'ts',
  opColumn: 'op',
});

/** The interesting columns of every version, ordered by key and valid_from. */
export async function versions(e: Engine, table = 'core.dim_users'): Promise<Row[]> {
  return e.query(
    `SELECT id, name, city, valid_from, valid_to, is_current, is_deleted, source_lsn FROM ${table} ORDER BY id, valid_from`,
  );
}

const T = (h: string): string => `2026-01-01T${h}:00:00.000Z`;
const v = (
  id: number,
  name: string | null,
  city: string | null,
  from: string,
  to: string | null,
  lsn: number,
  deleted = false,
): Row => ({
  id,
  name,
  city,
  valid_from: T(from),
  valid_to: to === null ? null : T(to),
  is_current: to === null,
  is_deleted: deleted,
  source_lsn: lsn,
});
const at = (h: string): string => `2026-01-01 ${h}:00:00`;

export function scd2Suite(factory: TestEngineFactory): void {
  const { engine } = useEngine(factory);
  const sql = suiteSql(factory.type);
  const changes = (rows: readonly ChangeRow[]): string => changesSql(rows, sql);
  const merge = (rows: readonly ChangeRow[], target?: string): Scd2ChangesMergeRequest =>
    mergeReq(rows, target, sql);

  describe('mergeScd2FromChanges', () => {
    it('builds versions in commit order with valid_to chained and NULL while current', async () => {
      const e = engine();
      const r = await e.mergeScd2FromChanges(
        merge([
          [1, 'ann', 'paris', at('02'), 2, 'u'],
          [1, 'ann', 'oslo', at('01'), 1, 'c'],
          [2, 'bob', 'rome', at('01'), 3, 'c'],
        ]),
      );
      expect(r).toMatchObject({ appliedChanges: 3, insertedVersions: 3, rowCount: 3 });
      expect(await versions(e)).toEqual([
        v(1, 'ann', 'oslo', '01', '02', 1),
        v(1, 'ann', 'paris', '02', null, 2),
        v(2, 'bob', 'rome', '01', null, 3),
      ]);
    });

    it('collapses several changes of a key at one commit time to the last by ordering', async () => {
      const e = engine();
      await e.mergeScd2FromChanges(
        merge([
          [1, 'ann', 'oslo', at('01'), 1, 'c'],
          [1, 'ann', 'rome', at('02'), 3, 'u'],
          [1, 'ann', 'lima', at('02'), 2, 'u'],
        ]),
      );
      expect(await versions(e)).toEqual([
        v(1, 'ann', 'oslo', '01', '02', 1),
        v(1, 'ann', 'rome', '02', null, 3),
      ]);
    });

    it('makes no version when the tracked attributes did not change', async () => {
      const e = engine();
      await e.mergeScd2FromChanges(merge([[1, 'ann', 'oslo', at('01'), 1, 'c']]));
      const r = await e.mergeScd2FromChanges(merge([[1, 'ann', 'oslo', at('02'), 2, 'u']]));
      expect(r.insertedVersions).toBe(0);
      expect(await versions(e)).toEqual([v(1, 'ann', 'oslo', '01', null, 1)]);
    });

    it('treats NULL as a value: NULL → x and x → NULL are changes', async () => {
      const e = engine();
      await e.mergeScd2FromChanges(
        merge([
          [1, 'ann', null, at('01'), 1, 'c'],
          [1, 'ann', 'oslo', at('02'), 2, 'u'],
          [1, 'ann', null, at('03'), 3, 'u'],
          [1, 'ann', null, at('04'), 4, 'u'],
        ]),
      );
      expect((await versions(e)).map((row) => row['city'])).toEqual([null, 'oslo', null]);
    });

    it('closes the current version on delete, keeps a deleted current version, and revives', async () => {
      const e = engine();
      await e.mergeScd2FromChanges(merge([[1, 'ann', 'oslo', at('01'), 1, 'c']]));
      await e.mergeScd2FromChanges(merge([[1, 'ann', 'oslo', at('02'), 2, 'd']]));
      expect(await versions(e)).toEqual([
        v(1, 'ann', 'oslo', '01', '02', 1),
        v(1, 'ann', 'oslo', '02', null, 2, true),
      ]);
      // A second delete, and a delete of a key never seen, change nothing.
      const noop = await e.mergeScd2FromChanges(
        merge([
          [1, 'ann', 'oslo', at('03'), 3, 'd'],
          [7, null, null, at('03'), 4, 'd'],
        ]),
      );
      expect(noop.insertedVersions).toBe(0);
      // Revived with the very same attributes: still a new version.
      await e.mergeScd2FromChanges(merge([[1, 'ann', 'oslo', at('04'), 5, 'c']]));
      expect(await versions(e)).toEqual([
        v(1, 'ann', 'oslo', '01', '02', 1),
        v(1, 'ann', 'oslo', '02', '04', 2, true),
        v(1, 'ann', 'oslo', '04', null, 5),
      ]);
    });

    it('is idempotent: merging the same batch again changes nothing', async () => {
      const e = engine();
      const batch = merge([
        [1, 'ann', 'oslo', at('01'), 1, 'c'],
        [1, 'ann', 'rome', at('02'), 2, 'u'],
        [2, 'bob', 'rome', at('02'), 3, 'c'],
      ]);
      const first = await e.mergeScd2FromChanges(batch);
      const before = await versions(e);
      const again = await e.mergeScd2FromChanges(batch);
      expect(again).toMatchObject({ appliedChanges: 0, insertedVersions: 0, dataVersion: first.dataVersion });
      expect(await versions(e)).toEqual(before);
    });

    it('re-derives a key whose commit is split across batches (same commit time, later ordering)', async () => {
      const whole = engine();
      const log: ChangeRow[] = [
        [1, 'ann', 'oslo', at('01'), 1, 'c'],
        [1, 'ann', 'rome', at('02'), 2, 'u'],
        [1, 'ann', 'oslo', at('02'), 3, 'u'], // same commit: back to oslo → no version at 02 at all
        [2, 'bob', 'rome', at('02'), 4, 'c'],
        [2, 'bob', 'lima', at('02'), 5, 'u'],
      ];
      await whole.mergeScd2FromChanges(merge(log, 'core.whole'));
      await whole.mergeScd2FromChanges(merge(log.slice(0, 2), 'core.split'));
      await whole.mergeScd2FromChanges(merge(log.slice(2, 4), 'core.split'));
      const last = await whole.mergeScd2FromChanges(merge(log.slice(4), 'core.split'));
      expect(last.rederivedKeys).toBe(1);
      expect(await versions(whole, 'core.split')).toEqual(await versions(whole, 'core.whole'));
      expect(await versions(whole, 'core.whole')).toEqual([
        v(1, 'ann', 'oslo', '01', null, 1),
        v(2, 'bob', 'lima', '02', null, 5),
      ]);
    });

    it('rejects a batch committed before the newest version, and malformed changes', async () => {
      const e = engine();
      await e.mergeScd2FromChanges(merge([[1, 'ann', 'oslo', at('05'), 10, 'c']]));
      await expect(e.mergeScd2FromChanges(merge([[2, 'bob', 'rome', at('03'), 11, 'c']]))).rejects.toThrow(
        /committed before the table's newest version/,
      );
      await expect(
        e.mergeScd2FromChanges(merge([[2, 'bob', 'rome', at('06'), 12, 'x']])),
      ).rejects.toBeInstanceOf(Scd2InputError);
      await expect(e.mergeScd2FromChanges(merge([[2, 'bob', 'rome', at('06'), 12, 'x']]))).rejects.toThrow(
        /op other than/,
      );
      const nullKey = {
        ...merge([]),
        changes: `SELECT CAST(NULL AS ${sql.t('INTEGER')}) AS id, 'x' AS name, 'y' AS city, ${sql.ts('2026-01-01 07:00:00')} AS ts, CAST(13 AS ${sql.t('BIGINT')}) AS lsn, 'u' AS op`,
      };
      await expect(e.mergeScd2FromChanges(nullKey)).rejects.toThrow(/NULL business key/);
      expect(await versions(e)).toEqual([v(1, 'ann', 'oslo', '05', null, 10)]);
    });

    it('adds a newly tracked column to an existing target', async () => {
      const e = engine();
      await e.mergeScd2FromChanges(merge([[1, 'ann', 'oslo', at('01'), 1, 'c']]));
      const merged = e.mergeScd2FromChanges({
        ...merge([]),
        changes: `SELECT c.*, CAST('gold' AS ${sql.t('VARCHAR')}) AS tier FROM (${changes([[1, 'ann', 'oslo', at('02'), 2, 'u']])}) AS c`,
        tracked: ['name', 'city', 'tier'],
      });
      if (!sql.addsColumns) {
        // The BigQuery emulator never sees an added column (SuiteSql.addsColumns): the merge fails. Its
        // transaction script is not atomic either (docs/engines.md): the close that ran before the failing
        // insert stays, so the key has no current version; BigQuery rolls the whole script back.
        await expect(merged).rejects.toThrow(/Column tier is not present in table/);
        expect(await e.query('SELECT id, is_current FROM core.dim_users')).toEqual([
          { id: 1, is_current: false },
        ]);
        return;
      }
      await merged;
      const rows = await e.query('SELECT id, tier, is_current FROM core.dim_users ORDER BY valid_from');
      expect(rows).toEqual([
        { id: 1, tier: null, is_current: false },
        { id: 1, tier: 'gold', is_current: true },
      ]);
    });

    it('writes dbt column names', async () => {
      const e = engine();
      await e.mergeScd2FromChanges({
        ...merge([
          [1, 'ann', 'oslo', at('01'), 1, 'c'],
          [1, 'ann', 'rome', at('02'), 2, 'u'],
        ]),
        columnNames: 'dbt',
      });
      const cols = (await e.describeTable('core.dim_users'))?.map((c) => c.name);
      expect(cols).toEqual([
        'id',
        'name',
        'city',
        'dbt_valid_from',
        'dbt_valid_to',
        'is_current',
        'dbt_is_deleted',
        'source_lsn',
        'row_hash',
        'dbt_scd_id',
        'dbt_updated_at',
      ]);
      const rows = await e.query(
        'SELECT dbt_valid_from, dbt_valid_to, dbt_updated_at, dbt_scd_id FROM core.dim_users ORDER BY dbt_valid_from',
      );
      expect(rows.map((r) => [r['dbt_valid_from'], r['dbt_valid_to'], r['dbt_updated_at']])).toEqual([
        [T('01'), T('02'), T('01')],
        [T('02'), null, T('02')],
      ]);
      expect(new Set(rows.map((r) => r['dbt_scd_id'])).size).toBe(2);
      const check = await e.runCheck({ type: 'scd2_intervals' }, 'core.dim_users', {
        scd2: { businessKey: ['id'], columnNames: 'dbt' },
      });
      expect(check.passed).toBe(true);
    });
  });

  describe('mergeScd2FromSnapshot', () => {
    const snap = (rows: readonly (readonly [number, string, string])[]): string =>
      sql.values(
        [
          ['id', 'INTEGER'],
          ['name', 'VARCHAR'],
          ['city', 'VARCHAR'],
        ],
        rows,
      );
    const req = (rows: readonly (readonly [number, string, string])[], time: string) => ({
      target: 'core.dim_users',
      snapshotSql: snap(rows),
      businessKey: ['id'],
      tracked: ['name', 'city'],
      snapshotTime: time,
    });

    it('versions changed keys, deletes vanished ones, revives returning ones; re-runs are no-ops', async () => {
      const e = engine();
      await e.mergeScd2FromSnapshot(
        req(
          [
            [1, 'ann', 'oslo'],
            [2, 'bob', 'rome'],
          ],
          T('01'),
        ),
      );
      await e.mergeScd2FromSnapshot(
        req(
          [
            [1, 'ann', 'lima'],
            [3, 'cy', 'nice'],
          ],
          T('02'),
        ),
      );
      const again = await e.mergeScd2FromSnapshot(
        req(
          [
            [1, 'ann', 'lima'],
            [3, 'cy', 'nice'],
          ],
          T('02'),
        ),
      );
      expect(again.insertedVersions).toBe(0);
      await e.mergeScd2FromSnapshot(
        req(
          [
            [1, 'ann', 'lima'],
            [2, 'bob', 'rome'],
            [3, 'cy', 'nice'],
          ],
          T('03'),
        ),
      );
      const rows = (await versions(e)).map((r) => [
        r['id'],
        r['city'],
        r['valid_from'],
        r['valid_to'],
        r['is_deleted'],
      ]);
      expect(rows).toEqual([
        [1, 'oslo', T('01'), T('02'), false],
        [1, 'lima', T('02'), null, false],
        [2, 'rome', T('01'), T('02'), false],
        [2, 'rome', T('02'), T('03'), true],
        [2, 'rome', T('03'), null, false],
        [3, 'nice', T('02'), null, false],
      ]);
      const check = await e.runCheck({ type: 'scd2_intervals' }, 'core.dim_users', {
        scd2: { businessKey: ['id'] },
      });
      expect(check).toMatchObject({ passed: true, failingRows: 0 });
    });

    it('refuses a snapshot with duplicate keys', async () => {
      await expect(
        engine().mergeScd2FromSnapshot(
          req(
            [
              [1, 'ann', 'oslo'],
              [1, 'ann', 'rome'],
            ],
            T('01'),
          ),
        ),
      ).rejects.toThrow(/appearing more than once/);
    });
  });

  describe('snapshotAsOf', () => {
    it('returns the live, non-deleted versions at any instant', async () => {
      const e = engine();
      await e.mergeScd2FromChanges(
        merge([
          [1, 'ann', 'oslo', at('01'), 1, 'c'],
          [2, 'bob', 'rome', at('01'), 2, 'c'],
          [1, 'ann', 'lima', at('03'), 3, 'u'],
          [2, 'bob', 'rome', at('04'), 4, 'd'],
          [2, 'bob', 'nice', at('06'), 5, 'c'],
        ]),
      );
      const asOf = async (iso: string): Promise<unknown[]> =>
        (
          await e.query(
            `${e.snapshotAsOfSql({ scd2Table: 'core.dim_users', asOf: iso, columns: ['id', 'city'] })} ORDER BY id`,
          )
        ).map((r) => `${String(r['id'])}:${String(r['city'])}`);
      expect(await asOf('2026-01-01T00:30:00Z')).toEqual([]);
      expect(await asOf(T('01'))).toEqual(['1:oslo', '2:rome']); // valid_from is inclusive
      expect(await asOf('2026-01-01T02:59:59.999Z')).toEqual(['1:oslo', '2:rome']);
      expect(await asOf(T('03'))).toEqual(['1:lima', '2:rome']); // valid_to is exclusive
      expect(await asOf(T('05'))).toEqual(['1:lima']); // deleted: gone
      expect(await asOf('2026-01-01T08:00:00+02:00')).toEqual(['1:lima', '2:nice']); // offsets read as instants
    });
  });
}
