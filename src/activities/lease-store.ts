/**
 * Where step leases live: a `step_leases` table in the ledger's database (the SQLite file, or the PostgreSQL
 * ledger schema), on a connection of its own and with its own DDL (the ledger's schema migrations are not
 * involved). Every change is one conditional statement, so two workers racing for a step see one winner:
 * - claim: insert the row, or take it over when it is free, already ours (a retried attempt of the same run) or
 *   expired (its holder stopped renewing); refused while another live run holds it;
 * - renew: push the expiry on, only while we still hold the claim (holder and generation match);
 * - release: free it and leave the step's result for the runs that waited.
 * Expiry compares the workers' clocks (epoch ms): the TTL must exceed the clock skew between workers.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { toPgPlaceholders } from '../ledger/postgres.js';
import type { StepResult } from './types.js';

export interface LeaseRow {
  readonly key: string;
  /** The run holding the lease; null once released. */
  readonly holder: string | null;
  /** Bumped by every claim: renew and release only touch the claim they made. */
  readonly generation: number;
  readonly expiresMs: number;
  /** The run that released it last, and the result it left (null when it ended without one). */
  readonly releasedBy: string | null;
  readonly result: StepResult | null;
}

export type ClaimOutcome =
  | { readonly claimed: true; readonly generation: number }
  | { readonly claimed: false; readonly holder: string; readonly expiresMs: number };

export interface StepLeaseStore {
  claim(key: string, holder: string, ttlMs: number, nowMs: number): Promise<ClaimOutcome>;
  /** False when the claim was lost (it expired and another run took it over). */
  renew(key: string, holder: string, generation: number, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Frees the lease, leaving `result` (or none) for the runs waiting; false when the claim was lost. */
  release(key: string, holder: string, generation: number, result: StepResult | undefined): Promise<boolean>;
  read(key: string): Promise<LeaseRow | undefined>;
  close(): Promise<void>;
}

type Value = string | number | null;
type Row = Record<string, unknown>;

/** The two statements a SQL store needs from its driver: a write (rows changed) and a read. */
interface LeaseSql {
  readonly table: string;
  all(sql: string, params: readonly Value[]): Promise<Row[]>;
  run(sql: string, params: readonly Value[]): Promise<number>;
  close(): Promise<void>;
}

const toRow = (r: Row): LeaseRow => ({
  key: String(r['lease_key']),
  holder: r['holder'] === null || r['holder'] === undefined ? null : String(r['holder']),
  generation: Number(r['generation']),
  expiresMs: Number(r['expires_ms']),
  releasedBy: r['released_by'] === null || r['released_by'] === undefined ? null : String(r['released_by']),
  result: typeof r['result'] === 'string' ? (JSON.parse(r['result']) as StepResult) : null,
});

/** The store over SQL both SQLite (3.35+: RETURNING) and PostgreSQL accept; `?` placeholders. */
class SqlStepLeaseStore implements StepLeaseStore {
  constructor(private readonly sql: LeaseSql) {}

  async claim(key: string, holder: string, ttlMs: number, nowMs: number): Promise<ClaimOutcome> {
    const t = this.sql.table;
    const won = await this.sql.all(
      `INSERT INTO ${t} AS l (lease_key, holder, generation, expires_ms, released_by, result)
       VALUES (?, ?, 1, ?, NULL, NULL)
       ON CONFLICT (lease_key) DO UPDATE SET holder = excluded.holder, generation = l.generation + 1,
         expires_ms = excluded.expires_ms, released_by = NULL, result = NULL
       WHERE l.holder IS NULL OR l.holder = excluded.holder OR l.expires_ms <= ?
       RETURNING generation`,
      [key, holder, nowMs + ttlMs, nowMs],
    );
    if (won[0]) return { claimed: true, generation: Number(won[0]['generation']) };
    const row = await this.read(key);
    // Released or expired between our write and this read: report it busy anyway; the caller waits and retries.
    return { claimed: false, holder: row?.holder ?? '', expiresMs: row?.expiresMs ?? nowMs };
  }

  async renew(key: string, holder: string, generation: number, ttlMs: number, nowMs: number) {
    const n = await this.sql.run(
      `UPDATE ${this.sql.table} SET expires_ms = ? WHERE lease_key = ? AND holder = ? AND generation = ?`,
      [nowMs + ttlMs, key, holder, generation],
    );
    return n > 0;
  }

  async release(key: string, holder: string, generation: number, result: StepResult | undefined) {
    const n = await this.sql.run(
      `UPDATE ${this.sql.table} SET holder = NULL, expires_ms = 0, released_by = ?, result = ?
       WHERE lease_key = ? AND holder = ? AND generation = ?`,
      [holder, result ? JSON.stringify(result) : null, key, holder, generation],
    );
    return n > 0;
  }

  async read(key: string): Promise<LeaseRow | undefined> {
    const rows = await this.sql.all(`SELECT * FROM ${this.sql.table} WHERE lease_key = ?`, [key]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  close(): Promise<void> {
    return this.sql.close();
  }
}

const ddl = (table: string, types: { key: string; int: string }): string =>
  `CREATE TABLE IF NOT EXISTS ${table} (
     lease_key ${types.key} PRIMARY KEY,
     holder TEXT,
     generation ${types.int} NOT NULL,
     expires_ms ${types.int} NOT NULL,
     released_by TEXT,
     result TEXT
   )`;

/**
 * Leases in the SQLite ledger file, on a connection of their own, set up as the ledger's (src/ledger/sqlite.ts):
 * WAL, so other processes' reads never block on a writer, and a busy timeout, so a writer waits for the lock.
 */
export function openSqliteLeaseStore(path: string, busyTimeoutMs = 10_000): StepLeaseStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  } catch (err) {
    db.close();
    throw err;
  }
  db.exec(ddl('step_leases', { key: 'TEXT', int: 'INTEGER' }));
  const statements = new Map<string, ReturnType<typeof db.prepare<Value[]>>>();
  const prepared = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare<Value[]>(sql)));
    return s;
  };
  // better-sqlite3 is synchronous: each statement is one write transaction, taken under SQLite's lock.
  return new SqlStepLeaseStore({
    table: 'step_leases',
    all: (sql, params) => Promise.resolve(prepared(sql).all(...params) as Row[]),
    run: (sql, params) => Promise.resolve(prepared(sql).run(...params).changes),
    close: () => {
      if (db.open) db.close();
      return Promise.resolve();
    },
  });
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Leases in the PostgreSQL ledger's schema (created if missing), on a small pool of their own. */
export async function openPostgresLeaseStore(url: string, schema: string): Promise<StepLeaseStore> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid ledger schema name ${JSON.stringify(schema)}`);
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'tessera-leases' });
  // An idle client's network error would otherwise crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const table = `"${schema}".step_leases`;
  const client = await pool.connect().catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });
  try {
    // Concurrent CREATE ... IF NOT EXISTS can still collide in PostgreSQL: workers starting at once take turns.
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera_step_leases:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(ddl(table, { key: 'TEXT COLLATE "C"', int: 'BIGINT' }));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    await pool.end();
    throw err;
  }
  client.release();
  return new SqlStepLeaseStore({
    table,
    all: async (sql, params) => (await pool.query<Row>(toPgPlaceholders(sql), [...params])).rows,
    run: async (sql, params) => (await pool.query(toPgPlaceholders(sql), [...params])).rowCount ?? 0,
    close: () => pool.end(),
  });
}

/** Leases for one process only (no ledger database: tests, in-process runs). Same rules as the SQL stores. */
export class MemoryStepLeaseStore implements StepLeaseStore {
  private readonly rows = new Map<string, LeaseRow>();

  claim(key: string, holder: string, ttlMs: number, nowMs: number): Promise<ClaimOutcome> {
    const row = this.rows.get(key);
    if (row && row.holder !== null && row.holder !== holder && row.expiresMs > nowMs) {
      return Promise.resolve({ claimed: false, holder: row.holder, expiresMs: row.expiresMs });
    }
    const generation = (row?.generation ?? 0) + 1;
    this.rows.set(key, {
      key,
      holder,
      generation,
      expiresMs: nowMs + ttlMs,
      releasedBy: null,
      result: null,
    });
    return Promise.resolve({ claimed: true, generation });
  }

  renew(key: string, holder: string, generation: number, ttlMs: number, nowMs: number): Promise<boolean> {
    const row = this.rows.get(key);
    if (!row || row.holder !== holder || row.generation !== generation) return Promise.resolve(false);
    this.rows.set(key, { ...row, expiresMs: nowMs + ttlMs });
    return Promise.resolve(true);
  }

  release(key: string, holder: string, generation: number, result: StepResult | undefined): Promise<boolean> {
    const row = this.rows.get(key);
    if (!row || row.holder !== holder || row.generation !== generation) return Promise.resolve(false);
    this.rows.set(key, { ...row, holder: null, expiresMs: 0, releasedBy: holder, result: result ?? null });
    return Promise.resolve(true);
  }

  read(key: string): Promise<LeaseRow | undefined> {
    return Promise.resolve(this.rows.get(key));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The ledger's connection settings (config `ledger:`), as far as leases need them. */
export type LeaseLedgerConfig =
  | { readonly type: 'sqlite'; readonly path: string }
  | { readonly type: 'postgres'; readonly url: string; readonly schema?: string };

/** Opens the lease store next to the configured ledger (same SQLite file, or same PostgreSQL schema). */
export async function openStepLeaseStore(config: LeaseLedgerConfig): Promise<StepLeaseStore> {
  return config.type === 'sqlite'
    ? openSqliteLeaseStore(config.path)
    : openPostgresLeaseStore(config.url, config.schema ?? 'tessera_ledger');
}
