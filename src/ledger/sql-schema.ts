/**
 * The SQL stores' schema and driver contract: the statement runner each engine implements, the
 * dialect differences (column types, table qualification), and the append-only migrations.
 */
import { z } from 'zod';
import { latestTableMigration } from './sql-latest.js';

export type SqlValue = string | number | boolean | null;
export type SqlRow = Record<string, unknown>;

/** What differs between the engines in DDL and naming. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** The table's name as written in statements (PostgreSQL: schema-qualified). */
  table(name: string): string;
  /** Column types: `key` columns are compared/sorted, so PostgreSQL pins them to byte order (COLLATE "C"). */
  readonly types: {
    readonly key: string;
    readonly text: string;
    readonly int: string;
    readonly bool: string;
    readonly json: string;
  };
  /** An expression giving the JSON text of an array of the given expressions' values. */
  jsonArray(exprs: readonly string[]): string;
}

/** Minimal statement runner; `?` placeholders, values in order. */
export interface SqlExecutor {
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Like `all`, each row as an array of its column values in select-list order (no object per row). */
  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
}

/** One statement and its values. */
export type SqlStatement = readonly [sql: string, params: readonly SqlValue[]];

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  /**
   * Runs the statements in one transaction, all or none. Transactions given the same `lockKey` run one at a time
   * (PostgreSQL takes a transaction-scoped advisory lock on it; SQLite's write lock already serializes writers).
   * Resolves to each statement's changed-row count.
   */
  transaction(statements: readonly SqlStatement[], lockKey?: string): Promise<number[]>;
  /**
   * Runs `plan` in one transaction holding a lock that excludes other migrators (other processes
   * too): create the version table, read the version, apply `plan.pending(version)`, record them.
   */
  applyMigrations(plan: MigrationPlan): Promise<void>;
  close(): Promise<void>;
}

/** What a driver needs to migrate: statement texts and the steps still to run from a version. */
export interface MigrationPlan {
  readonly createVersionTable: string;
  readonly selectVersion: string;
  /** Params: version, applied_at. */
  readonly insertVersion: string;
  /** Steps after `current` (the raw MAX(version) value read), as [version, statements]. */
  pending(current: unknown): Array<readonly [number, readonly string[]]>;
}

/** Schema migrations, in order; version N = index N-1. Append only: never edit a released one. */
const MIGRATIONS: ReadonlyArray<(d: Dialect) => string[]> = [
  (d) => {
    const t = d.table.bind(d);
    const { key, text, int, bool, json } = d.types;
    return [
      `CREATE TABLE IF NOT EXISTS ${t('materializations')} (
        asset_key ${key} NOT NULL, partition_key ${key} NOT NULL, run_id ${key} NOT NULL,
        code_version ${text} NOT NULL, input_data_versions ${json} NOT NULL, data_version ${text} NOT NULL,
        row_count ${int} NOT NULL, status ${text} NOT NULL, error ${text},
        started_at ${text} NOT NULL, ended_at ${text} NOT NULL, started_ms ${int} NOT NULL, ended_ms ${int} NOT NULL,
        PRIMARY KEY (asset_key, partition_key, run_id))`,
      `CREATE INDEX IF NOT EXISTS materializations_latest
        ON ${t('materializations')} (asset_key, partition_key, started_ms DESC, ended_ms DESC, run_id DESC)`,
      `CREATE TABLE IF NOT EXISTS ${t('check_results')} (
        asset_key ${key} NOT NULL, partition_key ${key} NOT NULL, run_id ${key} NOT NULL, check_name ${key} NOT NULL,
        blocking ${bool} NOT NULL, passed ${bool} NOT NULL, failing_rows ${int} NOT NULL, detail ${text},
        checked_at ${text} NOT NULL, checked_ms ${int} NOT NULL,
        PRIMARY KEY (asset_key, partition_key, run_id, check_name))`,
      `CREATE TABLE IF NOT EXISTS ${t('publications')} (
        group_name ${key} NOT NULL, version ${key} NOT NULL, tables ${json} NOT NULL, run_id ${key} NOT NULL,
        published_at ${text} NOT NULL, published_ms ${int} NOT NULL,
        PRIMARY KEY (group_name, version))`,
      `CREATE TABLE IF NOT EXISTS ${t('watermarks')} (
        source ${key} PRIMARY KEY, watermark ${text} NOT NULL, watermark_ms ${int} NOT NULL,
        updated_at ${text} NOT NULL, updated_ms ${int} NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${t('backfills')} (
        backfill_id ${key} PRIMARY KEY, selection ${text} NOT NULL, from_key ${text} NOT NULL, to_key ${text} NOT NULL,
        status ${text} NOT NULL, total ${int} NOT NULL, done ${int} NOT NULL, failed ${int} NOT NULL,
        created_at ${text} NOT NULL, created_ms ${int} NOT NULL, updated_at ${text} NOT NULL, updated_ms ${int} NOT NULL)`,
    ];
  },
  // 2: the latest attempt and latest success per partition, kept by every write (sql-latest.ts), so the
  // planner's read is one index range scan instead of two windows over every attempt. Backfilled here.
  (d) => latestTableMigration(d),
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

const versionOf = (raw: unknown): number =>
  z.coerce
    .number()
    .nullable()
    .parse(raw ?? null) ?? 0;

export const migrationPlan = (d: Dialect): MigrationPlan => {
  const steps = MIGRATIONS.map((m) => m(d));
  const table = d.table('schema_version');
  return {
    createVersionTable: `CREATE TABLE IF NOT EXISTS ${table} (version ${d.types.int} PRIMARY KEY, applied_at ${d.types.text} NOT NULL)`,
    selectVersion: `SELECT MAX(version) AS v FROM ${table}`,
    insertVersion: `INSERT INTO ${table} (version, applied_at) VALUES (?, ?)`,
    pending(current) {
      const v = versionOf(current);
      if (v > steps.length) {
        throw new Error(
          `ledger schema version ${v} is newer than this code (${steps.length}); upgrade Tessera`,
        );
      }
      return steps.slice(v).map((stmts, i) => [v + i + 1, stmts] as const);
    },
  };
};

/**
 * Creates/updates the schema idempotently; safe when several processes open the ledger at once.
 * A current schema is detected without taking any lock, so a reader (the CLI) can open the ledger
 * while a worker is in the middle of a write transaction.
 */
export const migrate = async (driver: SqlDriver): Promise<void> => {
  const plan = migrationPlan(driver.dialect);
  // Fails before the first migration (no table yet): then take the locked path.
  const current = await driver.all(plan.selectVersion).then(
    (rows) => rows[0]?.['v'],
    () => 0,
  );
  if (plan.pending(current).length === 0) return;
  await driver.applyMigrations(plan);
};
