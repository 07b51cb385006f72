/**
 * The CDC ingestion process of the CDC crash test: streams a database's changes (pgoutput) into a DuckDB file until
 * it is killed, printing one line per batch (`batch <changes> <inserted>`, `caughtUp` when the slot is drained).
 * `CRASH_AT_CONFIRM=n` SIGKILLs the process inside its n-th confirmation (after the batch is written, before the
 * slot moves), the window where a crash could lose or duplicate changes.
 * Usage: node --import tsx cdc-crash-child.ts <db-url> <slot> <warehouse.duckdb>
 */
import { createDuckDbEngine } from '../../src/engines/index.js';
import { PostgresStreamCdcSource } from '../../src/sources/cdc/postgres-stream-source.js';
import { OLTP_TABLES } from '../../src/sources/oltp/migrate.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';

const [url, slot, warehouse] = process.argv.slice(2);
if (!url || !slot || !warehouse) throw new Error('usage: cdc-crash-child.ts <db-url> <slot> <warehouse>');
const crashAt = Number(process.env.CRASH_AT_CONFIRM ?? '0');

const engine = await createDuckDbEngine({ type: 'duckdb', path: warehouse, threads: 1 });
const sink = new EngineRawSink(engine);
let confirms = 0;
const source = new PostgresStreamCdcSource({
  url,
  database: 'inventory_db',
  tables: OLTP_TABLES.inventory_db,
  slot,
  plugin: 'pgoutput',
  holdSlot: true,
  hooks: {
    beforeConfirm: () => {
      if (++confirms === crashAt) process.kill(process.pid, 'SIGKILL');
    },
  },
});
await source.init(sink);
process.stdout.write('ready\n');
for (;;) {
  const r = await source.pollBatch(sink, { maxChanges: 200 });
  process.stdout.write(
    r.caughtUp ? `caughtUp ${r.changes} ${r.inserted}\n` : `batch ${r.changes} ${r.inserted}\n`,
  );
  if (r.caughtUp) await new Promise((resolve) => setTimeout(resolve, 200)); // idle between passes
}
