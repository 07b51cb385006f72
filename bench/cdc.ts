/**
 * CDC bench: PostgreSQL (wal2json slot) → DuckDB raw table.
 *   1. throughput: N purchase changes committed up front, then drained with pollBatch; changes/s.
 *   2. lag at steady load: a worker thread commits RATE changes/s while the source polls; end-to-end
 *      lag per change = time its row is in the raw table − its commit time; p50/p95/p99.
 * Usage: npx tsx bench/cdc.ts [--changes 300000] [--rate 5000] [--seconds 20] [--batch 20000]
 * Needs TESSERA_TEST_PG_URL or starts scripts/services/postgres.sh.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { DateTime } from 'luxon';
import { createDuckDbEngine } from '../src/engines/index.js';
import { PostgresCdcSource } from '../src/sources/cdc/postgres-source.js';
import { OLTP_TABLES } from '../src/sources/oltp/migrate.js';
import { EngineRawSink } from '../src/sources/sinks/engine-sink.js';
import { scratchDatabase } from '../test/helpers/postgres.js';

const { values: args } = parseArgs({
  options: {
    changes: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    batch: { type: 'string', default: '20000' },
  },
});
const CHANGES = Number(args.changes);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BATCH = Number(args.batch);

const INSERT = (
  n: number,
) => `INSERT INTO purchases (user_id, listing_id, status, amount_cents, currency, event_date, event_start_local, guests)
  SELECT (random() * 1e6)::bigint, 1, 'pending', (random() * 1e5)::bigint, 'EUR', date '2026-12-01' + (g % 30), timestamp '2026-12-01 18:00' + g * interval '1 minute', g % 200
  FROM generate_series(1, ${n}) g`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const db = await scratchDatabase('inventory_db');
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-cdc-'));
  const engine = await createDuckDbEngine({ type: 'duckdb', path: join(dir, 'warehouse.duckdb') });
  const sink = new EngineRawSink(engine);
  const src = new PostgresCdcSource({
    url: db.url,
    slot: 'bench_cdc',
    database: 'inventory_db',
    tables: OLTP_TABLES.inventory_db,
  });
  try {
    await db.client.query(
      `INSERT INTO vendors (name, category, city, country) VALUES ('V', 'venue', 'Berlin', 'DE')`,
    );
    await db.client.query(
      `INSERT INTO listings (vendor_id, listing_type, title, city, price_cents, currency) VALUES (1, 'event_space', 'L', 'Berlin', 1, 'EUR')`,
    );
    await src.init(sink);
    await src.pollBatch(sink);

    // 1. Throughput: half inserts, half updates, in transactions of 1,000 changes.
    const inserts = Math.floor(CHANGES / 2);
    for (let done = 0; done < inserts; done += 1000)
      await db.client.query(INSERT(Math.min(1000, inserts - done)));
    for (let id = 1; id <= inserts; id += 1000) {
      await db.client.query(
        `UPDATE purchases SET status = 'confirmed', confirmed_at = now() WHERE purchase_id BETWEEN $1 AND $2`,
        [id, id + 999],
      );
    }
    const t0 = performance.now();
    let landed = 0;
    let polls = 0;
    for (;;) {
      const r = await src.pollBatch(sink, { maxChanges: BATCH });
      landed += r.changes;
      polls++;
      if (r.caughtUp) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `throughput: ${landed} changes in ${seconds.toFixed(2)} s over ${polls} polls = ${Math.round(landed / seconds)} changes/s (batch ${BATCH})`,
    );

    // 2. Lag at a steady load, generated in a worker thread so polling does not slow the load down.
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
    await src.dropSlot().catch(() => undefined);
    await src.close();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  }
}

await main();
