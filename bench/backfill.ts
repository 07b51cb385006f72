/**
 * A backfill of the BookMyEvent graph through the real worker, against the same SQL run back to back with no
 * orchestration (issue 17: ≤ 1.5×, worker peak memory ≤ 500 MB). docs/benchmarks.md, "A year's backfill".
 *
 *   bash scripts/bench.sh backfill [--days 7] [--events-per-day 20000] [--concurrency 4] [--window-days 14]
 *   bash scripts/bench.sh backfill --year          # 365 days × 100,000 events/day (the issue's size: hours)
 *   bash scripts/bench.sh backfill --engine trino --days 1 --events-per-day 2000   # Trino over Iceberg
 *
 * --keep leaves the state in --dir (default <TESSERA_STATE_DIR>/bench-backfill), with a copy of the raw landing;
 * --reuse then starts another round from it (same --days and --start), skipping the simulation and the landing.
 * --no-profile skips step 5. --memory-limit 256MB sets the worker's DuckDB memory_limit (engines.duckdb.memoryLimit).
 *
 * 1. The simulator writes the days into a landing folder (Debezium change logs, Snowplow TSV, ads, FX), its
 *    populations scaled so the clickstream averages about --events-per-day.
 * 2. Raw is landed once, not timed: `tessera backfill start -s group:raw` through a worker that then stops.
 *    The warehouse and ledger are copied (identical raw data for every contender).
 * 3. Timed: `tessera backfill start -s 'not group:raw'` (the daily schedule's selection) over the days, from
 *    the CLI's spawn to its exit, through a fresh `tessera worker` on a private task queue and state dir
 *    (Temporal at TESSERA_TEMPORAL_ADDRESS); the worker's peak memory is every process's VmHWM in its tree.
 * 4. Timed: the baseline (bench/backfill/baseline.ts): the steps the worker ran, in the order it started them
 *    (from its ledger), each step's SQL rendered as the activity renders it, on one DuckDB connection, on the
 *    copy: no Temporal, ledger, checks or engine bookkeeping.
 * 5. Timed, unless --no-profile: the worker's own materializeStep, in this process, step after step on another
 *    copy, its engine and ledger calls timed (bench/backfill/profile.ts): where the orchestration time goes.
 * 6. Every non-raw table of the three warehouses must have the same content hash; a difference fails the run.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { bookMyEvent } from '../src/assets/index.js';
import { openLedger } from '../src/ledger/index.js';
import { simulate } from '../src/simulator/index.js';
import { runBaseline, type BaselineStep } from './backfill/baseline.js';
import { differences, tableHashes } from './backfill/hash.js';
import { startWorker, tessera, type CliRun, type WorkerMemory } from './backfill/processes.js';
import { runProfile, type ProfileResult } from './backfill/profile.js';
import { openTrinoSide, type TrinoSide } from './backfill/trino.js';

const { values: o } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    'events-per-day': { type: 'string', default: '20000' },
    start: { type: 'string', default: '2026-01-01' },
    seed: { type: 'string', default: '42' },
    concurrency: { type: 'string', default: '4' },
    'window-days': { type: 'string', default: '14' },
    year: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    engine: { type: 'string', default: 'duckdb' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    'memory-limit': { type: 'string' },
  },
});

const whole = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a whole number ≥ 1, not "${v}"`);
  return n;
};
const DAYS = o.year ? 365 : whole('days', o.days);
const EVENTS_PER_DAY = o.year ? 100_000 : whole('events-per-day', o['events-per-day']);
const CONCURRENCY = whole('concurrency', o.concurrency);
const WINDOW_DAYS = whole('window-days', o['window-days']);
const SEED = whole('seed', o.seed);
// The in-process replay needs a third copy of the warehouse: DuckDB only.
const PROFILE = !o['no-profile'] && o.engine === 'duckdb';
if (!/^\d{4}-\d{2}-\d{2}$/.test(o.start))
  throw new Error(`--start "${o.start}" is not a date like 2026-01-01`);
if (o.engine !== 'duckdb' && o.engine !== 'trino')
  throw new Error(`--engine ${o.engine}: duckdb or trino (Trino over Iceberg, TESSERA_TRINO_URL)`);
const ENGINE = o.engine;
const FROM = o.start;
const TO = DateTime.fromISO(FROM, { zone: 'utc' })
  .plus({ days: DAYS - 1 })
  .toISODate();
if (!TO) throw new Error(`bad --start ${FROM}`);
const DIR = resolve(o.dir ?? join(process.env.TESSERA_STATE_DIR ?? '.state', 'bench-backfill'));

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const s = (x: number): string => `${x.toFixed(1)} s`;
const loads: number[] = [];
const load = (): number => {
  const l = loadavg()[0] ?? 0;
  loads.push(l);
  return l;
};

/**
 * The simulator's clickstream events per day at volume 1 over `days` days, from its own model: anonymous
 * sessions are steady, registered users' sessions grow with the users (125 sign-ups a day, 3× on day 0),
 * ~10.6 events per session all told (fitted on a 3-day run: 20,518 events). Only sizes the run: the figure
 * printed is the simulator's own count.
 */
function eventsPerDayAtVolume1(days: number): number {
  const sessions = 420 * days + 0.6 * 125 * ((days * (days + 3)) / 2);
  return (10.6 * sessions) / days;
}

/**
 * A config on private state: its own warehouse (a DuckDB file, or an Iceberg catalog of Trino's), ledger, landing
 * folder and task queue.
 */
function writeConfig(dir: string, trino?: TrinoSide): string {
  const file = join(dir, 'tessera.yaml');
  const config = {
    environment: 'local',
    stateDir: dir,
    defaultEngine: trino ? 'trino' : 'duckdb',
    engines: trino
      ? { trino: { type: 'trino', url: trino.url, catalog: trino.workerCatalog } }
      : {
          duckdb: {
            type: 'duckdb',
            path: join(dir, 'warehouse.duckdb'),
            // DuckDB's memory_limit for the worker (default: 80% of RAM), to see what bounds its peak.
            ...(o['memory-limit'] ? { memoryLimit: o['memory-limit'] } : {}),
          },
        },
    ledger: { type: 'sqlite', path: join(dir, 'ledger.sqlite') },
    temporal: {
      address: process.env.TESSERA_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: `tessera-bench-backfill-${process.pid}`,
      uiUrl: 'http://127.0.0.1:8233',
    },
    worker: { maxConcurrentActivities: 8 },
    // Landing files complete their period: no lateness to wait for (as the demo).
    lateness: { defaultMinutes: 0 },
    alerts: { routes: [{ name: 'log', type: 'log' }] },
  };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`); // JSON is YAML
  return file;
}

function copyDb(from: string, to: string): void {
  for (const suffix of ['', '.wal', '-wal', '-shm']) {
    rmSync(to + suffix, { force: true });
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  }
}

async function backfill(config: string, selection: string, id: string): Promise<CliRun> {
  const r = await tessera(config, [
    'backfill',
    'start',
    '-s',
    selection,
    '--from',
    FROM,
    '--to',
    TO ?? FROM,
    '--id',
    id,
    '--concurrency',
    String(CONCURRENCY),
    '--window-days',
    String(WINDOW_DAYS),
  ]);
  if (r.code !== 0)
    throw new Error(`backfill ${selection} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function memoryLines(m: WorkerMemory): string[] {
  return [
    ...m.processes.map((p) => `  pid ${p.pid} VmHWM ${p.hwmMb.toFixed(0)} MB  (${p.command})`),
    `  tree: ${m.readyHwmMb.toFixed(0)} MB (sum of VmHWM) once started, before any step; largest sampled sum of VmRSS ${m.peakTreeRssMb.toFixed(0)} MB; sum of VmHWM ${m.processes
      .reduce((a, p) => a + p.hwmMb, 0)
      .toFixed(0)} MB`,
  ];
}

const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0 ? 0 : ((v[(v.length - 1) >> 1] ?? 0) + (v[v.length >> 1] ?? 0)) / 2;
};

const REUSE = o.reuse;
if (REUSE && ENGINE !== 'duckdb')
  throw new Error('--reuse keeps DuckDB files: it works with --engine duckdb only');
const RAW_COPY = join(DIR, 'raw.duckdb');
const RAW_LEDGER = join(DIR, 'raw-ledger.sqlite');

/** What --reuse reads back of a kept run's simulation: its size, and the counts printed. */
const keptTruth = z.object({
  start: z.string(),
  days: z.number(),
  totals: z.object({ events: z.number() }).passthrough(),
  files: z.object({ debezium_events: z.record(z.string(), z.number()) }).passthrough(),
});

async function main(): Promise<void> {
  if (REUSE) {
    for (const f of [RAW_COPY, RAW_LEDGER, join(DIR, 'landing', 'truth.json')])
      if (!existsSync(f))
        throw new Error(`--reuse: ${f} is missing (run once with --keep and the same --dir)`);
  } else {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(join(DIR, 'landing'), { recursive: true });
  }
  const trino = ENGINE === 'trino' ? await openTrinoSide() : undefined;
  try {
    await bench(trino);
  } finally {
    await trino?.close();
  }
}

async function bench(trino: TrinoSide | undefined): Promise<void> {
  const config = writeConfig(DIR, trino);
  process.env.TESSERA_PII_KEY ??= 'bench-only-pii-key';
  say(
    `backfill bench on ${ENGINE}: ${DAYS} days from ${FROM}${REUSE ? '' : `, ~${EVENTS_PER_DAY} events/day`}, concurrency ${CONCURRENCY}, window ${WINDOW_DAYS} days${o['memory-limit'] ? `, worker DuckDB memory_limit ${o['memory-limit']}` : ''}, in ${DIR} (load ${load().toFixed(1)})`,
  );

  const warehouse = join(DIR, 'warehouse.duckdb');
  const ledgerFile = join(DIR, 'ledger.sqlite');
  if (REUSE) {
    // A kept run's sources and raw landing, restored: same size, nothing simulated or landed again.
    const kept = keptTruth.parse(JSON.parse(readFileSync(join(DIR, 'landing', 'truth.json'), 'utf8')));
    if (kept.start !== FROM || kept.days !== DAYS)
      throw new Error(`--reuse: ${DIR} holds ${kept.days} days from ${kept.start}, not ${DAYS} from ${FROM}`);
    copyDb(RAW_COPY, warehouse);
    copyDb(RAW_LEDGER, ledgerFile);
    const changes = Object.values(kept.files.debezium_events).reduce((a, b) => a + b, 0);
    say(
      `reused ${DIR}: ${kept.totals.events.toLocaleString('en')} clickstream events (${Math.round(kept.totals.events / DAYS).toLocaleString('en')}/day), ${changes.toLocaleString('en')} CDC changes, raw as landed before`,
    );
  } else {
    // 1. Sources.
    const volume = EVENTS_PER_DAY / eventsPerDayAtVolume1(DAYS);
    let t = performance.now();
    const truth = await simulate({
      seed: SEED,
      start: FROM,
      days: DAYS,
      landingDir: join(DIR, 'landing'),
      volume,
    });
    const events = Number(truth.totals.events);
    const changes = Object.values(truth.files.debezium_events).reduce((a, b) => a + b, 0);
    say(
      `simulated (volume ${volume.toFixed(3)}): ${events.toLocaleString('en')} clickstream events (${Math.round(events / DAYS).toLocaleString('en')}/day), ${changes.toLocaleString('en')} CDC changes, in ${s((performance.now() - t) / 1000)}`,
    );

    // 2. Raw, once, untimed.
    t = performance.now();
    const lander = await startWorker({ config, concurrency: 8 });
    await backfill(config, 'group:raw', `bench-raw-${process.pid}`);
    await lander.stop();
    say(`raw landed in ${s((performance.now() - t) / 1000)} (not timed)`);
    if (o.keep && !trino) {
      copyDb(warehouse, RAW_COPY);
      copyDb(ledgerFile, RAW_LEDGER);
    }
  }
  if (trino) await trino.copyRaw();
  else copyDb(warehouse, join(DIR, 'baseline.duckdb'));
  if (PROFILE) {
    copyDb(warehouse, join(DIR, 'profile.duckdb'));
    copyDb(ledgerFile, join(DIR, 'profile-ledger.sqlite'));
  }

  // 3. The orchestrated backfill.
  const loadBefore = load();
  const sampler = setInterval(load, 5_000);
  const worker = await startWorker({ config });
  const startedAt = new Date().toISOString();
  let run: CliRun;
  let memory: WorkerMemory;
  try {
    run = await backfill(config, 'not group:raw', `bench-${process.pid}`);
  } finally {
    memory = await worker.stop();
  }
  clearInterval(sampler);
  const loadAfterWorker = load();

  // The steps the worker ran, in the order it started them: the baseline's script.
  const ledger = await openLedger({ type: 'sqlite', path: ledgerFile });
  const records = (await ledger.materializations({ all: true }))
    .filter((r) => r.startedAt >= startedAt)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  await ledger.close();
  const failed = records.filter((r) => r.status !== 'success');
  if (failed.length > 0)
    throw new Error(`the worker's backfill failed ${failed.length} step(s): ${failed[0]?.error}`);
  const steps: BaselineStep[] = records.map((r) => ({ assetKey: r.assetKey, partitionKey: r.partitionKey }));
  const activitySeconds = new Map<string, number>();
  for (const r of records)
    activitySeconds.set(
      `${r.assetKey}@${r.partitionKey}`,
      (activitySeconds.get(`${r.assetKey}@${r.partitionKey}`) ?? 0) +
        (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000,
    );
  const orchestrated = run.seconds;
  const firstStart = Date.parse(records[0]?.startedAt ?? '');
  const lastEnd = Math.max(...records.map((r) => Date.parse(r.endedAt)));
  const span = records.length === 0 ? 0 : (lastEnd - firstStart) / 1000;

  // 4. The baseline.
  const baseline = trino
    ? await trino.baseline(bookMyEvent, steps)
    : await runBaseline({ path: join(DIR, 'baseline.duckdb'), definitions: bookMyEvent, steps });
  const loadAfterBaseline = load();

  // 5. Where the time goes.
  let profile: ProfileResult | undefined;
  if (PROFILE) {
    profile = await runProfile({
      warehouse: join(DIR, 'profile.duckdb'),
      ledger: join(DIR, 'profile-ledger.sqlite'),
      definitions: bookMyEvent,
      steps,
      readsUntil:
        DateTime.fromISO(TO ?? FROM, { zone: 'utc' })
          .plus({ days: 1 })
          .toISO() ?? '',
    });
    load();
    if (profile.failed.length > 0) throw new Error(`in-process replay failed: ${profile.failed.join('; ')}`);
  }

  // 6. Same tables.
  const notRaw = (t: string): boolean => t.startsWith('raw.');
  const ours = trino ? await trino.hashes('worker', notRaw) : await tableHashes(warehouse, notRaw);
  const diffs = differences(
    ours,
    trino ? await trino.hashes('baseline', notRaw) : await tableHashes(join(DIR, 'baseline.duckdb'), notRaw),
  );
  const profileDiffs = profile
    ? differences(ours, await tableHashes(join(DIR, 'profile.duckdb'), notRaw))
    : [];

  // Report.
  const stepsTotal = records.length;
  say('');
  say(
    `steps: ${stepsTotal} (${new Set(steps.map((x) => x.assetKey)).size} assets), ${ours.size} tables compared`,
  );
  say(
    `orchestrated: \`tessera backfill\` ${s(orchestrated)} from spawn to exit, concurrency ${CONCURRENCY}: spawn → first step ${s((firstStart - run.spawnedAt) / 1000)} (CLI start, planning, dispatch), first step → last step end ${s(span)}, then → exit ${s((run.exitedAt - lastEnd) / 1000)}; Σ step activities ${s([...activitySeconds.values()].reduce((a, b) => a + b, 0))}`,
  );
  say(
    `baseline: the same ${stepsTotal} steps' SQL back to back on one ${trino ? 'Trino client' : 'DuckDB connection'} ${s(baseline.seconds)}`,
  );
  say(`RATIO orchestrated ÷ baseline: ${(orchestrated / baseline.seconds).toFixed(2)}× (goal ≤ 1.5×)`);
  say(`worker memory (goal ≤ 500 MB):`);
  for (const line of memoryLines(memory)) say(line);
  say(
    `load (1-min): before ${loadBefore.toFixed(1)}, after the worker ${loadAfterWorker.toFixed(1)}, after the baseline ${loadAfterBaseline.toFixed(1)}; median of samples ${median(loads).toFixed(1)}, range ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  );
  if (profile) {
    const sum = (k: 'write' | 'checks' | 'ledger' | 'seconds'): number =>
      profile.steps.reduce((a, x) => a + x[k], 0);
    const other = sum('seconds') - sum('write') - sum('checks') - sum('ledger');
    say('');
    say(`where the time goes (the activity in-process, step after step: ${s(profile.seconds)}):`);
    say(
      `  engine writes (SQL + the engine's bookkeeping) ${s(sum('write'))}  vs the baseline's SQL ${s(baseline.seconds)}`,
    );
    say(`  checks ${s(sum('checks'))}, ledger ${s(sum('ledger'))}, rest of the activity ${s(other)}`);
    say(
      `  dispatch and planning (the worker run's wall − the in-process total, at concurrency ${CONCURRENCY}): ${s(orchestrated - profile.seconds)}`,
    );
    say("  inside the engine's writes, by phase (between the engine's own step marks):");
    for (const [phase, sec] of [...profile.phases].sort((a, b) => b[1] - a[1]))
      if (sec >= 0.05) say(`    ${phase.padEnd(52)} ${s(sec)}`);
    say('');
    say(
      'per asset (seconds): baseline | in-process write, checks, ledger | worker activity (Σ over its steps)',
    );
    const byAsset = new Map<
      string,
      { n: number; base: number; write: number; checks: number; ledger: number; act: number }
    >();
    profile.steps.forEach((p, i) => {
      const a = byAsset.get(p.assetKey) ?? { n: 0, base: 0, write: 0, checks: 0, ledger: 0, act: 0 };
      a.n++;
      a.base += baseline.steps[i]?.seconds ?? 0;
      a.write += p.write;
      a.checks += p.checks;
      a.ledger += p.ledger;
      a.act += activitySeconds.get(`${p.assetKey}@${p.partitionKey}`) ?? 0;
      byAsset.set(p.assetKey, a);
    });
    for (const [key, a] of [...byAsset].sort((x, y) => y[1].act - x[1].act))
      say(
        `  ${key.padEnd(36)} ${String(a.n).padStart(5)} steps  ${a.base.toFixed(2).padStart(7)} | ${a.write.toFixed(2).padStart(7)} ${a.checks.toFixed(2).padStart(6)} ${a.ledger.toFixed(2).padStart(6)} | ${a.act.toFixed(2).padStart(7)}`,
      );
  }
  say('');
  if (diffs.length > 0 || profileDiffs.length > 0) {
    for (const d of diffs) say(`DIFFERENT (worker vs baseline) ${d}`);
    for (const d of profileDiffs) say(`DIFFERENT (worker vs in-process) ${d}`);
    process.exitCode = 1;
    return;
  }
  say(
    `identical: all ${ours.size} non-raw tables have the same content hash in the worker's and the baseline's warehouse${profile ? ' (and the in-process replay)' : ''}`,
  );
  if (!o.keep) rmSync(DIR, { recursive: true, force: true });
}

await main();
