/**
 * The production ledger on PostgreSQL (a `pg` Pool), in its own schema (default `tessera_ledger`).
 * Statements and row mapping are shared with SQLite (sql.ts); only placeholders (`$n`), column
 * types, schema qualification and the migration lock differ, and they are all here.
 */
import pg from 'pg';
import {
  SqlLedger,
  type Dialect,
  type MigrationPlan,
  type SqlDriver,
  type SqlExecutor,
  type SqlRow,
  type SqlStatement,
  type SqlValue,
} from './sql.js';

export const DEFAULT_PG_SCHEMA = 'tessera_ledger';

/** Schema names are interpolated into SQL (identifiers cannot be bound), so only plain ones are allowed. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export const postgresDialect = (schema: string): Dialect => {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid ledger schema name ${JSON.stringify(schema)}`);
  return {
    name: 'postgres',
    table: (name) => `"${schema}".${name}`,
    // Byte-order collation on compared keys: the database default (e.g. en_US) ignores punctuation
    // when sorting, which would disagree with SQLite and with partition-key range filters.
    types: { key: 'TEXT COLLATE "C"', text: 'TEXT', int: 'BIGINT', bool: 'BOOLEAN', json: 'JSONB' },
    jsonArray: (exprs) => `CAST(json_build_array(${exprs.join(', ')}) AS TEXT)`,
  };
};

/** `?` → `$1, $2, …` (our statements contain no `?` inside literals). */
export const toPgPlaceholders = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  query<R extends unknown[]>(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult<R>>;
}

const executor = (q: Queryable): SqlExecutor => ({
  async run(sql, params = []) {
    const res = await q.query(toPgPlaceholders(sql), [...params]);
    return res.rowCount ?? 0;
  },
  async all(sql, params = []) {
    const res = await q.query<SqlRow>(toPgPlaceholders(sql), [...params]);
    return res.rows;
  },
  async values(sql, params = []) {
    const res = await q.query<unknown[]>({
      text: toPgPlaceholders(sql),
      values: [...params],
      rowMode: 'array',
    });
    return res.rows;
  },
});

export class PostgresDriver implements SqlDriver {
  readonly dialect: Dialect;
  private readonly exec: SqlExecutor;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.dialect = postgresDialect(schema);
    this.exec = executor(pool);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.exec.run(sql, params);
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> {
    return this.exec.all(sql, params);
  }

  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    return this.exec.values(sql, params);
  }

  async transaction(statements: readonly SqlStatement[], lockKey?: string): Promise<number[]> {
    const client = await this.pool.connect();
    const tx = executor(client);
    try {
      await client.query('BEGIN');
      // Two int4 keys: a space apart from the migration lock's single bigint key.
      if (lockKey !== undefined) {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
          `tessera_ledger:${this.schema}`,
          lockKey,
        ]);
      }
      const changed: number[] = [];
      for (const [sql, params] of statements) changed.push(await tx.run(sql, params));
      await client.query('COMMIT');
      return changed;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /**
   * One client, one transaction, holding a transaction-scoped advisory lock named after the schema:
   * concurrent `CREATE SCHEMA/TABLE IF NOT EXISTS` in PostgreSQL can still fail with a unique
   * violation, so migrators (several workers starting at once) must take turns.
   */
  async applyMigrations(plan: MigrationPlan): Promise<void> {
    const client = await this.pool.connect();
    const tx = executor(client);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `tessera_ledger_migrate:${this.schema}`,
      ]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await tx.run(plan.createVersionTable);
      const rows = await tx.all(plan.selectVersion);
      for (const [version, statements] of plan.pending(rows[0]?.['v'])) {
        for (const stmt of statements) await tx.run(stmt);
        await tx.run(plan.insertVersion, [version, new Date().toISOString()]);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface PostgresLedgerOptions {
  readonly schema?: string;
  /** Pool size; the ledger does short single statements, so a few connections suffice. */
  readonly maxConnections?: number;
}

/** Opens the PostgreSQL ledger at `url` and migrates its schema (created if missing). */
export const openPostgresLedger = async (
  url: string,
  options: PostgresLedgerOptions = {},
): Promise<SqlLedger> => {
  const schema = options.schema ?? DEFAULT_PG_SCHEMA;
  postgresDialect(schema); // validate before opening connections
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 4,
    application_name: 'tessera-ledger',
  });
  // Without a listener an idle client's network error would crash the process; the pool drops
  // that client and the next query gets a fresh connection (or a proper error).
  pool.on('error', () => undefined);
  return SqlLedger.open(new PostgresDriver(pool, schema));
};
