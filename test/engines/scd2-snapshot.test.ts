import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { epochMicros } from '../../src/engines/dialect/scd2.js';
import { createDuckDbEngine } from '../../src/engines/duckdb/duckdb-engine.js';
import type { Engine, Row } from '../../src/engines/types.js';
import { changesSql, mergeReq, versions, type ChangeRow } from './conformance/scd2.js';

/**
 * The fast paths of the SCD2 merges on the embedded engine: snapshot merges (one diff comparing columns,
 * duplicate keys found from counts, the first load as one INSERT) against an independent model of the
 * semantics, including a change of the tracked columns (every key then gets a version, as when versions
 * were found by comparing stored hashes); and the change-log merge's late window.
 */

type Snap = ReadonlyMap<number, { readonly name: string; readonly city: string | null }>;

const base = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });
const iso = (hour: number): string => base.plus({ hours: hour }).toISO() ?? '';

function snapshotSql(s: Snap, withTier: boolean): string {
  const rows = [...s.entries()].map(
    ([id, r]) =>
      `(${id}, '${r.name}', ${r.city === null ? 'CAST(NULL AS VARCHAR)' : `'${r.city}'`}${withTier ? `, 'gold'` : ''})`,
  );
  const cols = `id, name, city${withTier ? ', tier' : ''}`;
  if (rows.length === 0) {
    return `SELECT CAST(1 AS INTEGER) AS id, 'x' AS name, 'y' AS city${withTier ? `, 'gold' AS tier` : ''} WHERE FALSE`;
  }
  return `SELECT * FROM (VALUES ${rows.join(', ')}) AS v(${cols})`;
}

/** Per key: a version when it appears, returns, or changes; a deleted version when it vanishes. */
function model(snaps: readonly Snap[], tierFrom: number): Row[] {
  const ids = [...new Set(snaps.flatMap((s) => [...s.keys()]))].sort((a, b) => a - b);
  const out: Row[] = [];
  for (const id of ids) {
    const kept: { name: string; city: string | null; hour: number; deleted: boolean }[] = [];
    snaps.forEach((s, hour) => {
      const prev = kept[kept.length - 1];
      const now = s.get(id);
      if (now) {
        const changed =
          !prev || prev.deleted || prev.name !== now.name || prev.city !== now.city || hour === tierFrom;
        if (changed) kept.push({ ...now, hour, deleted: false });
      } else if (prev && !prev.deleted) {
        kept.push({ name: prev.name, city: prev.city, hour, deleted: true });
      }
    });
    kept.forEach((k, i) => {
      const next = kept[i + 1];
      out.push({
        id,
        name: k.name,
        city: k.city,
        valid_from: iso(k.hour),
        valid_to: next ? iso(next.hour) : null,
        is_current: !next,
        is_deleted: k.deleted,
        source_lsn: Number(epochMicros('duckdb', iso(k.hour))),
      });
    });
  }
  return out;
}

const snapArb = fc
  .array(
    fc.tuple(
      fc.integer({ min: 1, max: 6 }),
      fc.constantFrom('ann', 'bob'),
      fc.constantFrom<string | null>('oslo', 'rome', null),
    ),
    { maxLength: 6 },
  )
  .map((xs): Snap => new Map(xs.map(([id, name, city]) => [id, { name, city }])));

async function withEngine<T>(fn: (e: Engine) => Promise<T>): Promise<T> {
  const e = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
  try {
    return await fn(e);
  } finally {
    await e.close();
  }
}

const fingerprintFromTable = async (e: Engine): Promise<string> => {
  // The data version recomputed from the table (scd2-state.ts): count and hash sum of the version columns.
  const [r] = await e.query(
    `SELECT md5(CAST(count(*) AS VARCHAR) || ':' || CAST(coalesce(sum(hash(id, valid_from, valid_to, is_deleted, source_lsn, row_hash)), 0) AS VARCHAR)) AS v FROM core.dim`,
  );
  return String(r?.['v']);
};

describe('SCD2 snapshot merges (embedded engine)', () => {
  it('a sequence of snapshots gives the model’s versions; a change of tracked columns versions every key', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(snapArb, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 6 }),
        async (snaps, tierFrom) =>
          withEngine(async (e) => {
            let last = '';
            for (const [hour, s] of snaps.entries()) {
              const withTier = hour >= tierFrom;
              const r = await e.mergeScd2FromSnapshot({
                target: 'core.dim',
                snapshotSql: snapshotSql(s, withTier),
                snapshotTime: iso(hour),
                businessKey: ['id'],
                tracked: withTier ? ['name', 'city', 'tier'] : ['name', 'city'],
              });
              last = r.dataVersion;
            }
            expect(await versions(e, 'core.dim')).toEqual(model(snaps, tierFrom));
            expect(last).toBe(await fingerprintFromTable(e));
            const check = await e.runCheck({ type: 'scd2_intervals' }, 'core.dim', {
              scd2: { businessKey: ['id'] },
            });
            expect(check.failingRows).toBe(0);
          }),
      ),
      { numRuns: 25 },
    );
  }, 180_000);

  it('refuses duplicate keys in a snapshot merged into an existing target, and changes nothing', async () => {
    await withEngine(async (e) => {
      const req = (sql: string, hour: number) => ({
        target: 'core.dim',
        snapshotSql: sql,
        snapshotTime: iso(hour),
        businessKey: ['id'],
        tracked: ['name', 'city'],
      });
      const first = await e.mergeScd2FromSnapshot(
        req(`SELECT * FROM (VALUES (1, 'ann', 'oslo'), (2, 'bob', 'rome')) AS v(id, name, city)`, 1),
      );
      const before = await versions(e, 'core.dim');
      // An unchanged key twice (no version would show it), a changed key twice, a new key twice.
      for (const rows of [
        `(1, 'ann', 'oslo'), (1, 'ann', 'oslo'), (2, 'bob', 'rome')`,
        `(1, 'ann', 'lima'), (1, 'ann', 'nice'), (2, 'bob', 'rome')`,
        `(1, 'ann', 'oslo'), (2, 'bob', 'rome'), (3, 'cy', 'a'), (3, 'cy', 'b')`,
      ]) {
        await expect(
          e.mergeScd2FromSnapshot(req(`SELECT * FROM (VALUES ${rows}) AS v(id, name, city)`, 2)),
        ).rejects.toThrow(/1 business key\(s\) \(id\) appearing more than once/);
      }
      expect(await versions(e, 'core.dim')).toEqual(before);
      const again = await e.mergeScd2FromSnapshot(
        req(`SELECT * FROM (VALUES (1, 'ann', 'oslo'), (2, 'bob', 'rome')) AS v(id, name, city)`, 3),
      );
      expect(again).toMatchObject({ insertedVersions: 0, dataVersion: first.dataVersion });
    });
  });

  it('compares floating-point columns as text, as the stored hashes did (-0 and 0 differ)', async () => {
    await withEngine(async (e) => {
      const req = (score: string, hour: number) => ({
        target: 'core.dim',
        snapshotSql: `SELECT 1 AS id, CAST('${score}' AS DOUBLE) AS score`,
        snapshotTime: iso(hour),
        businessKey: ['id'],
        tracked: ['score'],
      });
      await e.mergeScd2FromSnapshot(req('0.0', 1));
      const r = await e.mergeScd2FromSnapshot(req('-0.0', 2));
      expect(r.insertedVersions).toBe(1);
    });
  });
});

describe('SCD2 change-log merge with a late window (embedded engine)', () => {
  const at = (h: string): string => `2026-01-01 ${h}:00:00`;
  const log: ChangeRow[] = [
    [1, 'ann', 'oslo', at('01'), 1, 'c'],
    [2, 'bob', 'rome', at('01'), 2, 'c'],
    [1, 'ann', 'lima', at('05'), 3, 'u'],
    [2, 'bob', 'rome', at('06'), 4, 'd'],
    [3, 'cy', 'nice', at('08'), 5, 'c'],
  ];

  it('merging a growing log with the window gives what merging it without does', async () => {
    await withEngine(async (e) => {
      for (let n = 1; n <= log.length; n++) {
        const whole = changesSql(log.slice(0, n));
        await e.mergeScd2FromChanges({
          ...mergeReq([], 'core.windowed'),
          changes: whole,
          lateWindowSeconds: 3600,
        });
        await e.mergeScd2FromChanges({ ...mergeReq([], 'core.plain'), changes: whole });
      }
      expect(await versions(e, 'core.windowed')).toEqual(await versions(e, 'core.plain'));
      expect((await versions(e, 'core.windowed')).length).toBe(5);
    });
  });

  it('refuses a late change inside the window; one older than the window is not read', async () => {
    await withEngine(async (e) => {
      const req = (rows: ChangeRow[]) => ({ ...mergeReq(rows, 'core.late'), lateWindowSeconds: 3600 });
      await e.mergeScd2FromChanges(req(log));
      await expect(
        e.mergeScd2FromChanges(req([...log, [4, 'dan', 'oslo', '2026-01-01 07:30:00', 6, 'c']])),
      ).rejects.toThrow(/committed before the table's newest version/);
      const skipped = await e.mergeScd2FromChanges(req([...log, [4, 'dan', 'oslo', at('06'), 6, 'c']]));
      expect(skipped.appliedChanges).toBe(0);
    });
  });
});
