/**
 * PostgresStreamCdcSource takes the next batch from the stream and prepares it while the current one is written;
 * it writes and confirms batches strictly in order. Here, with small batches over a backlog (so the stream holds
 * more than a batch while one is written): a failed confirmation, and the same source object polling on, lands
 * every change once; a column added in the middle reaches the rows committed after it; an incompatible type
 * change stops at its own batch, with every batch before it landed and confirmed and nothing after it written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engines/types.js';
import { SchemaDriftError } from '../../src/sources/cdc/errors.js';
import { PostgresStreamCdcSource } from '../../src/sources/cdc/postgres-stream-source.js';
import { OLTP_TABLES } from '../../src/sources/oltp/migrate.js';
import { memoryWarehouses } from '../helpers/memory-warehouse.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

let db: ScratchDatabase;
const warehouses = memoryWarehouses();

beforeAll(async () => {
  db = await scratchDatabase('inventory_db');
  await db.client.query(
    `INSERT INTO vendors (name, category, city, country) VALUES ('Hall', 'venue', 'Berlin', 'DE')`,
  );
  await db.client.query(
    `INSERT INTO listings (vendor_id, listing_type, title, city, price_cents, currency) VALUES (1, 'event_space', 'Hall', 'Berlin', 1, 'EUR')`,
  );
});
afterAll(async () => {
  await warehouses.closeAll();
  await db?.drop();
});

/** `n` transactions of `size` purchase inserts each; returns the new purchase ids. */
async function purchases(n: number, size: number, extra = ''): Promise<number[]> {
  const ids: number[] = [];
  for (let t = 0; t < n; t++) {
    const res = await db.client.query<{ purchase_id: string }>(
      `INSERT INTO purchases (user_id, listing_id, amount_cents, currency, event_date${extra ? ', note' : ''})
       SELECT g, 1, g * 7, 'EUR', date '2026-12-01' + (g % 30)${extra ? `, '${extra}'` : ''}
       FROM generate_series(1, ${size}) g RETURNING purchase_id`,
    );
    ids.push(...res.rows.map((r) => Number(r.purchase_id)));
  }
  return ids;
}

const landedIds = async (engine: Engine, op: string) =>
  (
    await engine.query<{ id: number }>(
      `SELECT purchase_id AS id FROM raw.inventory_db_purchases_changes WHERE _op = ? ORDER BY _lsn, _seq`,
      [op],
    )
  ).map((r) => Number(r.id));

describe('PostgresStreamCdcSource preparing the next batch during a write', () => {
  it('lands every change once when a confirmation fails and the same source polls on', async () => {
    const { engine, sink } = await warehouses.open();
    let confirms = 0;
    const src = new PostgresStreamCdcSource({
      url: db.url,
      database: 'inventory_db',
      tables: OLTP_TABLES.inventory_db,
      slot: 'cdc_ahead_crash',
      holdSlot: true,
      hooks: {
        beforeConfirm: () => {
          if (++confirms === 3) throw new Error('injected failure before confirm');
        },
      },
    });
    try {
      await src.init(sink);
      const ids = await purchases(40, 10);
      await db.client.query(`UPDATE purchases SET status = 'confirmed' WHERE purchase_id % 3 = 0`);
      const updated = ids.filter((id) => id % 3 === 0);
      let failures = 0;
      let replayed = 0;
      for (let i = 0; i < 200; i++) {
        const r = await src.pollBatch(sink, { maxChanges: 30 }).catch((e: unknown) => {
          expect(String(e)).toContain('injected failure');
          failures++;
          return undefined;
        });
        if (!r) continue;
        replayed += r.changes - r.inserted;
        if (r.caughtUp) break;
      }
      expect(failures).toBe(1);
      expect(replayed).toBeGreaterThan(0); // the unconfirmed batch came again and inserted nothing
      expect(await landedIds(engine, 'c')).toEqual(ids);
      expect((await landedIds(engine, 'u')).sort((a, b) => a - b)).toEqual(updated);
    } finally {
      await src.dropSlot().catch(() => undefined);
      await src.close();
    }
  });

  it('applies a column added mid-backlog, and stops at an incompatible change with everything before it landed', async () => {
    const { engine, sink } = await warehouses.open();
    const src = new PostgresStreamCdcSource({
      url: db.url,
      database: 'inventory_db',
      tables: OLTP_TABLES.inventory_db,
      slot: 'cdc_ahead_drift',
      holdSlot: true,
    });
    try {
      await src.init(sink);
      const before = await purchases(10, 5);
      await db.client.query(`ALTER TABLE purchases ADD COLUMN note text`);
      const after = await purchases(10, 5, 'added');
      // One transaction with a listing's capacity as text, then the column is integer again: the batches
      // after the incompatible one are compatible, so only ordering keeps them from landing (and confirming).
      await db.client.query(`ALTER TABLE listings ALTER COLUMN capacity TYPE text USING capacity::text`);
      await db.client.query(`UPDATE listings SET capacity = 'many' WHERE listing_id = 1`);
      await db.client.query(
        `ALTER TABLE listings ALTER COLUMN capacity TYPE integer USING CASE WHEN capacity ~ '^[0-9]+$' THEN capacity::integer END`,
      );
      const later = await purchases(5, 5, 'later');

      let drift: unknown;
      let landed = 0;
      for (let i = 0; i < 100 && drift === undefined; i++) {
        const r = await src.pollBatch(sink, { maxChanges: 8 }).catch((e: unknown) => {
          drift = e;
          return undefined;
        });
        landed += r?.inserted ?? 0;
        if (r?.caughtUp) break;
      }
      expect(drift).toBeInstanceOf(SchemaDriftError);
      // Every batch before the incompatible change is landed, and nothing after it.
      expect(landed).toBe(before.length + after.length);
      expect(await landedIds(engine, 'c')).toEqual([...before, ...after]);
      const notes = await engine.query<{ id: number; note: string | null }>(
        `SELECT purchase_id AS id, note FROM raw.inventory_db_purchases_changes WHERE _op = 'c' ORDER BY _lsn, _seq`,
      );
      expect(notes.map((r) => r.note)).toEqual([...before.map(() => null), ...after.map(() => 'added')]);
      // The failed batch was not confirmed: polling again fails the same way.
      await expect(src.pollBatch(sink, { maxChanges: 8 })).rejects.toBeInstanceOf(SchemaDriftError);
      expect(await landedIds(engine, 'c')).toHaveLength(before.length + after.length);
      // The fix (the raw column becomes text); a restarted capture lands the rest, the update included.
      await engine.execute(
        `ALTER TABLE raw.inventory_db_listings_changes ALTER COLUMN capacity TYPE VARCHAR`,
      );
      await src.close();
      for (let i = 0; i < 100; i++) if ((await src.pollBatch(sink, { maxChanges: 8 })).caughtUp) break;
      expect(await landedIds(engine, 'c')).toEqual([...before, ...after, ...later]);
      expect(
        await engine.query(`SELECT capacity FROM raw.inventory_db_listings_changes WHERE _op = 'u'`),
      ).toEqual([{ capacity: 'many' }]);
    } finally {
      await src.dropSlot().catch(() => undefined);
      await src.close();
      await db.client.query(`ALTER TABLE purchases DROP COLUMN note`);
    }
  });
});
