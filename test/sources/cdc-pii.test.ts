/**
 * PII at the door, end to end on the User DB: snapshot, changes, a quarantined batch and a Debezium file
 * all land, then every value of every table in the warehouse is scanned: no password hash, no email or
 * phone in clear, only their keyed hashes; the key itself appears nowhere.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { SchemaDriftError, SourceConfigError } from '../../src/sources/cdc/errors.js';
import { PostgresCdcSource } from '../../src/sources/cdc/postgres-source.js';
import { readDebeziumFile } from '../../src/sources/debezium/file.js';
import { OLTP_TABLES } from '../../src/sources/oltp/migrate.js';
import { PiiPolicy } from '../../src/sources/pii.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

const KEY = 'pii-test-key-never-in-any-table-42';
const PII = {
  email: 'hash',
  phone: 'hash',
  password_hash: 'drop',
  'profile_changes.old_value': 'hash',
  'profile_changes.new_value': 'hash',
} as const;
const SECRETS = [
  '$argon2id$v=19$m=65536$c2VjcmV0',
  '$argon2id$v=19$m=65536$cm90YXRlZA',
  'grace@example.com',
  'grace.h@example.com',
  '+14155550100',
  KEY,
];

let db: ScratchDatabase;
let engine: Engine;
let dir: string;

beforeAll(async () => {
  db = await scratchDatabase('user_db');
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'tessera-pii-'));
});
afterAll(async () => {
  await engine?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function everyValue(): Promise<string[]> {
  const tables = await engine.query<{ t: string }>(
    `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE'`,
  );
  const out: string[] = [];
  for (const { t } of tables)
    for (const row of await engine.query(`SELECT * FROM ${t}`))
      out.push(...Object.values(row).map((v) => JSON.stringify(v)));
  return out;
}

describe('PII rules', () => {
  it('never lets a password hash, email or phone reach any raw table', async () => {
    const sink = new EngineRawSink(engine);
    await db.client.query(
      `INSERT INTO users (email, phone, first_name, country) VALUES ('grace@example.com', '+14155550100', 'Grace', 'US')`,
    );
    await db.client.query(
      `INSERT INTO credentials (user_id, password_hash, password_algo) VALUES (1, '${SECRETS[0]}', 'argon2id')`,
    );
    const src = new PostgresCdcSource({
      url: db.url,
      slot: 'cdc_pii',
      database: 'user_db',
      tables: OLTP_TABLES.user_db,
      pii: PII,
      piiKey: KEY,
    });
    await src.init(sink);
    await db.client.query(`BEGIN; UPDATE users SET email = 'grace.h@example.com' WHERE user_id = 1;
      INSERT INTO profile_changes (user_id, field, old_value, new_value) VALUES (1, 'email', 'grace@example.com', 'grace.h@example.com'); COMMIT`);
    await db.client.query(
      `UPDATE credentials SET password_hash = '${SECRETS[1]}', rotated_at = now() WHERE user_id = 1`,
    );
    await src.pollBatch(sink);

    // A drifted batch is quarantined with its input: redacted as well.
    await db.client.query(`ALTER TABLE credentials ALTER COLUMN failed_attempts TYPE text`);
    await db.client.query(
      `UPDATE credentials SET failed_attempts = 'many', password_hash = '${SECRETS[0]}' WHERE user_id = 1`,
    );
    await expect(src.pollBatch(sink)).rejects.toBeInstanceOf(SchemaDriftError);
    expect(await engine.query(`SELECT count(*) AS n FROM raw.quarantine`)).toEqual([{ n: 1 }]);
    await src.dropSlot();
    await src.close();

    // Debezium events in clear (as the connector writes them), including an unreadable line.
    const file = join(dir, 'users.ndjson');
    const base = {
      source: { ts_us: 1_764_000_000_000_000, txId: 900, lsn: 100, sequence: '["50","100"]', table: 'users' },
    };
    await writeFile(
      file,
      [
        JSON.stringify({
          ...base,
          op: 'c',
          before: null,
          after: { user_id: 9, email: 'grace@example.com', phone: '+14155550100', country: 'US' },
        }),
        `{"op":"c","after":{"email":"grace.h@example.com"`,
        JSON.stringify({
          source: { ...base.source, txId: 901, lsn: 200, sequence: '["150","200"]', table: 'credentials' },
          op: 'u',
          before: null,
          after: { credential_id: 1, password_hash: SECRETS[1] },
        }),
        JSON.stringify({
          source: { ...base.source, txId: 902, lsn: 300, sequence: '["250","300"]', table: 'users' },
          op: 'm',
          message: { prefix: 'x', content: '' },
        }),
      ].join('\n'),
    );
    const res = await readDebeziumFile(file, sink, { source: 'user_db_dbz', pii: PII, piiKey: KEY });
    expect(res.changes).toBe(2);
    expect(res.quarantined).toBe(1);

    const values = await everyValue();
    for (const secret of SECRETS)
      expect(
        values.filter((v) => v.includes(secret)),
        secret,
      ).toEqual([]);
    const hmac = (v: string) => createHmac('sha256', KEY).update(v).digest('hex');
    const users = await engine.query(
      `SELECT email_hash, phone_hash FROM raw.user_db_users_changes ORDER BY _lsn, _seq`,
    );
    expect(users).toEqual([
      { email_hash: hmac('grace@example.com'), phone_hash: hmac('+14155550100') },
      { email_hash: hmac('grace.h@example.com'), phone_hash: hmac('+14155550100') },
    ]);
    const creds = await sink.describe('raw.user_db_credentials_changes');
    expect(creds?.map((c) => c.name)).not.toContain('password_hash');
    const changes = await engine.query(
      `SELECT old_value_hash, new_value_hash FROM raw.user_db_profile_changes_changes`,
    );
    expect(changes).toEqual([
      { old_value_hash: hmac('grace@example.com'), new_value_hash: hmac('grace.h@example.com') },
    ]);
  });

  it('needs a key for hash rules and never shows it', () => {
    const saved = process.env.TESSERA_PII_KEY;
    delete process.env.TESSERA_PII_KEY;
    try {
      expect(() => PiiPolicy.create('user_db', { email: 'hash' })).toThrow(SourceConfigError);
      expect(() => PiiPolicy.create('user_db', { email: 'hash' }, 'short')).toThrow(/at least 16/);
      process.env.TESSERA_PII_KEY = KEY;
      const policy = PiiPolicy.create('user_db', { email: 'hash', password_hash: 'drop' });
      expect(JSON.stringify({ policy })).not.toContain(KEY);
      expect(policy.values('users', { email: 'a@b.c', password_hash: 'x', country: 'DE' })).toEqual({
        email_hash: createHmac('sha256', KEY).update('a@b.c').digest('hex'),
        country: 'DE',
      });
      expect(PiiPolicy.create('user_db', { password_hash: 'drop' }).active).toBe(true); // drop needs no key
    } finally {
      if (saved === undefined) delete process.env.TESSERA_PII_KEY;
      else process.env.TESSERA_PII_KEY = saved;
    }
  });
});
