/**
 * Both transports, same changes, identical raw rows: a PostgresCdcSource lands a snapshot and a mix of
 * changes from slot A; slot B sees the same transactions, which the encoder writes as Debezium JSON
 * (envelope and flattened), and readDebeziumFile lands them into a second warehouse.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { formatPgLsn } from '../../src/sources/cdc/lsn.js';
import { PgTypeRegistry } from '../../src/sources/cdc/pg-types.js';
import { PostgresCdcSource } from '../../src/sources/cdc/postgres-source.js';
import { describePgTable, ident, parseTableRef } from '../../src/sources/cdc/snapshot.js';
import {
  addTablesOption,
  groupTransactions,
  parseWal2json,
  PEEK_SQL_TYPED,
} from '../../src/sources/cdc/wal2json.js';
import { DebeziumEncoder } from '../../src/sources/debezium/encode.js';
import { readDebeziumFile } from '../../src/sources/debezium/file.js';
import { OLTP_TABLES, type OltpDatabase } from '../../src/sources/oltp/migrate.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

const PII_KEY = 'identity-test-key-0123456789abcdef';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-identity-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function warehouse(): Promise<{ engine: Engine; sink: EngineRawSink }> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  return { engine, sink: new EngineRawSink(engine) };
}

async function dump(engine: Engine): Promise<Record<string, unknown[]>> {
  const tables = await engine.query<{ t: string }>(
    `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1`,
  );
  const out: Record<string, unknown[]> = {};
  for (const { t } of tables) out[t] = await engine.query(`SELECT * FROM ${t} ORDER BY _lsn, _seq`);
  return out;
}

const SCENARIOS: Record<
  OltpDatabase,
  { seed: string[]; changes: string[]; pii: Record<string, 'drop' | 'hash'> }
> = {
  inventory_db: {
    pii: {},
    seed: [
      `INSERT INTO vendors (name, category, city, country, commission_rate, onboarded_on) VALUES
         ('Grand Hall', 'venue', 'Berlin', 'DE', 0.1250, '2024-03-01'), ('Snapshots', 'photography', 'Paris', 'FR', 0.1, NULL)`,
      `INSERT INTO listings (vendor_id, listing_type, title, description, city, price_cents, currency, capacity, amenities, attributes, price_changed_at)
         VALUES (1, 'event_space', 'Main hall', repeat('Long description. ', 400), 'Berlin', 250000, 'EUR', 300,
                 '{wifi,"free parking","stage \\"A\\""}', '{"stage": true, "floors": [1, 2]}', '2026-01-01 10:00:00.123456')`,
    ],
    changes: [
      `UPDATE vendors SET status = 'active', commission_rate = 0.1500 WHERE vendor_id = 1`,
      `BEGIN; INSERT INTO purchases (user_id, listing_id, amount_cents, currency, event_date, event_start_local, guests)
         VALUES (42, 1, 250000, 'EUR', '2026-12-24', '2026-12-24 18:30:00', 120);
       INSERT INTO purchase_items (purchase_id, listing_id, quantity, unit_price_cents, discount_rate, line_total_cents)
         VALUES (1, 1, 1, 250000, 0.0500, 237500); COMMIT`,
      `BEGIN; UPDATE purchases SET status = 'confirmed', confirmed_at = now() WHERE purchase_id = 1;
       UPDATE purchases SET guests = 150 WHERE purchase_id = 1; COMMIT`,
      // Price change on a row with a TOASTed description: wal2json leaves it out, FULL identity restores it.
      `UPDATE listings SET price_cents = 275000, price_changed_at = '2026-02-01 09:00:00' WHERE listing_id = 1`,
      `UPDATE purchases SET status = 'refunded', refunded_at = now() WHERE purchase_id = 1`,
      `DELETE FROM vendors WHERE vendor_id = 2`,
      `TRUNCATE purchase_items`,
      `INSERT INTO vendors (name, category, city, country, commission_rate) VALUES ('Neg', 'music', 'Rome', 'IT', -0.0001)`,
    ],
  },
  user_db: {
    pii: {
      email: 'hash',
      phone: 'hash',
      password_hash: 'drop',
      'profile_changes.old_value': 'hash',
      'profile_changes.new_value': 'hash',
    },
    seed: [
      `INSERT INTO users (email, phone, first_name, last_name, country, marketing_consent, status, date_of_birth)
         VALUES ('ada@example.com', '+49301234567', 'Ada', 'L', 'DE', true, 'active', '1990-05-17')`,
      `INSERT INTO credentials (user_id, password_hash, password_algo) VALUES (1, '$argon2id$v=19$seed-secret', 'argon2id')`,
    ],
    changes: [
      `BEGIN; UPDATE users SET email = 'ada.l@example.com', updated_at = now() WHERE user_id = 1;
       INSERT INTO profile_changes (user_id, field, old_value, new_value) VALUES (1, 'email', 'ada@example.com', 'ada.l@example.com'); COMMIT`,
      `UPDATE credentials SET password_hash = '$argon2id$v=19$rotated-secret', rotated_at = now() WHERE user_id = 1`,
      `INSERT INTO users (email, country) VALUES ('bob@example.com', 'FR')`,
      `UPDATE users SET marketing_consent = false, consent_updated_at = now(), status = 'suspended' WHERE user_id = 2`,
      `DELETE FROM users WHERE user_id = 2`,
    ],
  },
};

describe.each(['inventory_db', 'user_db'] as const)('logical decoding and Debezium agree (%s)', (schema) => {
  let db: ScratchDatabase;
  beforeAll(async () => {
    db = await scratchDatabase(schema);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('lands identical raw rows from both transports (envelope and flattened)', async () => {
    const scenario = SCENARIOS[schema];
    const tables = OLTP_TABLES[schema];
    for (const sql of scenario.seed) await db.client.query(sql);
    const a = await warehouse();
    const source = new PostgresCdcSource({
      url: db.url,
      slot: 'slot_a',
      database: schema,
      tables,
      pii: scenario.pii,
      piiKey: PII_KEY,
    });
    const init = await source.init(a.sink);
    expect(init.snapshotTaken).toBe(true);
    await db.client.query(`SELECT pg_create_logical_replication_slot('slot_b', 'wal2json')`);
    await db.client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'`);

    // Debezium's snapshot: the same rows (nothing changed since slot A's snapshot), at A's consistent point.
    const types = new PgTypeRegistry();
    const encoders = {
      envelope: new DebeziumEncoder(types, { server: 'bme', db: db.name }),
      flattened: new DebeziumEncoder(types, { server: 'bme', db: db.name, variant: 'flattened' }),
    };
    const lines: Record<keyof typeof encoders, string[]> = { envelope: [], flattened: [] };
    const at = { lsn: formatPgLsn(BigInt(`0x${init.snapshot.lsn}`)), time: init.snapshot.time };
    for (const name of tables) {
      const ref = parseTableRef(name);
      const columns = await describePgTable(db.client, ref);
      await types.resolve(
        db.client,
        columns.map((c) => c.typeoid),
      );
      const typed = (
        await db.client.query<{ name: string; type: string; typeoid: number }>(
          `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, atttypid::int AS typeoid FROM pg_attribute
            WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
          [name],
        )
      ).rows;
      const rows = await db.client.query<(string | null)[]>({
        text: `SELECT ${columns.map((c) => `${ident(c.name)}::text`).join(', ')} FROM ${name}`,
        rowMode: 'array',
      });
      for (const row of rows.rows)
        for (const [k, e] of Object.entries(encoders))
          lines[k as keyof typeof encoders].push(JSON.stringify(e.snapshotRow(ref, typed, row, at).value));
    }

    for (const sql of scenario.changes) await db.client.query(sql);
    let polls = 0;
    for (;;) {
      const r = await source.pollBatch(a.sink, { maxChanges: 5 });
      if (r.caughtUp || ++polls > 50) break;
    }

    const peeked = await db.client.query<{ data: string }>(PEEK_SQL_TYPED, [
      'slot_b',
      null,
      addTablesOption(tables.map(parseTableRef)),
    ]);
    const txs = groupTransactions(peeked.rows.map((r) => parseWal2json(r.data)));
    await types.resolve(
      db.client,
      txs.flatMap((t) =>
        t.changes.flatMap((c) =>
          c.action === 'T' ? [] : (c.action === 'D' ? c.identity : c.columns).map((x) => x.typeoid),
        ),
      ),
    );
    for (const tx of txs)
      for (const [k, e] of Object.entries(encoders))
        for (const ev of e.transaction(tx)) lines[k as keyof typeof encoders].push(JSON.stringify(ev.value));
    // Noise a real topic has: a tombstone and a transaction metadata record.
    for (const l of Object.values(lines))
      l.splice(
        3,
        0,
        'null',
        JSON.stringify({ status: 'END', id: '999', event_count: 1, data_collections: [], ts_ms: 0 }),
      );

    const expected = await dump(a.engine);
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(3);
    for (const variant of ['envelope', 'flattened'] as const) {
      const file = join(dir, `${schema}-${variant}.ndjson`);
      await writeFile(file, `${lines[variant].join('\n')}\n`);
      const b = await warehouse();
      const res = await readDebeziumFile(file, b.sink, {
        source: schema,
        tables,
        pii: scenario.pii,
        piiKey: PII_KEY,
      });
      expect(res.tombstones).toBe(1);
      expect(res.quarantined).toBe(0);
      expect(await dump(b.engine), variant).toEqual(expected);
      await b.engine.close();
    }
    await source.dropSlot();
    await source.close();
    await a.engine.close();
  });
});
