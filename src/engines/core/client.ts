import type { Row, SqlParam } from '../types.js';

/**
 * The I/O half of an engine: a connection to run SQL on. Clients know nothing of assets or SCD2;
 * SqlEngine drives them with SQL rendered by a dialect.
 */
export interface SqlSession {
  /** Runs one or more statements; returns the rows changed by the last one. */
  run(sql: string): Promise<number>;
  query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
}

export interface SqlClient extends SqlSession {
  /** Runs `fn` in one transaction on its own connection; rolls back and rethrows on any error. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
