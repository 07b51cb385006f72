/**
 * PostgresStreamCdcSource lands exactly the rows PostgresCdcSource lands, and pgoutput exactly what wal2json
 * decodes: three slots on one database, the same workload (many transactions, inserts, updates, deletes, a
 * TOASTed column, numerics), the SQL source into one warehouse and the stream into another, in small
 * batches while the stream keeps running and buffers ahead, with a crash injected between a write and its
 * confirmation in the middle of the drain; a pgoutput stream into a third.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engines/types.js';
import { PostgresCdcSource } from '../../src/sources/cdc/postgres-source.js';
import { PostgresStreamCdcSource } from '../../src/sources/cdc/postgres-stream-source.js';
import { OLTP_TABLES } from '../../src/sources/oltp/migrate.js';
import { eventually } from '../helpers/eventually.js';
import { memoryWarehouses } from '../helpers/memory-warehouse.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

let db: ScratchDatabase;
const warehouses = memoryWarehouses();

beforeAll(async () => {
  db = await scratchDatabase('inventory_db');
});
afterAll(async () => {
  await warehouses.closeAll();
  await db?.drop();
});

// Snapshot rows differ by design (each slot has its own consistent point); changes must be equal.
const dump = async (engine: Engine, table: string) =>
  engine.query(`SELECT * FROM raw.inventory_db_${table}_changes WHERE _op <> 'r' ORDER BY _lsn, _seq`);

describe('PostgresStreamCdcSource equals PostgresCdcSource, pgoutput equals wal2json', () => {
  it('lands the same rows, across batches, buffered transactions and a crash before confirm', async () => {
    const base = { url: db.url, database: 'inventory_db', tables: OLTP_TABLES.inventory_db };
    const a = await warehouses.open();
    const b = await warehouses.open();
    const c = await warehouses.open();
    const pgoutput = new PostgresStreamCdcSource({
      ...base,
      slot: 'cdcs_eq_pgoutput',
      plugin: 'pgoutput',
      holdSlot: true,
    });
    const sql = new PostgresCdcSource({ ...base, slot: 'cdcs_eq_sql', plugin: 'wal2json' });
    let confirms = 0;
    const crashing = new PostgresStreamCdcSource({
      ...base,
      slot: 'cdcs_eq_stream',
      plugin: 'wal2json',
      holdSlot: true,
      hooks: {
        beforeConfirm: () => {
          if (++confirms === 3) throw new Error('injected crash before confirm');
        },
      },
    });
    const stream = new PostgresStreamCdcSource({
      ...base,
      slot: 'cdcs_eq_stream',
      plugin: 'wal2json',
      holdSlot: true,
    });
    try {
      await db.client.query(
        `INSERT INTO vendors (name, category, city, country) VALUES ('Hall', 'venue', 'Berlin', 'DE')`,
      );
      await sql.init(a.sink);
      await crashing.init(b.sink);
      await pgoutput.init(c.sink);
      await db.client.query(
        `INSERT INTO listings (vendor_id, listing_type, title, description, city, price_cents, currency, capacity)
         VALUES (1, 'event_space', 'Hall', repeat('long ', 2000), 'Berlin', 100000, 'EUR', 80)`,
      );
      for (let t = 0; t < 40; t++) {
        await db.client.query(
          `INSERT INTO purchases (user_id, listing_id, amount_cents, currency, event_date)
           SELECT g, 1, g * 7, 'EUR', date '2026-12-01' + (g % 30) FROM generate_series(1, 25) g`,
        );
        await db.client.query(
          `UPDATE purchases SET status = 'confirmed', confirmed_at = now() WHERE purchase_id % 40 = $1`,
          [t],
        );
        if (t % 10 === 0) {
          await db.client.query(`UPDATE listings SET capacity = capacity + 1 WHERE listing_id = 1`);
          await db.client.query(`DELETE FROM purchases WHERE purchase_id % 97 = $1`, [t]);
        }
      }
      for (let i = 0; i < 100; i++) if ((await sql.pollBatch(a.sink, { maxChanges: 300 })).caughtUp) break;

      // The stream buffers ahead of the batches; the third confirmation fails with more transactions
      // in hand. A restarted source continues from the last confirmed batch.
      let crashed = false;
      for (let i = 0; i < 100; i++) {
        try {
          if ((await crashing.pollBatch(b.sink, { maxChanges: 300 })).caughtUp) break;
        } catch (e) {
          expect(String(e)).toContain('injected crash');
          crashed = true;
          break;
        }
      }
      expect(crashed).toBe(true);
      await crashing.close();
      expect((await stream.init(b.sink)).snapshotTaken).toBe(false);
      let replayed = -1;
      for (let i = 0; i < 100; i++) {
        const r = await stream.pollBatch(b.sink, { maxChanges: 300 });
        if (replayed < 0) replayed = r.changes - r.inserted;
        if (r.caughtUp) break;
      }
      expect(replayed).toBeGreaterThan(0); // the unconfirmed batch came again and inserted nothing

      for (let i = 0; i < 100; i++)
        if ((await pgoutput.pollBatch(c.sink, { maxChanges: 500 })).caughtUp) break;

      for (const table of ['listings', 'purchases']) {
        const left = await dump(a.engine, table);
        const right = await dump(b.engine, table);
        expect(right.length).toBeGreaterThan(0);
        expect(right).toEqual(left);
        // Other slot, same commits: equal on every column, the commit LSN included.
        expect(await dump(c.engine, table)).toEqual(left);
      }
      const purchases = await dump(b.engine, 'purchases');
      expect(purchases.filter((r) => r['_op'] === 'c')).toHaveLength(1000);
      const listings = await dump(b.engine, 'listings');
      expect(listings.every((r) => String(r['description']).length === 10_000)).toBe(true);

      // Held open: later changes arrive on the same stream.
      await db.client.query(`UPDATE vendors SET city = 'Paris' WHERE vendor_id = 1`);
      expect(await stream.pollBatch(b.sink)).toMatchObject({ changes: 1, inserted: 1, caughtUp: true });
    } finally {
      await pgoutput.dropSlot().catch(() => undefined);
      await pgoutput.close();
      await crashing.close();
      await stream.dropSlot().catch(() => undefined);
      await stream.close();
      await sql.dropSlot().catch(() => undefined);
      await sql.close();
    }
  });
});

describe('PostgresStreamCdcSource holding the slot between polls', () => {
  it('keeps one walsender across polls that come within holdSlot ms, and frees the slot after', async () => {
    const { sink } = await warehouses.open();
    const src = new PostgresStreamCdcSource({
      url: db.url,
      database: 'inventory_db',
      tables: OLTP_TABLES.inventory_db,
      slot: 'cdcs_hold',
      holdSlot: 400,
    });
    const walsender = async () =>
      (
        await db.client.query<{ pid: number | null }>(
          `SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = 'cdcs_hold'`,
        )
      ).rows[0]?.pid ?? null;
    try {
      await src.init(sink);
      await src.pollBatch(sink);
      const first = await walsender();
      expect(first).not.toBeNull();
      await db.client.query(`UPDATE vendors SET city = city WHERE vendor_id = 1`);
      expect(await src.pollBatch(sink)).toMatchObject({ changes: 1, caughtUp: true });
      expect(await walsender()).toBe(first); // the same stream: no restart
      await eventually(async () => ((await walsender()) === null ? true : undefined), 5_000);
      // A later poll starts a new stream and still sees everything.
      await db.client.query(
        `INSERT INTO vendors (name, category, city, country) VALUES ('Late', 'venue', 'Rome', 'IT')`,
      );
      expect(await src.pollBatch(sink)).toMatchObject({ changes: 1, inserted: 1, caughtUp: true });
    } finally {
      await src.dropSlot().catch(() => undefined);
      await src.close();
    }
  });
});
