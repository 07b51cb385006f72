/**
 * SCD2 side by side: Tessera, dbt, SQLMesh and hand-written DuckDB statements on the same data, interleaved.
 *
 *   bash scripts/bench.sh [--rows 300000] [--days 2] [--rounds 3] [--rate 0.01] [--only a,b] [--keep]
 *   (runs `npx tsx bench/peers/run.ts` with TESSERA_BENCH_PYTHON pointing at the peers' venv)
 *
 * The entity (bench/peers/data.ts) is generated once. Each round, each tool gets a fresh copy of that file
 * and does the first load (day 0) and then each day's change; the order of the tools rotates every round,
 * so warm caches and background load favour none. Only the tool's own work is timed: staging the day's
 * input (`src.entity` ← `src.snap_<d>`, or appending the day's batch to the raw change log) and a checkpoint
 * happen before the clock starts. Afterwards every tool's final table is turned into the same canonical
 * history (versions by day, deletion records) and compared with Tessera's; the differences that are
 * deliberate are listed, anything else fails the run.
 *
 * Tools: on a full snapshot: `hand-snapshot`, `tessera-snapshot`, `dbt`, `sqlmesh`; on the change log:
 * `hand-log`, `tessera-batch` (the day's batch), `tessera-asset` (the whole raw log, as an `scd2` asset
 * reads it in production).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DuckDbClient } from '../../src/engines/duckdb/duckdb-client.js';
import { createDuckDbEngine } from '../../src/engines/duckdb/duckdb-engine.js';
import type { Engine } from '../../src/engines/types.js';
import { RAW_LOG_ORDER_PARTS } from '../../src/engines/dialect/scd2-log.js';
import { commitTime, ENTITY_COLUMNS, generateEntity, TRACKED, type EntitySpec } from './data.js';

const exec = promisify(execFile);

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

const spec: EntitySpec = {
  rows: Number(flag('rows', '300000')),
  days: Number(flag('days', '2')),
  rate: Number(flag('rate', '0.01')),
};
const rounds = Number(flag('rounds', '3'));
const dir = resolve(flag('dir', join(tmpdir(), `tessera-bench-peers-${process.pid}`)));
const keep = process.argv.includes('--keep');
const python = process.env['TESSERA_BENCH_PYTHON'];
const here = new URL('.', import.meta.url).pathname;

type Family = 'snapshot' | 'log';
interface Tool {
  readonly name: string;
  readonly family: Family;
  readonly what: string;
  /** Runs day 0 … days on a fresh copy of the data; returns seconds per day. */
  run(file: string): Promise<number[]>;
  /** SELECT of the tool's history as (id, attrs…, valid_from, valid_to, is_deleted); `c` is its file's catalog. */
  history(c: string): string;
}

const cols = ENTITY_COLUMNS.join(', ');
const ts = (day: number): string => `TIMESTAMP '${commitTime(day)}'`;
const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

async function withEngine<T>(file: string, fn: (e: Engine) => Promise<T>): Promise<T> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: file });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** Day by day: stage (untimed), checkpoint, then the timed step. */
async function days(
  file: string,
  stage: (e: Engine, day: number) => Promise<void>,
  step: (e: Engine, day: number) => Promise<unknown>,
): Promise<number[]> {
  return withEngine(file, async (e) => {
    const out: number[] = [];
    for (let day = 0; day <= spec.days; day++) {
      await stage(e, day);
      await e.execute('CHECKPOINT');
      out.push(await seconds(() => step(e, day)));
    }
    return out;
  });
}

const stageSnapshot = (e: Engine, day: number): Promise<void> =>
  e.execute(`CREATE OR REPLACE TABLE src.entity AS SELECT * FROM src.snap_${day}`);

/** What the raw landing does each day: append the batch to the change log the asset reads. */
const stageRawLog = (e: Engine, day: number): Promise<void> =>
  e.execute(
    day === 0
      ? `CREATE SCHEMA IF NOT EXISTS raw; CREATE OR REPLACE TABLE raw.entity_changes AS SELECT * EXCLUDE (_day) FROM src.log WHERE _day = 0`
      : `INSERT INTO raw.entity_changes SELECT * EXCLUDE (_day) FROM src.log WHERE _day = ${day}`,
  );

const tesseraHistory =
  (table: string) =>
  (c: string): string =>
    `SELECT ${cols}, valid_from, valid_to, is_deleted FROM ${c}.${table}`;

/** Hand-written snapshot SCD2: compare columns with the current versions, UPDATE to close, INSERT new. */
async function handSnapshotDay(e: Engine, day: number): Promise<void> {
  if (day === 0) {
    await e.execute(
      `CREATE SCHEMA IF NOT EXISTS hand; CREATE TABLE hand.entity AS SELECT ${cols}, ${ts(0)} AS valid_from, ` +
        `CAST(NULL AS TIMESTAMP) AS valid_to, TRUE AS is_current, FALSE AS is_deleted FROM src.entity`,
    );
    return;
  }
  const differs = TRACKED.map((c) => `t.${c} IS DISTINCT FROM s.${c}`).join(' OR ');
  await e.execute(
    `BEGIN; ` +
      `CREATE TEMP TABLE chg AS ` +
      `SELECT s.*, FALSE AS del FROM src.entity AS s LEFT JOIN hand.entity AS t ON t.id = s.id AND t.is_current ` +
      `WHERE t.id IS NULL OR t.is_deleted OR ${differs} ` +
      `UNION ALL SELECT ${TRACKED.reduce((acc, c) => `${acc}, t.${c}`, 't.id')}, TRUE FROM hand.entity AS t ` +
      `WHERE t.is_current AND NOT t.is_deleted AND NOT EXISTS (SELECT 1 FROM src.entity AS s WHERE s.id = t.id); ` +
      `UPDATE hand.entity AS t SET valid_to = ${ts(day)}, is_current = FALSE FROM chg WHERE t.id = chg.id AND t.is_current; ` +
      `INSERT INTO hand.entity SELECT ${cols}, ${ts(day)}, NULL, TRUE, del FROM chg; DROP TABLE chg; COMMIT`,
  );
}

/** Hand-written change-log SCD2 (the limit: one real change per key and day, no validation, no replays). */
async function handLogDay(e: Engine, day: number): Promise<void> {
  const batch = `src.changes_${day}`;
  if (day === 0) {
    await e.execute(
      `CREATE SCHEMA IF NOT EXISTS hand; CREATE TABLE hand.entity AS SELECT ${cols}, _commit_time AS valid_from, ` +
        `CAST(NULL AS TIMESTAMP) AS valid_to, TRUE AS is_current, FALSE AS is_deleted FROM ${batch}`,
    );
    return;
  }
  await e.execute(
    `BEGIN; UPDATE hand.entity AS t SET valid_to = c._commit_time, is_current = FALSE FROM ${batch} AS c ` +
      `WHERE t.id = c.id AND t.is_current; ` +
      `INSERT INTO hand.entity SELECT ${cols}, _commit_time, NULL, TRUE, _op = 'd' FROM ${batch}; COMMIT`,
  );
}

async function python_(tool: 'dbt' | 'sqlmesh', file: string): Promise<number[]> {
  if (!python) throw new Error('TESSERA_BENCH_PYTHON is not set (run through scripts/bench.sh)');
  const { stdout } = await exec(
    python,
    [join(here, 'peers.py'), tool, '--db', file, '--days', String(spec.days)],
    { maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } },
  );
  const last = stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(last) as { seconds: number[] }).seconds;
}

/** Filled in by verify(): the physical table behind SQLMesh's view (its name carries a fingerprint). */
let SQLMESH_TABLE = 'sqlmesh__entity_scd2';
const scd2Spec = { businessKey: ['id'], tracked: [...TRACKED] };
const TOOLS: readonly Tool[] = [
  {
    name: 'hand-snapshot',
    family: 'snapshot',
    what: 'hand-written snapshot SCD2 (column compare, UPDATE + INSERT, deletion records)',
    run: (f) => days(f, stageSnapshot, handSnapshotDay),
    history: tesseraHistory('hand.entity'),
  },
  {
    name: 'tessera-snapshot',
    family: 'snapshot',
    what: 'Tessera SCD2 from a full snapshot (mergeScd2FromSnapshot)',
    run: (f) =>
      days(f, stageSnapshot, (e, day) =>
        e.mergeScd2FromSnapshot({
          ...scd2Spec,
          target: 't.entity',
          snapshotSql: 'SELECT * FROM src.entity',
          snapshotTime: `${commitTime(day).replace(' ', 'T')}Z`,
        }),
      ),
    history: tesseraHistory('t.entity'),
  },
  {
    name: 'dbt',
    family: 'snapshot',
    what: 'dbt-duckdb `snapshot` (check strategy, hard_deletes: new_record)',
    run: (f) => python_('dbt', f),
    history: (c) =>
      `SELECT ${cols}, dbt_valid_from AS valid_from, dbt_valid_to AS valid_to, ` +
      `CAST(dbt_is_deleted AS VARCHAR) = 'True' AS is_deleted FROM ${c}.main_dbt.entity_scd2`,
  },
  {
    name: 'sqlmesh',
    family: 'snapshot',
    what: 'SQLMesh SCD_TYPE_2_BY_COLUMN (invalidate_hard_deletes)',
    run: (f) => python_('sqlmesh', f),
    // sqlmesh.entity_scd2 is a view naming the catalog SQLMesh opened; read the table it points at.
    history: (c) =>
      `SELECT ${cols}, valid_from, valid_to, FALSE AS is_deleted FROM ${c}.sqlmesh__sqlmesh.${SQLMESH_TABLE}`,
  },
  {
    name: 'hand-log',
    family: 'log',
    what: "hand-written change-log SCD2 (the day's batch: UPDATE + INSERT)",
    run: (f) => days(f, async () => undefined, handLogDay),
    history: tesseraHistory('hand.entity'),
  },
  {
    name: 'tessera-batch',
    family: 'log',
    what: "Tessera SCD2 from the day's change batch (mergeScd2FromChanges)",
    run: (f) =>
      days(
        f,
        async () => undefined,
        (e, day) =>
          e.mergeScd2FromChanges({
            ...scd2Spec,
            target: 't.entity',
            changes: `src.changes_${day}`,
            orderBy: '_lsn',
            commitTimeColumn: '_commit_time',
            opColumn: '_op',
          }),
      ),
    history: tesseraHistory('t.entity'),
  },
  {
    name: 'tessera-asset',
    family: 'log',
    what: 'Tessera SCD2 as an `scd2` asset runs it (the whole raw change log, ordered by _pos)',
    run: (f) =>
      days(f, stageRawLog, (e) =>
        // The statement src/activities/materialize.ts builds for a `log` strategy scd2 asset.
        e.mergeScd2FromChanges({
          ...scd2Spec,
          target: 't.entity',
          changes: `SELECT *, "_lsn" || lpad(CAST("_seq" AS VARCHAR), 20, '0') AS "_pos" FROM raw.entity_changes`,
          orderBy: '_pos',
          orderParts: RAW_LOG_ORDER_PARTS,
          commitTimeColumn: '_commit_time',
          opColumn: '_op',
          lateWindowSeconds: 3600, // as materialize passes it (SCD2_LOG_LATE_WINDOW_SECONDS)
        }),
      ),
    history: tesseraHistory('t.entity'),
  },
];

/** Deliberate differences between the histories: what the comparison ignores, and why. */
const DIFFERENCES: readonly string[] = [
  'sqlmesh: a deleted key is closed (valid_to) without a deletion record: SCD_TYPE_2_BY_COLUMN with invalidate_hard_deletes has no deleted-row marker; compared on versions only.',
  "sqlmesh: the first versions are valid from 1970-01-01 and later ones from the run's execution time; dbt: from the run's wall clock; Tessera/hand-written: from the snapshot or commit time. Times are compared as day numbers (the rank of the run that wrote them).",
  'dbt adds dbt_scd_id and dbt_updated_at, Tessera adds is_current, source_lsn and row_hash: bookkeeping columns are not compared.',
  "deletion records' attribute values are not compared: dbt and the change-log paths keep the deleted row's last values; only (key, day) of deletion records is.",
];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Canonical history of one attached tool file: day numbers instead of times. */
function canonical(alias: string, tool: Tool): string {
  const h = tool.history(alias);
  return (
    `WITH h AS (${h}), days AS (SELECT valid_from AS t, dense_rank() OVER (ORDER BY valid_from) - 1 AS day ` +
    `FROM (SELECT DISTINCT valid_from FROM h)) ` +
    `SELECT h.id, ${TRACKED.map((c) => `CASE WHEN h.is_deleted THEN NULL ELSE h.${c} END AS ${c}`).join(', ')}, ` +
    `f.day AS from_day, t.day AS to_day, h.is_deleted FROM h JOIN days AS f ON f.t = h.valid_from ` +
    `LEFT JOIN days AS t ON t.t = h.valid_to`
  );
}

async function verify(files: ReadonlyMap<string, string>): Promise<string[]> {
  const db = await DuckDbClient.open(':memory:');
  const problems: string[] = [];
  try {
    const ref = 'tessera-snapshot';
    const aliasOf = (n: string): string => `x_${n.replace(/-/g, '_')}`;
    for (const [name, file] of files) await db.run(`ATTACH '${file}' AS ${aliasOf(name)} (READ_ONLY)`);
    if (files.has('sqlmesh')) {
      const [t] = await db.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_catalog = '${aliasOf('sqlmesh')}' ` +
          `AND table_schema = 'sqlmesh__sqlmesh' AND table_name LIKE 'sqlmesh__entity_scd2__%'`,
      );
      if (t) SQLMESH_TABLE = t.name;
    }
    const refTool = TOOLS.find((t) => t.name === ref)!;
    await db.run(`CREATE TABLE ref AS ${canonical(aliasOf(ref), refTool)}`);
    const [counts] = await db.query<{ versions: number; current: number; deleted: number }>(
      `SELECT count(*) AS versions, count(*) FILTER (WHERE to_day IS NULL AND NOT is_deleted) AS current, ` +
        `count(*) FILTER (WHERE is_deleted) AS deleted FROM ref`,
    );
    console.log(
      `reference (${ref}): ${counts?.versions} versions, ${counts?.current} current rows, ${counts?.deleted} deletion records`,
    );
    for (const [name] of files) {
      if (name === ref) continue;
      const tool = TOOLS.find((t) => t.name === name)!;
      // SQLMesh has no deletion records: compare it on the versions only.
      const only = name === 'sqlmesh' ? 'WHERE NOT is_deleted' : '';
      const [d] = await db.query<{ a: number; b: number }>(
        `WITH x AS (${canonical(aliasOf(name), tool)}) SELECT ` +
          `(SELECT count(*) FROM (SELECT * FROM x ${only} EXCEPT ALL SELECT * FROM ref ${only})) AS a, ` +
          `(SELECT count(*) FROM (SELECT * FROM ref ${only} EXCEPT ALL SELECT * FROM x ${only})) AS b`,
      );
      const ok = Number(d?.a) === 0 && Number(d?.b) === 0;
      console.log(
        `  ${name.padEnd(17)} ${ok ? 'identical history' : `DIFFERS: ${d?.a} rows only here, ${d?.b} only in the reference`}`,
      );
      if (!ok) problems.push(name);
    }
  } finally {
    await db.close();
  }
  return problems;
}

async function main(): Promise<void> {
  const only = flag('only', '');
  const tools = only
    ? TOOLS.filter((t) => only.split(',').includes(t.name))
    : TOOLS.filter((t) => python || !['dbt', 'sqlmesh'].includes(t.name));
  if (!python)
    console.log('TESSERA_BENCH_PYTHON is not set: dbt and SQLMesh are skipped (scripts/bench.sh sets it)');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data.duckdb');
  const loads: number[] = [];
  const sample = (): void => void loads.push(loadavg()[0]!);
  sample();
  const genSeconds = await withEngine(data, (e) =>
    seconds(() =>
      generateEntity({ run: async (sql) => (await e.execute(sql), 0), query: (s, p) => e.query(s, p) }, spec),
    ),
  );
  console.log(
    `SCD2 bench: ${spec.rows.toLocaleString()} keys × 6 columns, ${spec.days} day(s) at ${spec.rate * 100} % changes ` +
      `(98 % updates, 1 % inserts, 1 % deletes), ${rounds} round(s); data generated in ${genSeconds.toFixed(1)} s; ` +
      `DuckDB 1.5.6 everywhere; ${dir}`,
  );
  const times = new Map<string, { load: number[]; daily: number[] }>(
    tools.map((t) => [t.name, { load: [], daily: [] }]),
  );
  const finals = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    const order = tools.map((_, i) => tools[(i + round) % tools.length]!);
    for (const tool of order) {
      const file = join(dir, tool.name, 'work.duckdb');
      rmSync(join(dir, tool.name), { recursive: true, force: true });
      mkdirSync(join(dir, tool.name), { recursive: true });
      copyFileSync(data, file);
      sample();
      const s = await tool.run(file);
      sample();
      const t = times.get(tool.name)!;
      t.load.push(s[0]!);
      t.daily.push(...s.slice(1));
      console.log(
        `round ${round + 1} ${tool.name.padEnd(17)} load ${s[0]!.toFixed(2)} s, days ${s
          .slice(1)
          .map((x) => x.toFixed(2))
          .join(' ')} s (load avg ${loadavg()[0]!.toFixed(1)})`,
      );
      finals.set(tool.name, file);
    }
  }
  console.log('\nHistories (last round; times as day numbers):');
  const problems = await verify(finals);
  console.log('Deliberate differences (ignored by the comparison):');
  for (const d of DIFFERENCES) console.log(`  - ${d}`);

  const base: Record<Family, string> = { snapshot: 'hand-snapshot', log: 'hand-log' };
  const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
  console.log(
    `\n| tool | first load min / median s | daily change min / median s | daily vs hand-written | load vs hand-written |`,
  );
  console.log('|---|---|---|---|---|');
  for (const tool of tools) {
    const t = times.get(tool.name)!;
    const b = times.get(base[tool.family]);
    const ratio = (xs: number[], ys: number[] | undefined): string =>
      ys && ys.length ? `${fmt(median(xs) / median(ys))}×` : '–';
    console.log(
      `| ${tool.what} | ${fmt(Math.min(...t.load))} / ${fmt(median(t.load))} | ${fmt(Math.min(...t.daily))} / ${fmt(median(t.daily))} | ` +
        `${ratio(t.daily, b?.daily)} | ${ratio(t.load, b?.load)} |`,
    );
  }
  const peers = tools.filter((t) => t.family === 'snapshot');
  if (peers.length > 1) {
    console.log(`\nDaily change, median ratio row ÷ column (snapshot tools):`);
    console.log(`| | ${peers.map((p) => p.name).join(' | ')} |`);
    console.log(`|---|${peers.map(() => '---').join('|')}|`);
    for (const a of peers) {
      const ma = median(times.get(a.name)!.daily);
      console.log(
        `| ${a.name} | ${peers.map((b) => `${fmt(ma / median(times.get(b.name)!.daily))}`).join(' | ')} |`,
      );
    }
  }
  const ls = [...loads].sort((a, b) => a - b);
  console.log(
    `\nmachine: ${
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('processor')).length
    } cores; ` +
      `1-min load average during the run: min ${fmt(ls[0]!)}, median ${fmt(median(ls))}, max ${fmt(ls.at(-1)!)}`,
  );
  if (!keep) rmSync(dir, { recursive: true, force: true });
  if (problems.length > 0) {
    console.error(`histories differ: ${problems.join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
