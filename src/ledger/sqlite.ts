/**
 * The embedded default ledger: one SQLite file under the state folder.
 *
 * Why SQLite and not the DuckDB warehouse file: DuckDB allows one writer process per file and the
 * worker holds the warehouse open, so the CLI could not read status. SQLite in WAL mode lets readers
 * in other processes see every committed write while a writer is mid-transaction; `busy_timeout`
 * makes a second writer wait for the lock instead of failing with SQLITE_BUSY.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  SqlLedger,
  type Dialect,
  type MigrationPlan,
  type SqlDriver,
  type SqlRow,
  type SqlStatement,
  type SqlValue,
} from './sql.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  table: (name) => name,
  types: { key: 'TEXT', text: 'TEXT', int: 'INTEGER', bool: 'INTEGER', json: 'TEXT' },
  jsonArray: (exprs) => `json_array(${exprs.join(', ')})`,
};

export interface SqliteLedgerOptions {
  /** How long a writer waits for another process's write lock (ms). Default 10 s. */
  readonly busyTimeoutMs?: number;
}

type Bindable = string | number | null;

/** better-sqlite3 binds no booleans: store them as 0/1 (the row mapping reads either). */
const bindable = (params: readonly SqlValue[]): Bindable[] =>
  params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));

type Statement = Database.Statement<Bindable[]>;

/** Wraps synchronous better-sqlite3 in the async `SqlDriver`; statements are prepared once and cached. */
export class SqliteDriver implements SqlDriver {
  readonly dialect = sqliteDialect;
  /** Array-mode statements are cached apart: `raw` is a mode of the statement object. */
  private readonly statements = { rows: new Map<string, Statement>(), raw: new Map<string, Statement>() };

  constructor(readonly db: Database.Database) {}

  private prepare(sql: string, mode: 'rows' | 'raw' = 'rows'): Statement {
    const cache = this.statements[mode];
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Bindable[]>(sql);
      if (mode === 'raw') stmt.raw(true);
      cache.set(sql, stmt);
    }
    return stmt;
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    try {
      return Promise.resolve(this.prepare(sql).run(...bindable(params)).changes);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    try {
      return Promise.resolve(this.prepare(sql).all(...bindable(params)) as SqlRow[]);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  values(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    try {
      return Promise.resolve(this.prepare(sql, 'raw').all(...bindable(params)) as unknown[][]);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Synchronous like `applyMigrations` (see there); `.immediate()` takes the write lock up front. */
  transaction(statements: readonly SqlStatement[]): Promise<number[]> {
    try {
      return Promise.resolve(
        this.db
          .transaction(() =>
            statements.map(([sql, params]) => this.prepare(sql).run(...bindable(params)).changes),
          )
          .immediate(),
      );
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Synchronous on purpose: an `await` inside the transaction would let another connection of this
   * process busy-wait (blocking the event loop) on the lock we hold. `.immediate()` takes the write
   * lock up front, so processes opening a fresh file at once migrate one after the other.
   */
  async applyMigrations(plan: MigrationPlan): Promise<void> {
    try {
      this.db
        .transaction(() => {
          this.db.exec(plan.createVersionTable);
          const row = this.db.prepare<[], { v: unknown }>(plan.selectVersion).get();
          for (const [version, statements] of plan.pending(row?.v)) {
            for (const stmt of statements) this.db.exec(stmt);
            this.db.prepare(plan.insertVersion).run(version, new Date().toISOString());
          }
        })
        .immediate();
    } finally {
      // DDL may invalidate cached statements' schema; start from a clean cache.
      this.statements.rows.clear();
      this.statements.raw.clear();
    }
  }

  close(): Promise<void> {
    this.statements.rows.clear();
    this.statements.raw.clear();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

/** Opens (creating if needed) a SQLite connection configured for the ledger: WAL, busy timeout. */
export const openSqliteDatabase = (path: string, options: SqliteLedgerOptions = {}): Database.Database => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: options.busyTimeoutMs ?? 10_000 });
  try {
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 10_000)}`);
    // WAL is persistent in the file; setting it again is a no-op. Needs the write lock the first time.
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL stays consistent after a crash (it may lose the last commits on power loss only).
    db.pragma('synchronous = NORMAL');
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
};

/** Opens the SQLite ledger at `path` (parent folders are created) and migrates its schema. */
export const openSqliteLedger = async (path: string, options: SqliteLedgerOptions = {}): Promise<SqlLedger> =>
  SqlLedger.open(new SqliteDriver(openSqliteDatabase(path, options)));
