import { afterEach, beforeEach } from 'vitest';
import type { EngineHooks } from '../../../src/engines/core/context.js';
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

/** Portable `SELECT * FROM (VALUES ...)` with explicit column types (first row decides nothing). */
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
