/**
 * Both PostgreSQL sources — PostgresCdcSource (polls the slot) and PostgresStreamCdcSource (the streaming
 * replication protocol) — with both output plugins (pgoutput, wal2json), against a real PostgreSQL 15:
 * snapshot consistent with the slot,
 * insert/update/delete/truncate flows, crash between write and confirm, interrupted snapshots, heartbeat
 * watermarks on an idle database, a lost slot.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { SlotLostError } from '../../src/sources/cdc/errors.js';
import { PostgresCdcSource, type PostgresCdcConfig } from '../../src/sources/cdc/postgres-source.js';
import { PostgresStreamCdcSource } from '../../src/sources/cdc/postgres-stream-source.js';
import { OLTP_TABLES } from '../../src/sources/oltp/migrate.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import type { CdcSink } from '../../src/sources/sinks/types.js';
import type { RawRow } from '../../src/sources/types.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

let db: ScratchDatabase;
let engine: Engine;
let sink: EngineRawSink;
type CdcSource = PostgresCdcSource | PostgresStreamCdcSource;
const sources: CdcSource[] = [];

afterEach(async () => {
  for (const s of sources.splice(0)) {
    await s.dropSlot().catch(() => undefined);
    await s.close();
  }
  await engine?.close();
});

async function freshWarehouse(): Promise<void> {
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  sink = new EngineRawSink(engine);
}

const rows = (table: string) =>
  engine.query<RawRow & Record<string, unknown>>(
    `SELECT * FROM raw.inventory_db_${table}_changes ORDER BY _lsn, _seq`,
  );

async function drain(s: CdcSource, target: CdcSink = sink): Promise<void> {
  for (let i = 0; i < 20; i++) if ((await s.pollBatch(target, { maxChanges: 1000 })).caughtUp) return;
  throw new Error('slot did not catch up');
}

/** Slot names are cluster-wide: each source gets its own prefix. */
const VARIANTS = [
  { name: 'PostgresCdcSource', slotPrefix: 'cdc', make: (c: PostgresCdcConfig) => new PostgresCdcSource(c) },
  {
    name: 'PostgresStreamCdcSource',
    slotPrefix: 'cdcs',
    make: (c: PostgresCdcConfig) => new PostgresStreamCdcSource(c),
  },
  {
    name: 'PostgresCdcSource over wal2json',
    slotPrefix: 'cdcw',
    make: (c: PostgresCdcConfig) => new PostgresCdcSource({ ...c, plugin: 'wal2json' }),
  },
  {
    name: 'PostgresStreamCdcSource over wal2json',
    slotPrefix: 'cdcsw',
    make: (c: PostgresCdcConfig) => new PostgresStreamCdcSource({ ...c, plugin: 'wal2json' }),
  },
] as const;

describe.each(VARIANTS)('$name', ({ slotPrefix, make }) => {
  beforeAll(async () => {
    db = await scratchDatabase('inventory_db');
  });
  afterAll(async () => {
    await db?.drop();
  });

  function source(name: string, extra: Partial<PostgresCdcConfig> = {}): CdcSource {
    const s = make({
      url: db.url,
      slot: `${slotPrefix}_${name}`,
      database: 'inventory_db',
      tables: OLTP_TABLES.inventory_db,
      ...extra,
    });
    sources.push(s);
    return s;
  }

  it('snapshots consistently, then captures inserts, updates, deletes and truncates in commit order', async () => {
    await freshWarehouse();
    await db.client.query(`TRUNCATE vendors, listings, purchases, purchase_items RESTART IDENTITY CASCADE`);
    await db.client.query(
      `INSERT INTO vendors (name, category, city, country) VALUES ('Hall', 'venue', 'Berlin', 'DE'), ('Band', 'music', 'Oslo', 'NO')`,
    );
    await db.client.query(
      `INSERT INTO listings (vendor_id, listing_type, title, description, city, price_cents, currency, capacity)
       VALUES (1, 'event_space', 'Hall', repeat('x', 5000), 'Berlin', 100000, 'EUR', 80)`,
    );
    const s = source('flow');
    const init = await s.init(sink);
    expect(init).toMatchObject({ snapshotTaken: true, rows: 3 });
    expect(await s.init(sink)).toMatchObject({ snapshotTaken: false, rows: 0 }); // idempotent

    await db.client.query(`UPDATE vendors SET status = 'active' WHERE vendor_id = 1`);
    await db.client.query(
      `BEGIN; UPDATE listings SET price_cents = 120000 WHERE listing_id = 1; UPDATE listings SET capacity = 90 WHERE listing_id = 1; COMMIT`,
    );
    await db.client.query(`DELETE FROM vendors WHERE vendor_id = 2`);
    await db.client.query(
      `INSERT INTO purchases (user_id, listing_id, amount_cents, currency, event_date) VALUES (7, 1, 120000, 'EUR', '2026-12-31')`,
    );
    await db.client.query(
      `UPDATE purchases SET status = 'confirmed', confirmed_at = '2026-11-25 10:00:00+00' WHERE purchase_id = 1`,
    );
    await db.client.query(
      `UPDATE purchases SET status = 'cancelled', cancelled_at = '2026-11-26 10:00:00+00' WHERE purchase_id = 1`,
    );
    await db.client.query(
      `INSERT INTO purchase_items (purchase_id, listing_id, quantity, unit_price_cents, line_total_cents) VALUES (1, 1, 1, 120000, 120000)`,
    );
    await db.client.query(`TRUNCATE purchase_items`);
    const first = await s.pollBatch(sink, { maxChanges: 10_000 });
    expect(first).toMatchObject({ changes: 9, inserted: 9, caughtUp: true });

    const vendors = await rows('vendors');
    expect(
      vendors
        .filter((r) => r._op === 'r')
        .map((r) => [r['vendor_id'], r['status']])
        .sort(),
    ).toEqual([
      [1, 'onboarding'],
      [2, 'onboarding'],
    ]);
    expect(vendors.filter((r) => r._op === 'r').map((r) => r._lsn)).toEqual([
      init.snapshot.lsn,
      init.snapshot.lsn,
    ]);
    expect(
      vendors.filter((r) => r._op !== 'r').map((r) => [r._op, r['vendor_id'], r['status'], r['city']]),
    ).toEqual([
      ['u', 1, 'active', 'Berlin'],
      ['d', 2, 'onboarding', 'Oslo'], // REPLICA IDENTITY FULL: the delete carries the whole row
    ]);
    const listings = (await rows('listings')).filter((r) => r._op === 'u');
    expect(listings.map((r) => [r._seq, r['price_cents'], r['capacity']])).toEqual([
      [0, 120000, 80],
      [1, 120000, 90],
    ]);
    expect(listings[0]?._lsn).toBe(listings[1]?._lsn); // one transaction, one commit position
    expect(String(listings[1]?.['description']).length).toBe(5000); // unchanged TOAST value restored
    const purchases = await rows('purchases');
    expect(purchases.map((r) => r['status'])).toEqual(['pending', 'confirmed', 'cancelled']);
    expect(purchases.map((r) => r._lsn)).toEqual([...purchases.map((r) => r._lsn)].sort());
    expect(new Set(purchases.map((r) => r._txid)).size).toBe(3);
    expect((await rows('purchase_items')).map((r) => [r._op, r['purchase_item_id']])).toEqual([
      ['c', 1],
      ['t', null],
    ]);
    expect(await s.pollBatch(sink)).toMatchObject({ changes: 0, inserted: 0 });
  });

  it('loses and duplicates nothing when it crashes between writing a batch and confirming it', async () => {
    await freshWarehouse();
    const s1 = source('crash', {
      hooks: {
        beforeConfirm: () => {
          throw new Error('injected crash before confirm');
        },
      },
    });
    await s1.init(sink);
    for (let i = 0; i < 5; i++)
      await db.client.query(
        `INSERT INTO vendors (name, category, city, country) VALUES ('V${i}', 'decor', 'Rome', 'IT')`,
      );
    await expect(s1.pollBatch(sink)).rejects.toThrow('injected crash');
    const afterCrash = await rows('vendors');
    expect(afterCrash.filter((r) => r._op === 'c')).toHaveLength(5); // written, not confirmed
    await s1.close();

    const s2 = source('crash'); // the process restarts: same slot, same warehouse
    expect((await s2.init(sink)).snapshotTaken).toBe(false);
    const replay = await s2.pollBatch(sink);
    expect(replay).toMatchObject({ changes: 5, inserted: 0 });
    expect(await rows('vendors')).toEqual(afterCrash);
    await db.client.query(
      `INSERT INTO vendors (name, category, city, country) VALUES ('after', 'decor', 'Rome', 'IT')`,
    );
    expect(await s2.pollBatch(sink)).toMatchObject({ changes: 1, inserted: 1 });
  });

  it('undoes an interrupted snapshot and takes it again', async () => {
    await freshWarehouse();
    let writes = 0;
    const flaky: CdcSink = Object.assign(Object.create(sink) as CdcSink, {
      write: (table: string, r: readonly RawRow[], key: readonly string[]) => {
        if (++writes === 2) throw new Error('injected crash during snapshot');
        return sink.write(table, r, key);
      },
    });
    const s1 = source('snapcrash', { snapshotBatchRows: 2 });
    await expect(s1.init(flaky)).rejects.toThrow('during snapshot');
    await s1.close();
    const s2 = source('snapcrash', { snapshotBatchRows: 2 });
    const init = await s2.init(sink);
    expect(init.snapshotTaken).toBe(true);
    const snap = (await rows('vendors')).filter((r) => r._op === 'r');
    const live = await db.client.query<{ n: string }>('SELECT count(*) AS n FROM vendors');
    expect(snap).toHaveLength(Number(live.rows[0]?.n));
    expect(new Set(snap.map((r) => r._lsn))).toEqual(new Set([init.snapshot.lsn]));
  });

  it('advances the watermark on an idle database through heartbeats', async () => {
    await freshWarehouse();
    const s = source('idle');
    const init = await s.init(sink);
    await drain(s);
    const a = await s.pollBatch(sink);
    await new Promise((r) => setTimeout(r, 50));
    const b = await s.pollBatch(sink);
    expect(a.changes + b.changes).toBe(0);
    expect(a.watermark?.source).toBe('inventory_db');
    expect(a.watermark!.watermark > init.snapshot.time).toBe(true);
    expect(b.watermark!.watermark > a.watermark!.watermark).toBe(true);
    expect(Date.now() - Date.parse(b.watermark!.watermark)).toBeLessThan(5_000);
    const quiet = source('idle_nohb', { heartbeat: false });
    await quiet.init(sink);
    const q = await quiet.pollBatch(sink);
    expect(q.transactions).toBe(0);
  });

  it('refuses to continue silently when its slot disappeared', async () => {
    await freshWarehouse();
    const s = source('lost');
    await s.init(sink);
    await db.client.query(`SELECT pg_drop_replication_slot('${slotPrefix}_lost')`);
    await expect(source('lost').init(sink)).rejects.toBeInstanceOf(SlotLostError);
    expect((await source('lost').init(sink, { resnapshot: true })).snapshotTaken).toBe(true);
  });
});
