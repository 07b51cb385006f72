import { randomBytes } from 'node:crypto';
import type { EngineHooks } from '../core/context.js';
import type { KeyedLock } from '../core/keyed-lock.js';
import { renderMetaDdl } from '../dialect/meta.js';
import type { ColumnInfo } from '../types.js';
import type { TableRef } from '../dialect/dialect.js';
import type { TrinoClient } from './trino-client.js';
import type { TrinoDialect } from './trino-dialect.js';
import { icebergStorageType } from './trino-types.js';
import { once } from '../core/once.js';

/** What the Trino engine's operations share (the Trino counterpart of core/context.ts). */
export interface TrinoContext {
  readonly dialect: TrinoDialect;
  readonly client: TrinoClient;
  readonly hooks: EngineHooks;
  readonly locks: KeyedLock;
  /** Once per engine: the staging schema exists. */
  ready(): Promise<void>;
  /** Once per engine: the tessera_meta tables exist. */
  metaReady(): Promise<void>;
}

/** The staging schema, needed by every write. */
export function createReady(dialect: TrinoDialect, client: TrinoClient): () => Promise<void> {
  const { stagingCatalog, stagingSchema } = dialect.options;
  return once(() =>
    client
      .run(`CREATE SCHEMA IF NOT EXISTS ${dialect.quote(stagingCatalog)}.${dialect.quote(stagingSchema)}`)
      .then(() => undefined),
  );
}

/** The tessera_meta tables (SCD2 state, publish history): each CREATE is an Iceberg commit, so only when used. */
export function createMetaReady(dialect: TrinoDialect, client: TrinoClient): () => Promise<void> {
  return once(async () => {
    for (const s of renderMetaDdl(dialect)) await client.run(s);
  });
}

/** A dialect whose staging tables belong to this operation alone. */
export function operationDialect(ctx: TrinoContext): TrinoDialect {
  return ctx.dialect.forOperation(randomBytes(6).toString('hex'));
}

export async function step(ctx: TrinoContext, operation: string, name: string): Promise<void> {
  await ctx.hooks.afterStep?.(operation, name);
}

export async function describeRef(
  ctx: TrinoContext,
  d: TrinoDialect,
  ref: TableRef,
  temp = false,
): Promise<ColumnInfo[] | undefined> {
  const rows = await ctx.client.query<{ name: string; type: string }>(d.describeSql(ref, temp));
  return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name, type: r.type }));
}

/** A staged result's columns with the types Iceberg will store them as (what evolution must compare). */
export async function describeStaged(
  ctx: TrinoContext,
  d: TrinoDialect,
  name: string,
): Promise<ColumnInfo[]> {
  const cols = (await describeRef(ctx, d, d.tempRef(name), true)) ?? [];
  return cols.map((c) => ({ name: c.name, type: icebergStorageType(c.type) }));
}

/** Drops staging tables, ignoring failures (they only hold a finished operation's scratch rows). */
export async function dropStaged(
  ctx: TrinoContext,
  d: TrinoDialect,
  names: readonly string[],
): Promise<void> {
  // Independent statements: in parallel, each round trip costs a Trino query's fixed overhead.
  await Promise.all(names.map((name) => ctx.client.run(d.dropTempTable(name)).catch(() => undefined)));
}
