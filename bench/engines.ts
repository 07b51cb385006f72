/**
 * The same work on every engine whose server is up, seconds side by side with the machine's load:
 * an entity of `--rows` keys is loaded into an SCD2 table (first load), merged with the next day's snapshot
 * (1 % of keys change, 0.01 % deleted, 0.01 % new), and a mart is rebuilt from it (a grouped aggregate over
 * every row). DuckDB runs file-backed; Trino and Spark write Iceberg through their servers
 * (scripts/services/{trino,spark}.sh start); BigQuery runs on a private emulator when `--engines` names it.
 *
 *   npx tsx bench/engines.ts                      # 200 k keys, duckdb + every server that is up
 *   npx tsx bench/engines.ts --rows 10000000      # the size
 *   npx tsx bench/engines.ts --engines duckdb,trino
 *
 * Data is generated inside each engine by portable SQL (a cross join of ten digits, types from the dialect's
 * `{{ t.* }}` macros), so no engine waits on a client upload. The mart's totals (rows, customers, score) are
 * printed per engine: equal inputs must give equal marts everywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderTemplate } from '../src/engines/dialect/template.js';
import { createDuckDbEngine, type Engine } from '../src/engines/index.js';
import { availableTestEngines, ENGINES, type EngineType } from '../src/engines/registry.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    engines: { type: 'string' },
  },
});
const rows = Number(args.rows);
if (!Number.isInteger(rows) || rows < 1000)
  throw new Error(`--rows must be an integer ≥ 1000, got ${args.rows}`);

const SCHEMA = 'bench_engines';
const SNAPSHOT_DAY0 = '2026-01-02T00:00:00.000Z';
const SNAPSHOT_DAY1 = '2026-01-03T00:00:00.000Z';

/** Integers 0 .. 10^digits-1 from a cross join of ten-row unions: plain SQL every engine accepts. */
function integers(digits: number): string {
  const ten = Array.from({ length: 10 }, (_, i) => `select ${i} as x`).join(' union all ');
  const from = Array.from({ length: digits }, (_, i) => `(${ten}) d${i}`).join(' cross join ');
  const value = Array.from({ length: digits }, (_, i) => `d${i}.x * ${10 ** i}`).join(' + ');
  return `select ${value} as id from ${from}`;
}

const digits = Math.ceil(Math.log10(rows));

/** Day 0: `rows` keys. Day 1: keys ≡ 7 (mod 100) move city and score, keys ≡ 13 (mod 10000) are gone, new keys follow. */
function entitySql(day: 0 | 1): string {
  const newKeys = Math.floor(rows / 10_000);
  const ids =
    day === 0
      ? `select id from (${integers(digits)}) n where id < ${rows}`
      : `select id from (${integers(digits)}) n where (id < ${rows} and id % 10000 <> 13) or (id >= ${rows} and id < ${rows + newKeys})`;
  const changed = day === 1 ? `id % 100 = 7` : `1 = 0`;
  return `select cast(id as {{ t.bigint }}) as id,
      'name-' || cast(id as {{ t.text }}) as name,
      'user' || cast(id as {{ t.text }}) || '@example.com' as email,
      'city-' || cast(case when ${changed} then (id + 1) % 50 else id % 50 end as {{ t.text }}) as city,
      cast(id % 3 as {{ t.bigint }}) as tier,
      cast(case when ${changed} then id % 1000 + 1 else id % 1000 end as {{ t.bigint }}) as score
    from (${ids}) k`;
}

const MART_SQL = `select city, tier, count(*) as customers, sum(score) as score
  from ${SCHEMA}.entity_scd2 where valid_to is null and not is_deleted group by city, tier`;

interface Figures {
  readonly engine: string;
  readonly generate: number;
  readonly firstLoad: number;
  readonly dailyMerge: number;
  readonly martRebuild: number;
  readonly versions: number;
  readonly martTotals: string;
  readonly load: string;
}

const seconds = async (work: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};

async function run(type: EngineType, engine: Engine): Promise<Figures> {
  const sql = (template: string) => renderTemplate(ENGINES[type].dialect, template, {});
  const spec = {
    target: `${SCHEMA}.entity_scd2`,
    businessKey: ['id'],
    tracked: ['name', 'email', 'city', 'tier', 'score'],
  };
  const generate =
    (await seconds(() =>
      engine.replaceTable({ table: `${SCHEMA}.entity_day0`, selectSql: sql(entitySql(0)) }),
    )) +
    (await seconds(() =>
      engine.replaceTable({ table: `${SCHEMA}.entity_day1`, selectSql: sql(entitySql(1)) }),
    ));
  const firstLoad = await seconds(() =>
    engine.mergeScd2FromSnapshot({
      ...spec,
      snapshotSql: `select * from ${SCHEMA}.entity_day0`,
      snapshotTime: SNAPSHOT_DAY0,
    }),
  );
  let versions = 0;
  const dailyMerge = await seconds(async () => {
    const r = await engine.mergeScd2FromSnapshot({
      ...spec,
      snapshotSql: `select * from ${SCHEMA}.entity_day1`,
      snapshotTime: SNAPSHOT_DAY1,
    });
    versions = r.rowCount;
  });
  const martRebuild = await seconds(() =>
    engine.replaceTable({ table: `${SCHEMA}.mart_city_tier`, selectSql: MART_SQL }),
  );
  const [totals] = await engine.query<{
    n: number | string;
    customers: number | string;
    score: number | string;
  }>(`select count(*) as n, sum(customers) as customers, sum(score) as score from ${SCHEMA}.mart_city_tier`);
  const martTotals = `${String(totals?.n)}/${String(totals?.customers)}/${String(totals?.score)}`;
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return { engine: type, generate, firstLoad, dailyMerge, martRebuild, versions, martTotals, load };
}

async function main(): Promise<void> {
  const wanted = args.engines?.split(',');
  const servers = (await availableTestEngines()).filter(
    (e) => e.type !== 'duckdb' && (wanted ? wanted.includes(e.type) : e.type !== 'bigquery'),
  );
  const out: Figures[] = [];
  if (!wanted || wanted.includes('duckdb')) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-engines-'));
    const engine = await createDuckDbEngine({ type: 'duckdb', path: join(dir, 'bench.duckdb') });
    try {
      out.push(await run('duckdb', engine));
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`duckdb done`);
  }
  for (const { type, create } of servers) {
    const engine = await create();
    try {
      out.push(await run(type, engine));
    } finally {
      await engine.close();
    }
    console.log(`${type} done`);
  }
  const f = (s: number) => s.toFixed(2).padStart(9);
  console.log(
    `\n${rows.toLocaleString('en')} keys; seconds per operation (load average 1/5/15 min after each engine)`,
  );
  console.log('engine     generate  1st load     merge      mart  versions  mart rows/customers/score  load');
  for (const r of out)
    console.log(
      `${r.engine.padEnd(9)}${f(r.generate)}${f(r.firstLoad)}${f(r.dailyMerge)}${f(r.martRebuild)}${String(r.versions).padStart(10)}  ${r.martTotals.padEnd(25)}  ${r.load}`,
    );
}

await main();
