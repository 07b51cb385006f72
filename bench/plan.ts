/**
 * Planning 1,000 synthetic assets × 365 daily partitions, as the worker's planRun activity does it: read the
 * ledger (`ledger.view(selected keys)`), then plan. Goal: ≤ 1 s with a full ledger, ledger reads included.
 *
 *   npx tsx bench/plan.ts [--assets 1000] [--days 365] [--rounds 3] [--pg] [--skip-sqlite]
 *
 * Ledgers:
 * - empty: nothing built yet (every step `missing`);
 * - full: every step of the range built once and fresh (the state after a year's backfill: the plan is
 *   empty, and every step's inputs must be checked against the ledger to know that);
 * - full, one root day changed: the same, plus one newer version of one root partition (what a daily
 *   run finds: its readers and theirs replan).
 * The full ledgers are stored in SQLite (the default ledger) and, with --pg, in PostgreSQL
 * (TESSERA_TEST_PG_URL); each figure is the median of `rounds`, split into the read and the plan, with this
 * process's CPU time beside it (on a busy machine the wall clock mostly measures the other processes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { asset, daily, defineDefinitions, lookback, type AssetDeclaration } from '../src/dsl/index.js';
import {
  ledgerViewOf,
  openPostgresLedger,
  openSqliteLedger,
  type Ledger,
  type LedgerView,
  type MaterializationRecord,
} from '../src/ledger/index.js';
import { latestTableMigration } from '../src/ledger/sql-latest.js';
import { openSqliteDatabase, sqliteDialect } from '../src/ledger/sqlite.js';
import { plan } from '../src/planner/index.js';
import type { PlanStep } from '../src/planner/types.js';

const { values } = parseArgs({
  options: {
    assets: { type: 'string', default: '1000' },
    days: { type: 'string', default: '365' },
    rounds: { type: 'string', default: '3' },
    pg: { type: 'boolean', default: false },
    'skip-sqlite': { type: 'boolean', default: false },
  },
});
const assetCount = Number(values.assets);
const days = Number(values.days);
const rounds = Number(values.rounds);
const start = '2025-01-01';
const end =
  DateTime.fromISO(start, { zone: 'utc' })
    .plus({ days: days - 1 })
    .toISODate() ?? start;

// A layered DAG: each asset reads up to three assets of earlier layers, one of them through a 2-day lookback.
const assets: AssetDeclaration[] = [];
for (let i = 0; i < assetCount; i++) {
  const deps =
    i < 10
      ? []
      : [
          `s.a${String(i - 10).padStart(4, '0')}`,
          { key: `s.a${String(Math.floor(i / 2)).padStart(4, '0')}`, mapping: lookback(2) },
          `s.a${String(i % 10).padStart(4, '0')}`,
        ];
  assets.push(
    asset({
      key: `s.a${String(i).padStart(4, '0')}`,
      kind: 'custom',
      partitions: daily({ start }),
      deps: [...new Map(deps.map((d) => [typeof d === 'string' ? d : d.key, d])).values()],
      sql: `select ${i} as x`,
    }),
  );
}

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (t0: number): number => performance.now() - t0;
/** This process's CPU time since `from` (ms): on a busy machine it moves far less than the wall clock. */
const cpuMs = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};
const line = (
  label: string,
  read: number[],
  planned: number[],
  cpu: number[],
  steps: number,
  fresh: number,
): void => {
  const total = read.map((r, i) => r + planned[i]!);
  console.log(
    `${label.padEnd(52)} read ${median(read).toFixed(0).padStart(5)} ms + plan ${median(planned).toFixed(0).padStart(5)} ms ` +
      `= ${median(total).toFixed(0).padStart(5)} ms, CPU ${median(cpu).toFixed(0).padStart(5)} ms  ` +
      `(${steps} steps, ${fresh} fresh; load ${loadavg()[0]!.toFixed(1)})`,
  );
};

let t0 = performance.now();
const defs = defineDefinitions({ assets });
console.log(`define + validate ${assetCount} assets: ${ms(t0).toFixed(0)} ms`);
const request = { selection: '*', range: { from: start, to: end } };
const keys = defs.select('*');

{
  const read: number[] = [];
  const planned: number[] = [];
  const cpu: number[] = [];
  let last = plan(defs, request, ledgerViewOf([]));
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    t0 = performance.now();
    last = plan(defs, request, ledgerViewOf([]));
    planned.push(ms(t0));
    cpu.push(cpuMs(c0));
    read.push(0);
  }
  line(
    `plan ${assetCount} × ${days}, empty ledger`,
    read,
    planned,
    cpu,
    last.steps.length,
    last.skippedFresh,
  );
}

// Every step built once, its inputs at the versions the ledger holds: all fresh.
const cold = plan(defs, request, ledgerViewOf([]));
const at = '2026-01-01T00:00:00.000Z';
const record = (
  s: Pick<PlanStep, 'assetKey' | 'partitionKey' | 'inputs'>,
  version: string,
  runId: string,
): MaterializationRecord => ({
  assetKey: s.assetKey,
  partitionKey: s.partitionKey,
  runId,
  codeVersion: defs.asset(s.assetKey).codeVersion,
  inputDataVersions: Object.fromEntries(s.inputs.map((i) => [i, 'v1'])),
  dataVersion: version,
  rowCount: 1,
  status: 'success',
  startedAt: at,
  endedAt: at,
});
const full = cold.steps.map((s) => record(s, 'v1', 'backfill'));
const rootDay = cold.steps.find((s) => s.upstream.length === 0 && s.partitionKey === end)!;
const changed = record(rootDay, 'v2', 'today');
console.log(`full ledger: ${full.length.toLocaleString()} materializations`);

async function measureStore(name: string, ledger: Ledger): Promise<void> {
  for (const [label, extra] of [
    ['full', []],
    ['full, one root day changed', [changed]],
  ] as const) {
    for (const r of extra) await ledger.recordMaterialization(r);
    const read: number[] = [];
    const planned: number[] = [];
    const cpu: number[] = [];
    let out = cold;
    for (let i = 0; i < rounds; i++) {
      const c0 = process.cpuUsage();
      t0 = performance.now();
      const view: LedgerView = await ledger.view(keys);
      read.push(ms(t0));
      t0 = performance.now();
      out = plan(defs, request, view);
      planned.push(ms(t0));
      cpu.push(cpuMs(c0));
    }
    line(
      `plan ${assetCount} × ${days}, ${label} (${name})`,
      read,
      planned,
      cpu,
      out.steps.length,
      out.skippedFresh,
    );
  }
}

/**
 * The rows recordMaterialization writes, in one transaction (365k single commits would take minutes), then the
 * latest-per-partition table filled the way migration 2 fills it for a ledger written before the table existed.
 * Returns that migration step's time.
 */
function writeSqlite(file: string, records: readonly MaterializationRecord[]): number {
  const db = openSqliteDatabase(file);
  try {
    const insert = db.prepare(
      `INSERT INTO materializations (asset_key, partition_key, run_id, code_version, input_data_versions, data_version,
         row_count, status, error, started_at, ended_at, started_ms, ended_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (const r of records)
        insert.run(
          r.assetKey,
          r.partitionKey,
          r.runId,
          r.codeVersion,
          JSON.stringify(r.inputDataVersions),
          r.dataVersion,
          r.rowCount,
          r.status,
          r.startedAt,
          r.endedAt,
          Date.parse(r.startedAt),
          Date.parse(r.endedAt),
        );
    })();
    const t = performance.now();
    db.exec(latestTableMigration(sqliteDialect).join(';\n'));
    return ms(t);
  } finally {
    db.close();
  }
}

class SkipStores extends Error {}
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-plan-'));
try {
  {
    // In memory: the planner alone on the full ledger.
    const read: number[] = [];
    const planned: number[] = [];
    const cpu: number[] = [];
    let out = cold;
    for (let i = 0; i < rounds; i++) {
      const c0 = process.cpuUsage();
      t0 = performance.now();
      const view = ledgerViewOf(full);
      read.push(ms(t0));
      t0 = performance.now();
      out = plan(defs, request, view);
      planned.push(ms(t0));
      cpu.push(cpuMs(c0));
    }
    line(
      `plan ${assetCount} × ${days}, full (in memory)`,
      read,
      planned,
      cpu,
      out.steps.length,
      out.skippedFresh,
    );
  }
  if (values['skip-sqlite']) throw new SkipStores();
  const file = join(dir, 'ledger.sqlite');
  await (await openSqliteLedger(file)).close(); // creates the ledger's tables
  t0 = performance.now();
  const backfilled = writeSqlite(file, full);
  console.log(
    `  (SQLite ledger written in ${(ms(t0) / 1000).toFixed(1)} s, of which ${(backfilled / 1000).toFixed(1)} s ` +
      `filling its latest table as the upgrade migration does)`,
  );
  const sqlite = await openSqliteLedger(file);
  await measureStore('SQLite', sqlite);
  await sqlite.close();
  if (values.pg) {
    const url = process.env['TESSERA_TEST_PG_URL'];
    if (!url) throw new Error('--pg needs TESSERA_TEST_PG_URL');
    const schema = `bench_plan_${process.pid}`;
    const pg = await openPostgresLedger(url, { schema });
    try {
      t0 = performance.now();
      for (const r of full) await pg.recordMaterialization(r);
      console.log(`  (PostgreSQL ledger written in ${(ms(t0) / 1000).toFixed(1)} s)`);
      await measureStore('PostgreSQL', pg);
    } finally {
      await pg.close();
    }
  }
} catch (e) {
  if (!(e instanceof SkipStores)) throw e;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB   (goal: read + plan ≤ 1000 ms)`,
);
