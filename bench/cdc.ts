/**
 * CDC bench: PostgreSQL (logical slot) → DuckDB raw table (file-backed), by default exactly as the worker runs it:
 * `PostgresCdcLoader.land` (the streaming replication protocol, the pgoutput plugin, the raw sink the loader
 * picks, batches of 20,000 confirmed after each write). Goal: ≥ 50,000 changes/s.
 *   1. throughput: N purchase changes committed up front, then drained (loader: one `land` pass; stream/sql:
 *      pollBatch until caught up); changes/s, wall clock, with the machine's load.
 *   2. where the time goes: the same steps as PostgresCdcSource's pollBatch (peek, parse, build records,
 *      land, advance) run by hand on another CHANGES/2 changes, each timed (wall, and this process's CPU:
 *      DuckDB's threads included, PostgreSQL's decoding not), per 20,000 changes.
 *   3. lag at steady load: a worker thread commits RATE changes/s while the source polls; end-to-end
 *      lag per change = time its row is in the raw table − its commit time; p50/p95/p99.
 * --source loader (default: PostgresCdcLoader as the worker holds it; steps 2 and 3 are skipped), stream
 * (PostgresStreamCdcSource, holding the slot between polls) or sql (PostgresCdcSource, peek/advance); --plugin pgoutput (default) or wal2json. --rounds R repeats step 1 and
 * prints best and median, plus CPU-seconds per 20,000 changes: this process (Node + DuckDB threads) and,
 * when PostgreSQL runs on this machine, the capture's PostgreSQL backends (decoding), read from /proc; and
 * how busy the main thread was (event loop utilization).
 * Usage: npx tsx bench/cdc.ts [--source loader|stream|sql] [--plugin pgoutput|wal2json] [--rounds 3]
 *        [--changes 300000] [--rate 5000] [--seconds 20] [--batch 20000] [--skip-stages] [--skip-lag]
 * Needs TESSERA_TEST_PG_URL or starts scripts/services/postgres.sh.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { DateTime } from 'luxon';
import pg from 'pg';
import { createDuckDbEngine } from '../src/engines/index.js';
import type { Engine } from '../src/engines/types.js';
import { ChangeLander } from '../src/sources/cdc/lander.js';
import { PgRecordBuilder } from '../src/sources/cdc/pg-records.js';
import { PgTypeRegistry } from '../src/sources/cdc/pg-types.js';
import { PostgresCdcLoader } from '../src/sources/cdc/loader.js';
import { PostgresCdcSource } from '../src/sources/cdc/postgres-source.js';
import { PostgresStreamCdcSource } from '../src/sources/cdc/postgres-stream-source.js';
import { parseTableRef } from '../src/sources/cdc/snapshot.js';
import {
  addTablesOption,
  groupTransactions,
  logicalFromWal2json,
  parseWal2json,
  PEEK_SQL,
} from '../src/sources/cdc/wal2json.js';
import { PEEK_PGOUTPUT_SQL, PgOutputDecoder } from '../src/sources/cdc/pgoutput.js';
import { OLTP_TABLES } from '../src/sources/oltp/migrate.js';
import { PiiPolicy } from '../src/sources/pii.js';
import { EngineRawSink } from '../src/sources/sinks/engine-sink.js';
import { scratchDatabase } from '../test/helpers/postgres.js';

// Run with the worker's young-generation size (bin/tessera.js sets it for every tessera process).
if (!/--max-semi-space-size/.test(process.env['NODE_OPTIONS'] ?? '')) {
  const nodeOptions = `${process.env['NODE_OPTIONS'] ?? ''} --max-semi-space-size=64`.trim();
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  process.exit(child.status ?? 1);
}

const { values: args } = parseArgs({
  options: {
    changes: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    batch: { type: 'string', default: '20000' },
    source: { type: 'string', default: 'loader' },
    plugin: { type: 'string', default: 'pgoutput' },
    rounds: { type: 'string', default: '1' },
    'skip-stages': { type: 'boolean', default: false },
    'skip-lag': { type: 'boolean', default: false },
  },
});
const CHANGES = Number(args.changes);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BATCH = Number(args.batch);
const ROUNDS = Number(args.rounds);
if (args.source !== 'sql' && args.source !== 'stream' && args.source !== 'loader')
  throw new Error('--source is loader, stream or sql');
const LOADER = args.source === 'loader';
if (args.plugin !== 'wal2json' && args.plugin !== 'pgoutput')
  throw new Error('--plugin is wal2json or pgoutput');
const PLUGIN: 'wal2json' | 'pgoutput' = args.plugin;

/** CPU seconds (user + system) per PostgreSQL backend of the capture, from /proc; undefined when not local. */
async function backendCpu(client: pg.ClientBase, slot: string): Promise<Map<number, number> | undefined> {
  const pids = await client.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name IN ($1, $2)`,
    [`tessera-cdc-${slot}`, `tessera-cdc-stream-${slot}`],
  );
  const out = new Map<number, number>();
  for (const { pid } of pids.rows) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100); // utime, stime in ticks (USER_HZ 100)
    } catch {
      return undefined;
    }
  }
  return out;
}

/** CPU the backends used between two readings (a backend started in between counts whole). */
function cpuBetween(
  a: Map<number, number> | undefined,
  b: Map<number, number> | undefined,
): number | undefined {
  if (!a || !b || b.size === 0) return undefined;
  let total = 0;
  for (const [pid, cpu] of b) total += cpu - (a.get(pid) ?? 0);
  return total;
}

const INSERT = (
  n: number,
) => `INSERT INTO purchases (user_id, listing_id, status, amount_cents, currency, event_date, event_start_local, guests)
  SELECT (random() * 1e6)::bigint, 1, 'pending', (random() * 1e5)::bigint, 'EUR', date '2026-12-01' + (g % 30), timestamp '2026-12-01 18:00' + g * interval '1 minute', g % 200
  FROM generate_series(1, ${n}) g`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** `n` changes on purchases: n/2 inserts, then updates of those rows, in transactions of 1,000. */
async function generate(client: pg.ClientBase, n: number): Promise<void> {
  const before = Number(
    (await client.query<{ m: string }>('SELECT coalesce(max(purchase_id), 0) AS m FROM purchases')).rows[0]
      ?.m ?? 0,
  );
  const inserts = Math.floor(n / 2);
  for (let done = 0; done < inserts; done += 1000) await client.query(INSERT(Math.min(1000, inserts - done)));
  for (let id = before + 1; id <= before + inserts; id += 1000) {
    await client.query(
      `UPDATE purchases SET status = 'confirmed', confirmed_at = now() WHERE purchase_id BETWEEN $1 AND $2`,
      [id, Math.min(id + 999, before + inserts)],
    );
  }
}

/** Drains the slot with pollBatch's steps done by hand, timing each. */
async function stages(url: string, engine: Engine): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1`,
  );
  const types = new PgTypeRegistry();
  const pii = PiiPolicy.create('inventory_db', {}, undefined);
  const builder = new PgRecordBuilder(types, pii);
  const lander = new ChangeLander('inventory_db', new EngineRawSink(engine), pii);
  const tables = addTablesOption(OLTP_TABLES.inventory_db.map(parseTableRef));
  const names = ['peek', 'parse', 'build', 'land', 'advance'] as const;
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  async function step<T>(name: (typeof names)[number], fn: () => Promise<T> | T): Promise<T> {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await fn();
    wall[name] = (wall[name] ?? 0) + performance.now() - t0;
    const used = process.cpuUsage(c0);
    cpu[name] = (cpu[name] ?? 0) + (used.user + used.system) / 1000;
    return out;
  }
  let total = 0;
  for (;;) {
    const res = await step('peek', () =>
      PLUGIN === 'wal2json'
        ? client.query<{ data: string | Buffer }>(PEEK_SQL, ['bench_cdc', BATCH, tables])
        : client.query<{ data: string | Buffer }>(PEEK_PGOUTPUT_SQL, ['bench_cdc', BATCH, 'bench_cdc']),
    );
    const txs = await step('parse', () => {
      if (PLUGIN === 'wal2json')
        return groupTransactions(res.rows.map((r) => parseWal2json(String(r.data)))).map(logicalFromWal2json);
      const decoder = new PgOutputDecoder();
      return res.rows.flatMap((r) => decoder.push(r.data as Buffer) ?? []);
    });
    const unknown = builder.unknownOids(txs);
    if (unknown.length > 0) await types.resolve(client, unknown);
    const records = await step('build', () => txs.flatMap((tx) => builder.fromTransaction(tx)));
    await step('land', () => lander.land(records));
    total += records.length;
    const last = txs.at(-1);
    if (last)
      await step('advance', () =>
        client.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', ['bench_cdc', last.endLsn]),
      );
    if (res.rows.length < BATCH) break;
  }
  await client.end();
  const per = (ms: number | undefined) => Math.round(((ms ?? 0) * 20_000) / Math.max(total, 1));
  console.log(
    `where the time goes, per 20,000 changes (${total} changes): ` +
      names.map((n) => `${n} ${per(wall[n])} ms (cpu ${per(cpu[n])})`).join(', '),
  );
}

async function main(): Promise<void> {
  const db = await scratchDatabase('inventory_db');
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-cdc-'));
  const engine = await createDuckDbEngine({ type: 'duckdb', path: join(dir, 'warehouse.duckdb') });
  const sink = new EngineRawSink(engine);
  const config = {
    url: db.url,
    slot: 'bench_cdc',
    database: 'inventory_db',
    tables: OLTP_TABLES.inventory_db,
    plugin: PLUGIN,
  };
  // The worker's loader (it builds its own stream source and raw sink from the engine).
  const loader = LOADER
    ? new PostgresCdcLoader({
        engine,
        url: db.url,
        database: 'inventory_db',
        tables: OLTP_TABLES.inventory_db,
        slot: 'bench_cdc',
        plugin: PLUGIN,
      })
    : undefined;
  const src =
    args.source !== 'sql'
      ? new PostgresStreamCdcSource({ ...config, holdSlot: true })
      : new PostgresCdcSource(config);
  try {
    await db.client.query(
      `INSERT INTO vendors (name, category, city, country) VALUES ('V', 'venue', 'Berlin', 'DE')`,
    );
    await db.client.query(
      `INSERT INTO listings (vendor_id, listing_type, title, city, price_cents, currency) VALUES (1, 'event_space', 'L', 'Berlin', 1, 'EUR')`,
    );
    if (loader) {
      await loader.init();
      await loader.land(() => undefined);
    } else {
      await src.init(sink);
      await src.pollBatch(sink);
    }

    // 1. Throughput: half inserts, half updates, in transactions of 1,000 changes.
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A slot restarts decoding at its restart_lsn, which moves only past a running-transactions record
      // (logged every 15 s and at checkpoints) the capture has confirmed. Rounds seconds apart would
      // each re-read every round before: a checkpoint and a caught-up poll stand for those 15 s.
      await db.client.query('CHECKPOINT');
      if (loader) await loader.land(() => undefined);
      else await src.pollBatch(sink);
      // A backlog drain: no stream may decode ahead of the timed part (it starts inside it).
      if (loader) await loader.close();
      else if (src instanceof PostgresStreamCdcSource) await src.close();
      await generate(db.client, CHANGES);
      const pg0 = await backendCpu(db.client, 'bench_cdc');
      const c0 = process.cpuUsage();
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      let landed = 0;
      let polls = 0;
      if (loader) {
        // One pass, as an ingest step runs it; `landed` counts rows written to raw tables.
        landed = (await loader.land(() => void polls++)).landed;
      } else {
        for (;;) {
          const r = await src.pollBatch(sink, { maxChanges: BATCH });
          landed += r.changes;
          polls++;
          if (r.caughtUp) break;
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const used = process.cpuUsage(c0);
      const elu = performance.eventLoopUtilization(elu0).utilization;
      const pg1 = await backendCpu(db.client, 'bench_cdc');
      const per20k = (s: number) => ((s * 20_000) / Math.max(landed, 1)).toFixed(2);
      const node = (used.user + used.system) / 1e6;
      const pgUsed = cpuBetween(pg0, pg1);
      const pgCpu = pgUsed === undefined ? 'n/a' : `${per20k(pgUsed)} s`;
      rates.push(landed / seconds);
      console.log(
        `throughput [${args.source}/${PLUGIN}] round ${round + 1}: ${landed} changes in ${seconds.toFixed(2)} s over ${polls} polls = ` +
          `${Math.round(landed / seconds)} changes/s (batch ${BATCH}); CPU per 20,000 changes: this process ${per20k(node)} s, ` +
          `PostgreSQL backends ${pgCpu}; main thread busy ${Math.round(elu * 100)}%; 1-min load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
    const sorted = [...rates].sort((x, y) => x - y);
    console.log(
      `throughput [${args.source}/${PLUGIN}] over ${ROUNDS} rounds: best ${Math.round(sorted.at(-1) ?? 0)}, median ${Math.round(percentile(sorted, 50))} changes/s`,
    );

    if (loader) return; // steps 2 and 3 drive the source by hand: --source stream
    // 2. Where the time goes.
    if (!args['skip-stages']) {
      if (src instanceof PostgresStreamCdcSource) await src.close(); // releases the slot for the peeks
      await generate(db.client, Math.floor(CHANGES / 2));
      await stages(db.url, engine);
    }
    if (args['skip-lag']) return;

    // 3. Lag at a steady load, generated in a worker thread so polling does not slow the load down.
    const worker = new Worker(
      `const { Client } = require('pg'); const { workerData: w, parentPort } = require('node:worker_threads');
       (async () => {
         const c = new Client({ connectionString: w.url }); await c.connect();
         const start = Date.now(); let sent = 0;
         while (Date.now() - start < w.seconds * 1000) {
           const due = Math.floor(((Date.now() - start) / 1000) * w.rate) - sent;
           if (due > 0) { await c.query(w.insert.replace('__N__', String(due))); sent += due; }
           else await new Promise((r) => setTimeout(r, 10));
         }
         await c.end(); parentPort.postMessage(sent);
       })();`,
      {
        eval: true,
        workerData: {
          url: db.url,
          rate: RATE,
          seconds: SECONDS,
          insert: INSERT(0).replace('generate_series(1, 0)', 'generate_series(1, __N__)'),
        },
      },
    );
    const sent = new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    let generating = true;
    void sent.then(() => (generating = false));
    const lags: number[] = [];
    let last =
      (await engine.query<{ m: string }>(`SELECT max(_lsn) AS m FROM raw.inventory_db_purchases_changes`))[0]
        ?.m ?? '';
    const loadStart = performance.now();
    for (;;) {
      const r = await src.pollBatch(sink, { maxChanges: BATCH });
      const now = DateTime.utc().toMillis();
      if (r.changes > 0) {
        const rows = await engine.query<{ t: string }>(
          `SELECT _commit_time::VARCHAR AS t FROM raw.inventory_db_purchases_changes WHERE _lsn > ? AND _op = 'c'`,
          [last],
        );
        for (const row of rows) lags.push(now - DateTime.fromSQL(row.t, { zone: 'utc' }).toMillis());
        last = r.lsn ?? last;
      }
      if (!generating && r.caughtUp) break;
      if (r.caughtUp) await new Promise((res) => setTimeout(res, 50));
    }
    const achieved = (await sent) / ((performance.now() - loadStart) / 1000);
    lags.sort((a, b) => a - b);
    console.log(
      `lag at ${Math.round(achieved)} changes/s over ${SECONDS} s (${lags.length} changes): ` +
        `p50 ${percentile(lags, 50)} ms, p95 ${percentile(lags, 95)} ms, p99 ${percentile(lags, 99)} ms, max ${lags.at(-1)} ms`,
    );
  } finally {
    await (loader ?? src).dropSlot().catch(() => undefined);
    await loader?.close();
    await src.close();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  }
}

await main();
