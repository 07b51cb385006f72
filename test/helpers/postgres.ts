/**
 * Real PostgreSQL 15 (wal2json) for source tests: TESSERA_TEST_PG_URL when set (the test script starts the
 * cluster), otherwise scripts/services/postgres.sh is run once. Each test gets a scratch database with
 * its own slots, dropped afterwards; scratch databases of dead test processes are swept on first use
 * (replication slots are few: max_replication_slots=8).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrateOltp, type OltpDatabase } from '../../src/sources/oltp/migrate.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PREFIX = 'tcdc';

let base: Promise<string> | undefined;

/** URL of the test cluster's default database. */
export function ensurePostgres(): Promise<string> {
  base ??= (async () => {
    let url = process.env.TESSERA_TEST_PG_URL;
    if (!url) {
      const { stdout } = await promisify(execFile)(
        'bash',
        [join(repo, 'scripts', 'services', 'postgres.sh'), 'start'],
        { timeout: 300_000 },
      );
      url = /TESSERA_TEST_PG_URL=(\S+)/.exec(stdout)?.[1];
      if (!url) throw new Error(`postgres.sh printed no TESSERA_TEST_PG_URL:\n${stdout}`);
      process.env.TESSERA_TEST_PG_URL = url;
    }
    await sweep(url);
    return url;
  })();
  return base;
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function dropDatabase(c: pg.Client, name: string): Promise<void> {
  await c.query(
    `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`,
    [name],
  );
  for (const s of (
    await c.query<{ slot_name: string }>(`SELECT slot_name FROM pg_replication_slots WHERE database = $1`, [
      name,
    ])
  ).rows) {
    await c.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
  }
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Drops scratch databases (and their slots) left by test processes that no longer run. */
async function sweep(url: string): Promise<void> {
  await admin(url, async (c) => {
    const dbs = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE '${PREFIX}\\_%'`,
    );
    for (const { datname } of dbs.rows) {
      const pid = Number(/^tcdc_(\d+)_/.exec(datname)?.[1]);
      if (Number.isFinite(pid) && !alive(pid)) await dropDatabase(c, datname).catch(() => undefined);
    }
  });
}

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  /** A connected client on the scratch database (ended by drop). */
  readonly client: pg.Client;
  drop(): Promise<void>;
}

/** A fresh database, optionally with one OLTP schema migrated in. */
export async function scratchDatabase(schema?: OltpDatabase): Promise<ScratchDatabase> {
  const url = await ensurePostgres();
  const name = `${PREFIX}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(url, (c) => c.query(`CREATE DATABASE "${name}"`));
  const dbUrl = withDatabase(url, name);
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  if (schema) await migrateOltp(client, schema);
  return {
    name,
    url: dbUrl,
    client,
    drop: async () => {
      await client.end().catch(() => undefined);
      await admin(url, (c) => dropDatabase(c, name));
    },
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}
