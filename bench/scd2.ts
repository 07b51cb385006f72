/**
 * SCD2 merge benchmark: our `mergeScd2FromChanges` vs one hand-written DuckDB MERGE INTO (the limit).
 *
 *   npx tsx bench/scd2.ts [--rows 10000000] [--days 3] [--rate 0.01] [--file /tmp/x.duckdb] [--threads N]
 *   (env: SCD2_BENCH_ROWS, SCD2_BENCH_DAYS, SCD2_BENCH_RATE)
 *
 * An entity of `rows` keys is loaded, then each day `rate × rows` changes arrive (one per key: 90% real
 * updates, 10% no-op updates, plus 1% of them brand-new keys). Both sides start from the same table and
 * apply the same days (each from a checkpointed file); the bench checks they end identical and prints
 * seconds per daily merge and the ratio. Ours includes its validation, replay filtering and data version.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SqlClient, SqlSession } from '../src/engines/core/client.js';
import { SqlEngine } from '../src/engines/core/sql-engine.js';
import { DuckDbClient } from '../src/engines/duckdb/duckdb-client.js';
import { duckdbDialect as d } from '../src/engines/duckdb/duckdb-dialect.js';

function arg(name: string, env: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? process.env[env] ?? fallback;
}

const rows = Number(arg('rows', 'SCD2_BENCH_ROWS', '10000000'));
const days = Number(arg('days', 'SCD2_BENCH_DAYS', '3'));
const rate = Number(arg('rate', 'SCD2_BENCH_RATE', '0.01'));
const file = arg('file', 'SCD2_BENCH_FILE', join(tmpdir(), `tessera-scd2-bench-${process.pid}.duckdb`));
const threads = process.argv.includes('--threads') ? Number(arg('threads', '', '0')) : undefined;
const perDay = Math.round(rows * rate);
/** --profile prints each statement of our merges with its seconds. */
const profile = process.argv.includes('--profile');
let profiling = false;

const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

const rowHash = d.rowHash(['name', 'city', 'tier'].map((c) => `c.${d.quote(c)}`));

async function main(): Promise<void> {
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  const inner = await DuckDbClient.open(file, threads ? { threads: String(threads) } : {});
  const timed = (session: SqlSession): SqlSession => ({
    run: async (sql) => {
      const t = performance.now();
      const n = await session.run(sql);
      if (profiling)
        console.log(`    ${((performance.now() - t) / 1000).toFixed(3)} s  ${sql.slice(0, 100)}`);
      return n;
    },
    query: async (sql, params) => {
      const t = performance.now();
      const out = await session.query(sql, params);
      if (profiling)
        console.log(`    ${((performance.now() - t) / 1000).toFixed(3)} s  ${sql.slice(0, 100)}`);
      return out as never;
    },
  });
  const client: SqlClient = profile
    ? {
        ...timed(inner),
        transaction: (fn) => inner.transaction((tx) => fn(timed(tx))),
        close: () => inner.close(),
      }
    : inner;
  const engine = new SqlEngine({ dialect: d, client });
  console.log(
    `SCD2 bench: ${rows.toLocaleString()} keys, ${days} day(s) × ${perDay.toLocaleString()} changes, file ${file}`,
  );

  const day0 = `TIMESTAMP '2026-01-01 00:00:00'`;
  await engine.execute(`CREATE SCHEMA IF NOT EXISTS bench`);
  await engine.execute(
    `CREATE OR REPLACE TABLE bench.initial AS SELECT range AS id, 'name_' || range AS name, ` +
      `'city_' || (range % 1000) AS city, CAST(range % 7 AS INTEGER) AS tier, ${day0} AS ts, range AS lsn, 'r' AS op ` +
      `FROM range(${rows})`,
  );
  for (let day = 1; day <= days; day++) {
    // Keys drawn by a per-day hash; 1% are brand-new keys; every 10th change carries the key's initial
    // attributes (a no-op unless the key changed on an earlier day).
    const initial = (col: string): string =>
      ({ name: `'name_' || id`, city: `'city_' || (id % 1000)`, tier: `CAST(id % 7 AS INTEGER)` })[col] ??
      col;
    await engine.execute(
      `CREATE OR REPLACE TABLE bench.changes_${day} AS ` +
        `WITH picked AS (SELECT range AS i, CAST(CASE WHEN range % 100 = 0 THEN ${rows} + ${day} * ${perDay} + range ` +
        `ELSE hash(range, ${day}) % ${rows} END AS BIGINT) AS id FROM range(${perDay})) ` +
        `SELECT id, CASE WHEN i % 10 = 0 THEN ${initial('name')} ELSE 'name_' || id || '_d${day}' END AS name, ` +
        `CASE WHEN i % 10 = 0 THEN ${initial('city')} ELSE 'city_' || ((id + ${day}) % 1000) END AS city, ` +
        `CASE WHEN i % 10 = 0 THEN ${initial('tier')} ELSE CAST((id + ${day}) % 7 AS INTEGER) END AS tier, ` +
        `${day0} + INTERVAL ${day} DAY + to_seconds(i % 86000) AS ts, ${rows * 10} + ${day} * ${perDay * 10} + i AS lsn, 'u' AS op ` +
        `FROM picked QUALIFY row_number() OVER (PARTITION BY id ORDER BY i DESC) = 1`,
    );
  }

  const spec = {
    businessKey: ['id'],
    tracked: ['name', 'city', 'tier'],
    orderBy: 'lsn',
    commitTimeColumn: 'ts',
    opColumn: 'op',
  };
  const load = await seconds(() =>
    engine.mergeScd2FromChanges({ ...spec, target: 'ours.dim', changes: 'bench.initial' }),
  );
  console.log(`initial load (ours, ${rows.toLocaleString()} rows): ${load.toFixed(2)} s`);
  // Both sides start from the same physical layout (sorted by key), whatever order the load wrote.
  await engine.execute(
    `CREATE SCHEMA IF NOT EXISTS hand; CREATE OR REPLACE TABLE bench.seed AS SELECT * FROM ours.dim ORDER BY id; ` +
      `CREATE OR REPLACE TABLE ours.dim AS SELECT * FROM bench.seed; ` +
      `CREATE OR REPLACE TABLE hand.dim AS SELECT * FROM bench.seed; DROP TABLE bench.seed`,
  );
  await engine.execute('CHECKPOINT');

  const ours: number[] = [];
  const hand: number[] = [];
  const runOurs = async (changes: string): Promise<number> => {
    profiling = profile;
    const t = await seconds(() => engine.mergeScd2FromChanges({ ...spec, target: 'ours.dim', changes }));
    profiling = false;
    return t;
  };
  for (let day = 1; day <= days; day++) {
    const changes = `bench.changes_${day}`;
    // Each side starts from a checkpointed file (neither pays for the other's automatic checkpoint),
    // and the order alternates by day so cache warmth and background load favour neither.
    const timings: Record<'ours' | 'hand', number> = { ours: 0, hand: 0 };
    for (const side of day % 2 === 1 ? (['ours', 'hand'] as const) : (['hand', 'ours'] as const)) {
      await engine.execute('CHECKPOINT');
      timings[side] =
        side === 'ours'
          ? await runOurs(changes)
          : await seconds(() => engine.execute(handWrittenMerge(changes)));
    }
    ours.push(timings.ours);
    hand.push(timings.hand);
    console.log(
      `day ${day}: ours ${timings.ours.toFixed(3)} s, hand-written MERGE ${timings.hand.toFixed(3)} s, ` +
        `ratio ${(timings.ours / timings.hand).toFixed(2)}`,
    );
  }

  const diff = await engine.query<{ n: number }>(
    `SELECT count(*) AS n FROM ((SELECT * FROM ours.dim EXCEPT ALL SELECT * FROM hand.dim) ` +
      `UNION ALL (SELECT * FROM hand.dim EXCEPT ALL SELECT * FROM ours.dim))`,
  );
  const [total] = await engine.query<{ n: number }>(`SELECT count(*) AS n FROM ours.dim`);
  if (diff[0]?.n !== 0) {
    for (const side of ['ours', 'hand']) {
      const check = await engine.runCheck({ type: 'scd2_intervals' }, `${side}.dim`, {
        scd2: { businessKey: ['id'] },
      });
      const [c] = await engine.query(
        `SELECT count(*) AS n, count(DISTINCT id) AS keys, sum(CASE WHEN is_current THEN 1 ELSE 0 END) AS cur FROM ${side}.dim`,
      );
      console.log(side, check.detail, c);
    }
    const sample = (a: string, b: string): string =>
      `SELECT '${a}' AS side, * FROM (SELECT * FROM ${a}.dim EXCEPT ALL SELECT * FROM ${b}.dim) ORDER BY id, valid_from LIMIT 5`;
    console.log(await engine.query(sample('ours', 'hand')), await engine.query(sample('hand', 'ours')));
  }
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const median = (xs: number[]): number => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  };
  console.log(
    `tables identical: ${diff[0]?.n === 0 ? 'yes' : `NO (${diff[0]?.n} differing rows)`}; ${total?.n} versions`,
  );
  console.log(
    `per daily merge: ours mean ${(sum(ours) / days).toFixed(3)} s (median ${median(ours).toFixed(3)}), ` +
      `hand-written mean ${(sum(hand) / days).toFixed(3)} s (median ${median(hand).toFixed(3)})`,
  );
  console.log(
    `ratio of totals ${(sum(ours) / sum(hand)).toFixed(2)}, median of daily ratios ` +
      `${median(ours.map((o, i) => o / (hand[i] ?? o))).toFixed(2)} (goal ≤ 1.30)`,
  );
  await engine.close();
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
}

/**
 * The textbook single-statement SCD2 MERGE (one change per key, no deletes, no replays, no validation).
 * Its source reads the target; MATERIALIZED makes DuckDB finish that read before the merge writes.
 * Without it, DuckDB 1.5.6 intermittently produced a wrong table here (2 of ~9 runs at 10M rows lost
 * ~16k new versions and ran 3-5x slower; apparently the source saw rows the merge had just closed).
 */
function handWrittenMerge(changes: string): string {
  const h = rowHash;
  return `
WITH s AS MATERIALIZED (
  SELECT c.id AS merge_id, c.id, c.name, c.city, c.tier, c.ts, c.lsn, ${h} AS row_hash FROM ${changes} AS c
  UNION ALL
  SELECT NULL, c.id, c.name, c.city, c.tier, c.ts, c.lsn, ${h} FROM ${changes} AS c
  JOIN hand.dim AS cur ON cur.id = c.id AND cur.is_current WHERE cur.row_hash <> ${h}
)
MERGE INTO hand.dim AS t
USING s
ON t.id = s.merge_id AND t.is_current
WHEN MATCHED AND t.row_hash <> s.row_hash THEN UPDATE SET valid_to = s.ts, is_current = FALSE
WHEN NOT MATCHED THEN INSERT (id, name, city, tier, valid_from, valid_to, is_current, is_deleted, source_lsn, row_hash)
  VALUES (s.id, s.name, s.city, s.tier, s.ts, NULL, TRUE, FALSE, s.lsn, s.row_hash)`;
}

await main();
