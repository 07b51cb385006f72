/**
 * SCD2 on the paths users run, against hand-written DuckDB statements on the same data (the limit).
 *
 *   npx tsx bench/scd2.ts [--rows 500000] [--days 3] [--rate 0.01] [--rounds 3] [--only snapshot,log]
 *                         [--file /tmp/x.duckdb] [--threads N] [--profile]
 *   10 M rows as in issue 17: --rows 10000000
 *
 * File-backed DuckDB. Data: bench/scd2-data.ts (six columns; each day 1 % of keys change: 98 % updates,
 * 1 % deletes, 1 % new keys). Each round, for each side (the order alternates by round; a CHECKPOINT
 * before every timed operation so neither pays for the other's writes):
 * - snapshot: first load from `snap_0` (`mergeScd2FromSnapshot` into a new table vs one CREATE TABLE AS),
 *   then each day's full snapshot (`mergeScd2FromSnapshot` vs a FULL JOIN diff + UPDATE + INSERT);
 * - log: the `scd2` asset's change-log merge as materialize runs it: the WHOLE raw log (day 0's initial
 *   read plus every day so far) with `_pos`, first load then each day; the hand-written side reads only the
 *   day's rows (it knows the day) and does a LEFT JOIN diff + UPDATE + INSERT.
 * After each round both sides' tables must be identical (all current and historical rows).
 * Prints min / median per operation, the ratio of medians (goal ≤ 1.30) and the machine's load.
 */
import { rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SqlClient, SqlSession } from '../src/engines/core/client.js';
import { SqlEngine } from '../src/engines/core/sql-engine.js';
import { SCD2_STATE_TABLE } from '../src/engines/dialect/meta.js';
import { epochMicros } from '../src/engines/dialect/scd2.js';
import { RAW_LOG_ORDER_PARTS } from '../src/engines/dialect/scd2-log.js';
import { DuckDbClient } from '../src/engines/duckdb/duckdb-client.js';
import { duckdbDialect as d } from '../src/engines/duckdb/duckdb-dialect.js';
import {
  assetChangeRelation,
  dayStart,
  generateScd2DataSql,
  SCD2_BENCH_KEY,
  SCD2_BENCH_TRACKED,
  snapshotTime,
  tsLiteral,
} from './scd2-data.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

const rows = Number(arg('rows', '500000'));
const days = Number(arg('days', '3'));
const rate = Number(arg('rate', '0.01'));
const rounds = Number(arg('rounds', '3'));
const only = new Set(arg('only', 'snapshot,log').split(','));
const file = arg('file', join(tmpdir(), `tessera-scd2-bench-${process.pid}.duckdb`));
const threads = process.argv.includes('--threads') ? arg('threads', '') : undefined;
/** --profile prints each statement of Tessera's merges with its seconds. */
const profile = process.argv.includes('--profile');
let profiling = false;

const tracked = [...SCD2_BENCH_TRACKED];
const key = [...SCD2_BENCH_KEY];
const rowHash = (alias: string): string => d.rowHash(tracked.map((c) => `${alias}.${c}`));
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

const timings = new Map<string, number[]>();
function record(name: string, s: number): void {
  timings.set(name, [...(timings.get(name) ?? []), s]);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function profiled(inner: DuckDbClient): SqlClient {
  const wrap = (session: SqlSession): SqlSession => ({
    run: async (sql) => {
      const t = performance.now();
      const n = await session.run(sql);
      if (profiling)
        console.log(`    ${((performance.now() - t) / 1000).toFixed(3)} s  ${sql.slice(0, 110)}`);
      return n;
    },
    query: async (sql, params) => {
      const t = performance.now();
      const out = await session.query(sql, params);
      if (profiling)
        console.log(`    ${((performance.now() - t) / 1000).toFixed(3)} s  ${sql.slice(0, 110)}`);
      return out as never;
    },
  });
  return {
    ...wrap(inner),
    transaction: async (fn) => {
      const t = performance.now();
      try {
        return await inner.transaction((tx) => fn(wrap(tx)));
      } finally {
        // Includes the COMMIT, which the statement lines above do not.
        if (profiling)
          console.log(`    ${((performance.now() - t) / 1000).toFixed(3)} s  (transaction, with COMMIT)`);
      }
    },
    close: () => inner.close(),
  };
}

async function main(): Promise<void> {
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  const inner = await DuckDbClient.open(file, threads ? { threads } : {});
  const client = profile ? profiled(inner) : inner;
  const engine = new SqlEngine({ dialect: d, client });
  console.log(
    `SCD2 bench: ${rows.toLocaleString()} keys, ${days} day(s) at ${rate * 100} %, ${rounds} round(s), file ${file}; load ${load()}`,
  );
  const gen = await timed(async () => {
    for (const sql of generateScd2DataSql({ rows, days, rate, schema: 'bench' })) await inner.run(sql);
    await inner.run('CHECKPOINT');
  });
  const counts = await inner.query<{ d: string; n: number }>(
    [...Array(days).keys()]
      .map(
        (i) =>
          `SELECT '${i + 1}' AS d, count(*) AS n, count(*) FILTER (_op = 'd') AS del FROM bench.log_${i + 1}`,
      )
      .join(' UNION ALL '),
  );
  console.log(`data generated in ${gen.toFixed(1)} s; changes per day: ${counts.map((c) => c.n).join(', ')}`);

  const hand = async (statements: string[]): Promise<void> =>
    inner.transaction(async (tx) => {
      for (const s of statements) await tx.run(s);
    });
  const resetTarget = async (table: string): Promise<void> => {
    await inner.run(`DROP TABLE IF EXISTS ${table}`);
    await inner
      .run(`DELETE FROM ${d.table(SCD2_STATE_TABLE)} WHERE target = '${table}'`)
      .catch(() => undefined); // no state table before Tessera's first merge
  };
  const tessera = async <T>(fn: () => Promise<T>): Promise<number> => {
    profiling = profile;
    try {
      return await timed(fn);
    } finally {
      profiling = false;
    }
  };
  const step = async (
    name: string,
    order: readonly ('tessera' | 'hand')[],
    sides: Record<string, () => Promise<number>>,
  ) => {
    for (const side of order) {
      await inner.run('CHECKPOINT');
      if (profile && side === 'tessera') console.log(`  ${name}:`);
      const s = await (sides[side] ?? (async () => 0))();
      record(`${name} | ${side}`, s);
    }
  };
  await inner.run(
    'CREATE SCHEMA IF NOT EXISTS ts; CREATE SCHEMA IF NOT EXISTS hs; CREATE SCHEMA IF NOT EXISTS tl; CREATE SCHEMA IF NOT EXISTS hl',
  );
  const cols = [...key, ...tracked].join(', ');
  const identical: string[] = [];

  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? (['tessera', 'hand'] as const) : (['hand', 'tessera'] as const);
    if (only.has('snapshot')) {
      await resetTarget('ts.dim');
      await resetTarget('hs.dim');
      const snapReq = (day: number) => ({
        target: 'ts.dim',
        snapshotSql: `SELECT * FROM bench.snap_${day}`,
        snapshotTime: snapshotTime(day),
        businessKey: key,
        tracked,
      });
      const at = (day: number): string => tsLiteral(snapshotTime(day));
      const ord = (day: number): string => `CAST(${epochMicros('duckdb', snapshotTime(day))} AS BIGINT)`;
      await step('snapshot first load', order, {
        tessera: () => tessera(() => engine.mergeScd2FromSnapshot(snapReq(0))),
        hand: () =>
          timed(() =>
            hand([
              `CREATE TABLE hs.dim AS SELECT ${cols}, ${at(0)} AS valid_from, CAST(NULL AS TIMESTAMP) AS valid_to, ` +
                `TRUE AS is_current, FALSE AS is_deleted, ${ord(0)} AS source_lsn, ${rowHash('s')} AS row_hash FROM bench.snap_0 AS s`,
            ]),
          ),
      });
      for (let day = 1; day <= days; day++) {
        const cmp = tracked.map((c) => `s.${c} IS DISTINCT FROM t.${c}`).join(' OR ');
        const pick = (c: string): string => `CASE WHEN s.id IS NULL THEN t.${c} ELSE s.${c} END AS ${c}`;
        await step(`snapshot day ${day}`, order, {
          tessera: () => tessera(() => engine.mergeScd2FromSnapshot(snapReq(day))),
          hand: () =>
            timed(() =>
              hand([
                `CREATE OR REPLACE TEMP TABLE hd AS SELECT coalesce(s.id, t.id) AS id, ${tracked.map(pick).join(', ')}, ` +
                  `s.id IS NULL AS gone, t.rid FROM bench.snap_${day} AS s ` +
                  `FULL JOIN (SELECT rowid AS rid, * FROM hs.dim WHERE is_current) AS t ON s.id = t.id ` +
                  `WHERE CASE WHEN s.id IS NULL THEN NOT t.is_deleted WHEN t.id IS NULL OR t.is_deleted THEN TRUE ELSE ${cmp} END`,
                `UPDATE hs.dim SET valid_to = ${at(day)}, is_current = FALSE FROM hd WHERE hs.dim.rowid = hd.rid`,
                `INSERT INTO hs.dim SELECT ${cols}, ${at(day)}, NULL, TRUE, gone, ${ord(day)}, ${rowHash('hd')} FROM hd`,
                'DROP TABLE hd',
              ]),
            ),
        });
      }
      identical.push(`snapshot round ${round}: ${await compare(inner, 'ts.dim', 'hs.dim')}`);
    }
    if (only.has('log')) {
      await resetTarget('tl.dim');
      await resetTarget('hl.dim');
      await inner.run(`CREATE OR REPLACE TABLE bench.raw AS SELECT * FROM bench.log_0`);
      const logReq = {
        target: 'tl.dim',
        changes: assetChangeRelation('bench.raw'),
        businessKey: key,
        tracked,
        orderBy: '_pos',
        orderParts: RAW_LOG_ORDER_PARTS, // as materialize passes them
        commitTimeColumn: '_commit_time',
        opColumn: '_op',
        lateWindowSeconds: 3600, // as materialize passes it (SCD2_LOG_LATE_WINDOW_SECONDS)
      };
      const pos = `_lsn || lpad(CAST(_seq AS VARCHAR), 20, '0')`;
      await step('log first load', order, {
        tessera: () => tessera(() => engine.mergeScd2FromChanges(logReq)),
        hand: () =>
          timed(() =>
            hand([
              `CREATE TABLE hl.dim AS SELECT ${cols}, _commit_time AS valid_from, CAST(NULL AS TIMESTAMP) AS valid_to, ` +
                `TRUE AS is_current, FALSE AS is_deleted, ${pos} AS source_lsn, ${rowHash('c')} AS row_hash ` +
                `FROM bench.raw AS c WHERE _op <> 'd'`,
            ]),
          ),
      });
      for (let day = 1; day <= days; day++) {
        await inner.run(`INSERT INTO bench.raw SELECT * FROM bench.log_${day}`);
        const cmp = tracked.map((c) => `c.${c} IS DISTINCT FROM t.${c}`).join(' OR ');
        await step(`log day ${day}`, order, {
          tessera: () => tessera(() => engine.mergeScd2FromChanges(logReq)),
          // One change per key per day (true of this data); the day's rows only.
          hand: () =>
            timed(() =>
              hand([
                `CREATE OR REPLACE TEMP TABLE hc AS SELECT c.*, ${pos} AS _pos, c._op = 'd' AS del, t.rid ` +
                  `FROM (SELECT * FROM bench.raw WHERE _commit_time >= ${tsLiteral(dayStart(day))}) AS c ` +
                  `LEFT JOIN (SELECT rowid AS rid, * FROM hl.dim WHERE is_current) AS t ON t.id = c.id ` +
                  `WHERE CASE WHEN c._op = 'd' THEN t.id IS NOT NULL AND NOT t.is_deleted ` +
                  `WHEN t.id IS NULL OR t.is_deleted THEN TRUE ELSE ${cmp} END`,
                `UPDATE hl.dim SET valid_to = hc._commit_time, is_current = FALSE FROM hc WHERE hl.dim.rowid = hc.rid`,
                `INSERT INTO hl.dim SELECT ${cols}, _commit_time, NULL, TRUE, del, _pos, ${rowHash('hc')} FROM hc`,
                'DROP TABLE hc',
              ]),
            ),
        });
      }
      identical.push(`log round ${round}: ${await compare(inner, 'tl.dim', 'hl.dim')}`);
    }
    console.log(`round ${round} done; load ${load()}`);
  }

  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
  };
  const names = [...new Set([...timings.keys()].map((k) => k.split(' | ')[0] ?? ''))];
  console.log(
    `\n${'operation'.padEnd(22)} ${'Tessera min/med'.padStart(17)} ${'hand min/med'.padStart(17)}  ratio`,
  );
  for (const name of names) {
    const t = timings.get(`${name} | tessera`) ?? [];
    const h = timings.get(`${name} | hand`) ?? [];
    const f = (xs: number[]): string => `${Math.min(...xs).toFixed(3)}/${median(xs).toFixed(3)}`;
    console.log(
      `${name.padEnd(22)} ${f(t).padStart(17)} ${f(h).padStart(17)}  ${(median(t) / median(h)).toFixed(2)}`,
    );
  }
  for (const line of identical) console.log(line);
  console.log(`load at the end ${load()} (${rows.toLocaleString()} rows; goal: ratio ≤ 1.30)`);
  await engine.close();
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  if (identical.some((l) => !l.endsWith('identical'))) process.exitCode = 1;
}

/** Every row (current and historical) of both tables, compared as multisets. */
async function compare(db: DuckDbClient, a: string, b: string): Promise<string> {
  const [x] = await db.query<{ n: number; rows: number }>(
    `SELECT (SELECT count(*) FROM ((SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}) ` +
      `UNION ALL (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a}))) AS n, (SELECT count(*) FROM ${a}) AS rows`,
  );
  return Number(x?.n) === 0 ? `${Number(x?.rows)} rows, identical` : `${Number(x?.n)} rows DIFFER`;
}

await main();
