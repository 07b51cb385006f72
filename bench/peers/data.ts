/**
 * The SCD2 benchmark's data, generated once into one DuckDB file that every tool then reads
 * (bench/peers/run.ts copies it per tool and round).
 *
 * An entity of `rows` keys with six columns (id, name, email, city, tier, balance). Each day about
 * `rate × rows` keys change: 98 % updates (name, city, tier and balance change), 1 % deletes and 1 % brand-new
 * keys. Deterministic: keys are picked by DuckDB's `hash(id, day)`, so the same flags give the same file.
 *
 * Tables (schema `src`):
 * - `snap_<d>`: the full state on day d (d = 0 … days); what snapshot-based tools read;
 * - `changes_<d>`: the day's change batch (`_op` 'r' on day 0, then 'u'/'c'/'d'; `_lsn`, `_commit_time`);
 * - `log`: every batch so far with its `_day` and a text `_pos` (what an `scd2` asset reads in production:
 *   the whole raw change log, ordered by `_lsn || lpad(_seq)`).
 * Day d's commit time is 2026-01-01 + d days.
 */
import type { SqlSession } from '../../src/engines/core/client.js';

export interface EntitySpec {
  readonly rows: number;
  readonly days: number;
  readonly rate: number;
}

export const ENTITY_COLUMNS = ['id', 'name', 'email', 'city', 'tier', 'balance'] as const;
export const TRACKED = ENTITY_COLUMNS.slice(1);
export const DAY0 = '2026-01-01 00:00:00';
export const commitTime = (day: number): string =>
  new Date(Date.parse(`${DAY0}Z`) + day * 86_400_000).toISOString().replace('T', ' ').slice(0, 19);

/** Counts the generator aims at for one day (the hash picks give about these). */
export function dailyCounts(spec: EntitySpec): { updates: number; deletes: number; inserts: number } {
  const perDay = spec.rows * spec.rate;
  return {
    updates: Math.round(perDay * 0.98),
    deletes: Math.round(perDay * 0.01),
    inserts: Math.round(perDay * 0.01),
  };
}

export async function generateEntity(db: SqlSession, spec: EntitySpec): Promise<void> {
  const { rows, days } = spec;
  const { updates, deletes, inserts } = dailyCounts(spec);
  // Per million: keys whose hash falls below `del` are deleted, below `del + upd` updated.
  const del = Math.round((deletes / rows) * 1e6);
  const upd = Math.round((updates / rows) * 1e6);
  await db.run(`CREATE SCHEMA IF NOT EXISTS src`);
  await db.run(
    `CREATE OR REPLACE TABLE src.snap_0 AS SELECT range AS id, 'name_' || range AS name, ` +
      `'user' || range || '@example.com' AS email, 'city_' || (range % 1000) AS city, ` +
      `CAST(range % 7 AS INTEGER) AS tier, CAST((range % 100000) / 100 AS DECIMAL(14, 2)) AS balance FROM range(${rows})`,
  );
  const cols = ENTITY_COLUMNS.join(', ');
  await db.run(
    `CREATE OR REPLACE TABLE src.changes_0 AS SELECT ${cols}, 'r' AS _op, ` +
      `lpad(CAST(id AS VARCHAR), 16, '0') AS _lsn, TIMESTAMP '${DAY0}' AS _commit_time FROM src.snap_0`,
  );
  for (let d = 1; d <= days; d++) {
    const prev = `src.snap_${d - 1}`;
    const pick = `hash(id, ${d}) % 1000000`;
    const ts = `TIMESTAMP '${commitTime(d)}'`;
    // LSNs grow with the day, so the whole log stays in commit order; 16 characters, as a raw log's `_lsn`.
    const lsn = (expr: string): string =>
      `lpad(CAST(${d} AS VARCHAR), 4, '0') || lpad(CAST(${expr} AS VARCHAR), 12, '0')`;
    await db.run(
      `CREATE OR REPLACE TABLE src.changes_${d} AS ` +
        `SELECT id, 'name_' || id || '_' || ${d} AS name, email, 'city_' || ((id + ${d}) % 1000) AS city, ` +
        `CAST((tier + 1) % 7 AS INTEGER) AS tier, CAST(balance + ${d} AS DECIMAL(14, 2)) AS balance, 'u' AS _op, ` +
        `${lsn('id')} AS _lsn, ${ts} AS _commit_time FROM ${prev} WHERE ${pick} >= ${del} AND ${pick} < ${del + upd} ` +
        `UNION ALL SELECT ${cols}, 'd', ${lsn('id')}, ${ts} FROM ${prev} WHERE ${pick} < ${del} ` +
        `UNION ALL SELECT id, 'name_' || id, 'user' || id || '@example.com', 'city_' || (id % 1000), ` +
        `CAST(id % 7 AS INTEGER), CAST(${d} AS DECIMAL(14, 2)), 'c', ${lsn('id')}, ${ts} ` +
        `FROM (SELECT ${rows} + ${(d - 1) * inserts} + range AS id FROM range(${inserts}))`,
    );
    await db.run(
      `CREATE OR REPLACE TABLE src.snap_${d} AS ` +
        `SELECT p.* FROM ${prev} AS p ANTI JOIN src.changes_${d} AS c ON c.id = p.id ` +
        `UNION ALL SELECT ${cols} FROM src.changes_${d} WHERE _op <> 'd' ORDER BY id`,
    );
  }
  await db.run(
    `CREATE OR REPLACE TABLE src.log AS ` +
      Array.from(
        { length: days + 1 },
        (_, d) =>
          `SELECT ${cols}, _op, _lsn, CAST(0 AS BIGINT) AS _seq, _commit_time, ${d} AS _day FROM src.changes_${d}`,
      ).join(' UNION ALL ') +
      ` ORDER BY _lsn`,
  );
  await db.run('CHECKPOINT');
}
