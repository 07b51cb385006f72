import { randomUUID } from 'node:crypto';
import type { SqlSession } from '../core/client.js';
import { describe, type EngineHooks } from '../core/context.js';
import type { KeyedLock } from '../core/keyed-lock.js';
import { renderMetaDdl } from '../dialect/meta.js';
import { renderPublishMetaDdl } from '../dialect/publish.js';
import { planSchemaEvolution } from '../dialect/schema.js';
import type { ColumnInfo, SchemaChange } from '../types.js';
import type { SparkClient } from './spark-client.js';
import type { SparkDialect } from './spark-dialect.js';
import { once } from '../core/once.js';

/** What the Spark engine's operations share. */
export interface SparkContext {
  readonly dialect: SparkDialect;
  readonly client: SparkClient;
  readonly hooks: EngineHooks;
  readonly locks: KeyedLock;
  /** Once per engine: the tessera_meta tables exist (SCD2 state, publish history, slices, manifest). */
  readonly metaReady: () => Promise<void>;
}

/** The bookkeeping tables, created together the first time an operation needs one (each CREATE is a commit). */
export function createMetaReady(dialect: SparkDialect, client: SparkClient): () => Promise<void> {
  return once(async () => {
    for (const s of [...renderMetaDdl(dialect), ...renderPublishMetaDdl(dialect)]) await client.run(s);
  });
}

/**
 * A server-side session of one operation: its temp views (staging) are its own, so concurrent operations
 * never share a staging name; `close` ends it and drops them.
 */
export function openSession(ctx: SparkContext): { readonly session: SqlSession; close(): Promise<void> } {
  const id = randomUUID();
  return {
    session: ctx.client.session(id),
    close: () => ctx.client.closeSession(id).catch(() => undefined),
  };
}

export function describeStaged(tx: SqlSession, d: SparkDialect, name: string): Promise<ColumnInfo[]> {
  return describe(tx, d, d.tempRef(name), true).then((c) => c ?? []);
}

/** Adds/widens columns of `table` so `staged` fits (schema.ts rules); each DDL statement is one Iceberg commit. */
export async function evolve(
  tx: SqlSession,
  d: SparkDialect,
  table: string,
  existing: readonly ColumnInfo[],
  staged: readonly ColumnInfo[],
): Promise<SchemaChange[]> {
  const plan = planSchemaEvolution(d, table, existing, staged);
  for (const s of plan.statements) await tx.run(sparkAlter(s));
  return plan.changes;
}

/**
 * schema.ts spells a widening `ALTER COLUMN c SET DATA TYPE t` (ANSI); Spark's parser only takes
 * `ALTER COLUMN c TYPE t`.
 */
function sparkAlter(statement: string): string {
  return statement.replace(/ ALTER COLUMN (`(?:[^`]|``)+`) SET DATA TYPE /, ' ALTER COLUMN $1 TYPE ');
}
