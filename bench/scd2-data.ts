/**
 * The SCD2 benchmark's data, generated once in SQL inside a DuckDB file so every tool (Tessera, the
 * hand-written statements, dbt and SQLMesh in bench/peers) reads the very same rows.
 *
 * An entity of six columns (id, name, email, city, tier, score). Day 0 holds `rows` keys; each later day
 * about `rate × live keys` keys change: 98 % updates (city and score change), 1 % deletes, and as many
 * brand-new keys as deletes (about 1 %). Keys are picked by a per-day hash, each at most once a day.
 *
 * Tables (in `schema`):
 * - `snap_<d>`, d = 0..days: the full state at the start of day d+1 (what a snapshot merge reads);
 * - `log_<d>`: the change log of day d in the layout raw CDC tables have (src/sources/types.ts: `_lsn`
 *   zero-padded 16-hex text, `_seq`, `_txid`, `_commit_time`, `_op`, then the row; the before image for
 *   deletes). Day 0 is the initial snapshot read (op 'r', one commit); on later days each change is its
 *   own transaction, committed in LSN order across the day.
 */

export interface Scd2BenchData {
  readonly rows: number;
  readonly days: number;
  /** Fraction of live keys changing per day. */
  readonly rate: number;
  /** Schema holding the generated tables. */
  readonly schema: string;
}

export const SCD2_BENCH_COLUMNS = ['id', 'name', 'email', 'city', 'tier', 'score'] as const;
export const SCD2_BENCH_KEY = ['id'] as const;
export const SCD2_BENCH_TRACKED = ['name', 'email', 'city', 'tier', 'score'] as const;

/** Instant at which day `d` starts (UTC), ISO-8601; day 0 is 2026-01-01. */
export function dayStart(d: number): string {
  return new Date(Date.UTC(2026, 0, 1 + d)).toISOString();
}

/** The snapshot time of `snap_<d>` (the instant the state was taken): the end of day d. */
export function snapshotTime(d: number): string {
  return dayStart(d + 1);
}

/** DuckDB `TIMESTAMP` literal of an ISO instant (UTC). */
export function tsLiteral(iso: string): string {
  return `TIMESTAMP '${iso.replace('T', ' ').replace('Z', '')}'`;
}

/** The LSN (a number) of the first change of day d; changes step by 64 bytes of WAL. */
const lsnBase = (d: number): string => `${(d + 1) * 2 ** 32}`;
const hexLsn = (expr: string): string => `lpad(lower(hex(CAST(${expr} AS BIGINT))), 16, '0')`;

/** SQL statements (DuckDB) that create every table; run them in order. */
export function generateScd2DataSql(o: Scd2BenchData): string[] {
  const s = o.schema;
  const tracked = SCD2_BENCH_TRACKED;
  const out: string[] = [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE OR REPLACE TABLE ${s}.snap_0 AS SELECT CAST(range AS BIGINT) AS id, 'name_' || range AS name, ` +
      `'user' || range || '@example.com' AS email, 'city_' || (range % 1000) AS city, CAST(range % 7 AS INTEGER) AS tier, ` +
      `CAST((range % 100000) / 100 AS DECIMAL(12,2)) AS score FROM range(${o.rows})`,
    `CREATE OR REPLACE TABLE ${s}.log_0 AS SELECT ${hexLsn(lsnBase(0))} AS _lsn, CAST(row_number() OVER () AS BIGINT) AS _seq, ` +
      `CAST(1 AS BIGINT) AS _txid, ${tsLiteral(dayStart(0))} AS _commit_time, 'r' AS _op, * FROM ${s}.snap_0`,
  ];
  for (let d = 1; d <= o.days; d++) {
    const prev = `${s}.snap_${d - 1}`;
    const per = Math.max(1, Math.round(1 / o.rate));
    // picked: ~rate of live keys; 1 in 99 of them is deleted, the rest updated; as many new keys as deletes.
    out.push(
      `CREATE OR REPLACE TEMP TABLE picked AS SELECT p.*, (hash(p.id, ${d}, 7) % 99 = 0) AS del, ` +
        `row_number() OVER (ORDER BY hash(p.id, ${d}, 3), p.id) AS i FROM ${prev} AS p WHERE hash(p.id, ${d}) % ${per} = 0`,
      `CREATE OR REPLACE TEMP TABLE born AS SELECT CAST((SELECT max(id) FROM ${prev}) + range + 1 AS BIGINT) AS id, ` +
        `'name_' || range || '_d${d}' AS name, 'new' || range || '_d${d}@example.com' AS email, 'city_' || (range % 1000) AS city, ` +
        `CAST(range % 7 AS INTEGER) AS tier, CAST(1 AS DECIMAL(12,2)) AS score, ` +
        `(SELECT count(*) FROM picked) + range + 1 AS i FROM range((SELECT count(*) FROM picked WHERE del))`,
      `CREATE OR REPLACE TABLE ${s}.snap_${d} AS ` +
        `SELECT p.id, p.name, p.email, CASE WHEN k.id IS NULL THEN p.city ELSE 'city_' || ((p.id + ${d}) % 1000) || '_d${d}' END AS city, ` +
        `p.tier, CAST(CASE WHEN k.id IS NULL THEN p.score ELSE p.score + 1 END AS DECIMAL(12,2)) AS score ` +
        `FROM ${prev} AS p LEFT JOIN picked AS k ON k.id = p.id WHERE k.id IS NULL OR NOT k.del ` +
        `UNION ALL SELECT id, name, email, city, tier, score FROM born`,
      // The day's changes in commit order: change i commits at i × (day / (n + 1)).
      `CREATE OR REPLACE TABLE ${s}.log_${d} AS WITH ch AS (` +
        `SELECT k.i, CASE WHEN k.del THEN 'd' ELSE 'u' END AS op, k.id FROM picked AS k UNION ALL SELECT i, 'c', id FROM born) ` +
        `SELECT ${hexLsn(`${lsnBase(d)} + ch.i * 64`)} AS _lsn, CAST(0 AS BIGINT) AS _seq, CAST(${d} * 100000000 + ch.i AS BIGINT) AS _txid, ` +
        `${tsLiteral(dayStart(d))} + to_microseconds(CAST(ch.i * 86400000000 / ` +
        `((SELECT count(*) FROM picked) + (SELECT count(*) FROM born) + 1) AS BIGINT)) AS _commit_time, ch.op AS _op, ch.id, ` +
        // updates and creates carry the after image (today's snapshot), deletes the before image.
        tracked.map((c) => `CASE WHEN ch.op = 'd' THEN b.${c} ELSE a.${c} END AS ${c}`).join(', ') +
        ` FROM ch LEFT JOIN ${s}.snap_${d} AS a ON a.id = ch.id LEFT JOIN ${prev} AS b ON b.id = ch.id ORDER BY ch.i`,
      'DROP TABLE picked',
      'DROP TABLE born',
    );
  }
  return out;
}

/**
 * The change relation the `scd2` asset merges (src/activities/materialize.ts): the whole raw log with its
 * ordering `_pos` = `_lsn` then `_seq` zero-padded.
 */
export function assetChangeRelation(rawTable: string): string {
  return `SELECT *, _lsn || lpad(CAST(_seq AS VARCHAR), 20, '0') AS _pos FROM ${rawTable}`;
}
