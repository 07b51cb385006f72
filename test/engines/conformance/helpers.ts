import { afterEach, beforeEach } from 'vitest';
import type { EngineHooks } from '../../../src/engines/core/context.js';
import type { SqlDialect } from '../../../src/engines/dialect/dialect.js';
import { ENGINES } from '../../../src/engines/registry.js';
import type { Engine, Row } from '../../../src/engines/types.js';

/** A registered engine the conformance suite can instantiate (see availableTestEngines). */
export interface TestEngineFactory {
  readonly type: string;
  create(hooks?: EngineHooks): Promise<Engine>;
}

/** A fresh engine per test, closed afterwards. `hooks` may be replaced per test through `setHooks`. */
export function useEngine(factory: TestEngineFactory): {
  engine: () => Engine;
  hooks: EngineHooks & { step?: (op: string, step: string) => void | Promise<void> };
} {
  let current: Engine | undefined;
  const hooks: EngineHooks & { step?: (op: string, step: string) => void | Promise<void> } = {
    afterStep: async (op, step) => {
      await hooks.step?.(op, step);
    },
  };
  beforeEach(async () => {
    hooks.step = undefined;
    current = await factory.create(hooks);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    engine: () => {
      if (!current) throw new Error('engine not ready');
      return current;
    },
    hooks,
  };
}

/**
 * The last step a replace passes before its rows commit, where a crash must leave the old partition.
 * DuckDB deletes and inserts in one transaction: 'deleted' lies between the two. Trino's replace is one
 * MERGE statement (one Iceberg commit): there is no state between delete and insert, so its last point
 * before the commit is 'evolved'.
 */
export function lastStepBeforeCommit(engineType: string): string {
  return engineType === 'trino' ? 'evolved' : 'deleted';
}

type Cell = string | number | boolean | null;

/**
 * The types the suite writes, by their DuckDB spelling (the suite's vocabulary), and how each engine spells
 * them in SQL and names them in describeTable. An engine missing here spells them as DuckDB does (Trino).
 */
export type SuiteType =
  | 'VARCHAR'
  | 'INTEGER'
  | 'SMALLINT'
  | 'BIGINT'
  | 'DOUBLE'
  | 'BOOLEAN'
  | 'TIMESTAMP'
  | 'TIMESTAMPTZ'
  | 'DECIMAL(10,2)';

const DUCKDB_TYPES: Readonly<Record<SuiteType, string>> = {
  VARCHAR: 'VARCHAR',
  INTEGER: 'INTEGER',
  SMALLINT: 'SMALLINT',
  BIGINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  'DECIMAL(10,2)': 'DECIMAL(10,2)',
};

const ENGINE_TYPES: Readonly<Record<string, Readonly<Record<SuiteType, string>>>> = {
  // GoogleSQL has one integer (INT64) and one float; TIMESTAMP is an instant (UTC), as Tessera stores it.
  bigquery: {
    VARCHAR: 'STRING',
    INTEGER: 'INT64',
    SMALLINT: 'INT64',
    BIGINT: 'INT64',
    DOUBLE: 'FLOAT64',
    BOOLEAN: 'BOOL',
    TIMESTAMP: 'TIMESTAMP',
    TIMESTAMPTZ: 'TIMESTAMP',
    'DECIMAL(10,2)': 'NUMERIC',
  },
  spark: { ...DUCKDB_TYPES, VARCHAR: 'STRING', INTEGER: 'INT', TIMESTAMPTZ: 'TIMESTAMP' },
};

/** The suite's SQL in one engine's dialect: type spellings and row lists. */
export interface SuiteSql {
  readonly engineType: string;
  /** The engine's spelling of a suite type, in casts and column definitions (and as describeTable names it). */
  t(type: SuiteType): string;
  /** A string literal in the engine's dialect. */
  str(value: string): string;
  /** `TIMESTAMP '<UTC civil time>'`: the instant that UTC wall-clock time names. */
  ts(utc: string): string;
  /**
   * The name describeTable gives a suite type. The BigQuery emulator's INFORMATION_SCHEMA.COLUMNS says DOUBLE
   * for a FLOAT64 column (BigQuery says FLOAT64): the suite pins what the emulator gives.
   */
  described(type: SuiteType): string;
  /**
   * False on the BigQuery emulator, whose analyzer never sees a column added to an existing table (by
   * `ALTER TABLE … ADD COLUMN` or by patching the table's schema): statements naming it fail with "Column …
   * is not present in table". BigQuery adds columns; the cases that add one pin the emulator's failure.
   */
  readonly addsColumns: boolean;
  /**
   * The engine replaces several views in one transaction (DuckDB). Without it a publish-group flip switches
   * by one history row (core/live-publish.ts), so readers see the new group as soon as that row commits.
   */
  readonly transactionalDdl: boolean;
  /** A query of the given rows, with explicit column types (the first row decides nothing). */
  values(
    columns: readonly (readonly [name: string, type: SuiteType])[],
    rows: readonly (readonly Cell[])[],
  ): string;
}

export function suiteSql(engineType: string): SuiteSql {
  const types = ENGINE_TYPES[engineType] ?? DUCKDB_TYPES;
  const registration = (ENGINES as Record<string, { readonly dialect: SqlDialect } | undefined>)[engineType];
  const str = (v: string): string => registration?.dialect.literal(v) ?? `'${v.replaceAll("'", "''")}'`;
  const t = (type: SuiteType): string => types[type];
  const bigquery = engineType === 'bigquery';
  // The BigQuery emulator reads a timestamp without a zone in America/Los_Angeles (BigQuery: in UTC), so
  // the suite names the zone there; instants then match on both.
  const utc = (v: string): string => (bigquery ? `${v}+00` : v);
  const lit = (v: Cell, type: SuiteType): string => {
    if (v === null) return `CAST(NULL AS ${t(type)})`;
    if (typeof v === 'number' || typeof v === 'boolean') return `CAST(${String(v)} AS ${t(type)})`;
    return `CAST(${str(type === 'TIMESTAMP' ? utc(v) : v)} AS ${t(type)})`;
  };
  return {
    engineType,
    t,
    str,
    ts: (v) => `TIMESTAMP ${str(utc(v))}`,
    described: (type) => (bigquery && type === 'DOUBLE' ? 'DOUBLE' : t(type)),
    addsColumns: !bigquery,
    transactionalDdl: registration?.dialect.features.supportsTransactionalDdl ?? true,
    values(columns, rows) {
      const cells = (r: readonly Cell[]): string[] => r.map((v, i) => lit(v, columns[i]?.[1] ?? 'VARCHAR'));
      // GoogleSQL has no VALUES list in FROM: a UNION ALL of one-row SELECTs says the same everywhere.
      if (engineType === 'bigquery') {
        const selects = rows.map(
          (r) =>
            `SELECT ${cells(r)
              .map((c, i) => `${c} AS ${columns[i]?.[0] ?? ''}`)
              .join(', ')}`,
        );
        return `SELECT * FROM (${selects.join(' UNION ALL ')}) AS v`;
      }
      const body = rows.map((r) => `(${cells(r).join(', ')})`).join(', ');
      return `SELECT * FROM (VALUES ${body}) AS v(${columns.map(([n]) => n).join(', ')})`;
    },
  };
}

/** DuckDB-spelled `SELECT * FROM (VALUES ...)` with explicit column types (Trino's own tests use it). */
export function valuesSql(
  columns: readonly (readonly [name: string, type: string])[],
  rows: readonly (readonly Cell[])[],
): string {
  const lit = (v: Cell, type: string): string => {
    if (v === null) return `CAST(NULL AS ${type})`;
    if (typeof v === 'number' || typeof v === 'boolean') return `CAST(${String(v)} AS ${type})`;
    return `CAST('${v.replaceAll("'", "''")}' AS ${type})`;
  };
  const body = rows
    .map((r) => `(${r.map((v, i) => lit(v, columns[i]?.[1] ?? 'VARCHAR')).join(', ')})`)
    .join(', ');
  return `SELECT * FROM (VALUES ${body}) AS v(${columns.map(([n]) => n).join(', ')})`;
}

/** Rows sorted by the given columns, for order-independent comparisons. */
export async function rowsOf(engine: Engine, table: string, orderBy: string): Promise<Row[]> {
  return engine.query(`SELECT * FROM ${table} ORDER BY ${orderBy}`);
}
