import type { SqlDialect, TableRef } from '../dialect/dialect.js';
import type { ColumnInfo } from '../types.js';
import type { SqlClient, SqlSession } from './client.js';
import type { KeyedLock } from './keyed-lock.js';

/**
 * Test and observability hooks. `afterStep` runs inside the operation's transaction after each
 * named step (e.g. replacePartition 'deleted'); throwing from it aborts and rolls the operation back,
 * which is how tests inject a failure in the middle of a write.
 */
export interface EngineHooks {
  afterStep?(operation: string, step: string): void | Promise<void>;
}

/** What the operations of a SQL engine share: dialect (rendering), client (I/O), hooks and locks. */
export interface EngineContext {
  readonly dialect: SqlDialect;
  readonly client: SqlClient;
  readonly hooks: EngineHooks;
  readonly locks: KeyedLock;
}

export async function step(ctx: EngineContext, operation: string, name: string): Promise<void> {
  await ctx.hooks.afterStep?.(operation, name);
}

export async function describe(
  tx: SqlSession,
  d: SqlDialect,
  ref: TableRef,
  temp = false,
): Promise<ColumnInfo[] | undefined> {
  const rows = await tx.query<{ name: string; type: string }>(d.describeSql(ref, temp));
  return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name, type: r.type }));
}

export function asNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}
