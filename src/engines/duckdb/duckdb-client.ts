import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { SqlClient, SqlSession } from '../core/client.js';
import { EngineError } from '../errors.js';
import type { Row, SqlParam } from '../types.js';
import { tesseraValueConverter } from './duckdb-values.js';

/**
 * Connections to one DuckDB warehouse file (or ':memory:'). DuckDB allows one writing process per
 * file: the worker owns the warehouse and everything else reaches it through the worker
 * (docs/engines.md). Inside the process, each transaction gets its own connection from a small
 * pool; DuckDB's optimistic concurrency turns write-write clashes into retryable errors.
 * Every connection runs with TimeZone=UTC so TIMESTAMPTZ values and casts are UTC.
 */
export class DuckDbClient implements SqlClient {
  private readonly idle: DuckDBConnection[] = [];
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly path: string,
  ) {}

  static async open(path: string, options: Record<string, string> = {}): Promise<DuckDbClient> {
    if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
    try {
      return new DuckDbClient(await DuckDBInstance.create(path, options), path);
    } catch (e) {
      throw wrapError(e, `opening ${path} (is another process writing to it?)`);
    }
  }

  async run(sql: string): Promise<number> {
    return this.withConnection((c) => runOn(c, sql));
  }

  async query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.withConnection((c) => queryOn<T>(c, sql, params));
  }

  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.withConnection(async (c) => {
      await runOn(c, 'BEGIN TRANSACTION');
      let result: T;
      try {
        result = await fn({ run: (sql) => runOn(c, sql), query: (sql, params) => queryOn(c, sql, params) });
        await runOn(c, 'COMMIT');
      } catch (e) {
        await c.run('ROLLBACK').catch(() => undefined); // already rolled back when COMMIT failed
        throw e;
      }
      return result;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.closeSync();
    this.instance.closeSync();
  }

  private async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new EngineError('duckdb', `client for ${this.path} is closed`);
    const c = this.idle.pop() ?? (await this.connect());
    try {
      return await fn(c);
    } catch (e) {
      // A multi-statement script that failed after its BEGIN leaves the transaction open on this connection:
      // end it before the connection goes back to the pool (an error here only means none was open).
      await c.run('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      if (this.closed) c.closeSync();
      else this.idle.push(c);
    }
  }

  private async connect(): Promise<DuckDBConnection> {
    const c = await this.instance.connect();
    await c.run(`SET TimeZone = 'UTC'`);
    return c;
  }
}

async function runOn(c: DuckDBConnection, sql: string): Promise<number> {
  try {
    const result = await c.run(sql);
    return Number(result.rowsChanged);
  } catch (e) {
    throw wrapError(e, sql);
  }
}

async function queryOn<T extends Row>(
  c: DuckDBConnection,
  sql: string,
  params?: readonly SqlParam[],
): Promise<T[]> {
  try {
    const reader = await c.runAndReadAll(sql, params ? ([...params] as DuckDBValue[]) : undefined);
    return reader.convertRowObjects(tesseraValueConverter) as T[];
  } catch (e) {
    throw wrapError(e, sql);
  }
}

/** DuckDB write-write conflicts can succeed on retry; everything else is the SQL's or the data's fault. */
const RETRYABLE =
  /Transaction conflict|Conflict on (tuple|update)|another transaction has altered|write-write conflict/i;

function wrapError(e: unknown, sql: string): EngineError {
  if (e instanceof EngineError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const short = sql.length > 300 ? `${sql.slice(0, 300)}…` : sql;
  return new EngineError('duckdb', `${message}\n  while running: ${short}`, RETRYABLE.test(message), {
    cause: e,
  });
}
