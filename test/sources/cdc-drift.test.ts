/**
 * Schema drift from a real PostgreSQL, for both sources (polling the slot, and the streaming replication
 * protocol) and both output plugins (pgoutput, wal2json): added columns appear downstream, dropped columns stay (NULL, with a warning), widening types are
 * widened, and an incompatible type change quarantines the batch, raises SchemaDriftError and leaves the slot
 * where it was until the raw table is fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { SchemaDriftError } from '../../src/sources/cdc/errors.js';
import { PostgresCdcSource, type PostgresCdcConfig } from '../../src/sources/cdc/postgres-source.js';
import { PostgresStreamCdcSource } from '../../src/sources/cdc/postgres-stream-source.js';
import { OLTP_TABLES } from '../../src/sources/oltp/migrate.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

/** Slot names are cluster-wide: each source gets its own. The scenario alters the schema, so each its database. */
const VARIANTS = [
  { name: 'PostgresCdcSource', slot: 'cdc_drift', make: (c: PostgresCdcConfig) => new PostgresCdcSource(c) },
  {
    name: 'PostgresStreamCdcSource',
    slot: 'cdcs_drift',
    make: (c: PostgresCdcConfig) => new PostgresStreamCdcSource(c),
  },
  {
    name: 'PostgresCdcSource over wal2json',
    slot: 'cdcw_drift',
    make: (c: PostgresCdcConfig) => new PostgresCdcSource({ ...c, plugin: 'wal2json' }),
  },
  {
    name: 'PostgresStreamCdcSource over wal2json',
    slot: 'cdcsw_drift',
    make: (c: PostgresCdcConfig) => new PostgresStreamCdcSource({ ...c, plugin: 'wal2json' }),
  },
] as const;

describe.each(VARIANTS)('schema drift, $name', ({ slot, make }) => {
  let db: ScratchDatabase;
  let engine: Engine;
  let sink: EngineRawSink;
  let src: PostgresCdcSource | PostgresStreamCdcSource;
  const warnings: string[] = [];

  beforeAll(async () => {
    db = await scratchDatabase('inventory_db');
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    sink = new EngineRawSink(engine);
    await db.client.query(
      `INSERT INTO vendors (name, category, city, country) VALUES ('Hall', 'venue', 'Berlin', 'DE')`,
    );
    await db.client.query(
      `INSERT INTO listings (vendor_id, listing_type, title, city, price_cents, currency, capacity) VALUES (1, 'event_space', 'Hall', 'Berlin', 5000, 'EUR', 40)`,
    );
    src = make({
      url: db.url,
      slot,
      database: 'inventory_db',
      tables: OLTP_TABLES.inventory_db,
      logger: { info: () => undefined, warn: (_f, m) => warnings.push(m) },
    });
    await src.init(sink);
  });
  afterAll(async () => {
    await src?.dropSlot().catch(() => undefined);
    await src?.close();
    await engine?.close();
    await db?.drop();
  });

  const columns = async (table: string) =>
    (await sink.describe(`raw.inventory_db_${table}_changes`))?.map((c) => `${c.name}:${c.type}`) ?? [];

  it('adds a new column downstream automatically', async () => {
    await db.client.query(`ALTER TABLE vendors ADD COLUMN website text`);
    await db.client.query(
      `INSERT INTO vendors (name, category, city, country, website) VALUES ('Web', 'decor', 'Rome', 'IT', 'https://web.example')`,
    );
    await src.pollBatch(sink);
    expect(await columns('vendors')).toContain('website:varchar');
    const rows = await engine.query(
      `SELECT _op, name, website FROM raw.inventory_db_vendors_changes ORDER BY _lsn, _seq`,
    );
    expect(rows).toEqual([
      { _op: 'r', name: 'Hall', website: null },
      { _op: 'c', name: 'Web', website: 'https://web.example' },
    ]);
  });

  it('keeps a dropped column, NULL from then on, and warns once', async () => {
    await db.client.query(`ALTER TABLE vendors DROP COLUMN city`);
    await db.client.query(`INSERT INTO vendors (name, category, country) VALUES ('NoCity', 'music', 'NO')`);
    await db.client.query(`INSERT INTO vendors (name, category, country) VALUES ('NoCity2', 'music', 'NO')`);
    const r = await src.pollBatch(sink);
    expect(r.warnings).toEqual([
      expect.stringContaining('column city of vendors is no longer in the source'),
    ]);
    expect(warnings.filter((w) => w.includes('column city'))).toHaveLength(1);
    expect(await columns('vendors')).toContain('city:varchar');
    const rows = await engine.query(
      `SELECT name, city FROM raw.inventory_db_vendors_changes WHERE _op = 'c' ORDER BY _lsn`,
    );
    expect(rows.map((x) => [x['name'], x['city']])).toEqual([
      ['Web', 'Rome'],
      ['NoCity', null],
      ['NoCity2', null],
    ]);
    await db.client.query(`INSERT INTO vendors (name, category, country) VALUES ('NoCity3', 'music', 'NO')`);
    expect((await src.pollBatch(sink)).warnings).toEqual([]);
  });

  it('widens a column whose new type holds the old values (bigint → decimal)', async () => {
    await db.client.query(`ALTER TABLE listings ALTER COLUMN price_cents TYPE numeric(14,2)`);
    await db.client.query(`UPDATE listings SET price_cents = 5000.50 WHERE listing_id = 1`);
    await src.pollBatch(sink);
    expect(await columns('listings')).toContain('price_cents:decimal');
    const rows = await engine.query(
      `SELECT _op, price_cents FROM raw.inventory_db_listings_changes ORDER BY _lsn, _seq`,
    );
    expect(rows).toEqual([
      { _op: 'r', price_cents: 5000 },
      { _op: 'u', price_cents: 5000.5 },
    ]);
  });

  it('quarantines the batch and raises SchemaDriftError on an incompatible change, then resumes after a fix', async () => {
    await db.client.query(`ALTER TABLE listings ALTER COLUMN capacity TYPE text USING capacity::text`);
    await db.client.query(`UPDATE listings SET capacity = 'forty-two' WHERE listing_id = 1`);
    await db.client.query(
      `INSERT INTO vendors (name, category, country) VALUES ('Same batch', 'music', 'NO')`,
    );
    const err = await src.pollBatch(sink).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaDriftError);
    const drift = err as SchemaDriftError;
    expect(drift.alertable).toBe(true);
    expect(drift.retryable).toBe(false);
    expect(drift.columns).toEqual([
      {
        table: 'raw.inventory_db_listings_changes',
        column: 'capacity',
        oldType: 'bigint',
        newType: 'varchar',
      },
    ]);
    const q = await engine.query<{ source: string; reason: string; raw: string }>(
      `SELECT source, reason, raw FROM raw.quarantine`,
    );
    expect(q).toHaveLength(1);
    expect(q[0]?.reason).toContain('capacity bigint → varchar');
    expect(q[0]?.raw).toContain('forty-two');
    // Nothing written, nothing confirmed: a retry fails the same way and quarantines nothing twice.
    expect(
      (
        await engine.query(
          `SELECT count(*) AS n FROM raw.inventory_db_vendors_changes WHERE name = 'Same batch'`,
        )
      )[0],
    ).toEqual({ n: 0 });
    await expect(src.pollBatch(sink)).rejects.toBeInstanceOf(SchemaDriftError);
    expect(await engine.query(`SELECT count(*) AS n FROM raw.quarantine`)).toEqual([{ n: 1 }]);
    // The fix: the raw column becomes text; the same changes land on the next poll.
    await engine.execute(`ALTER TABLE raw.inventory_db_listings_changes ALTER COLUMN capacity TYPE VARCHAR`);
    const resumed = await src.pollBatch(sink);
    expect(resumed.changes).toBe(2);
    const rows = await engine.query(
      `SELECT capacity FROM raw.inventory_db_listings_changes ORDER BY _lsn, _seq`,
    );
    expect(rows.map((r) => r['capacity'])).toEqual(['40', '40', 'forty-two']);
  });
});
