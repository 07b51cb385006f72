import * as live from '../core/live-publish.js';
import type { TableRef } from '../dialect/dialect.js';
import { renderPublishMetaDdl } from '../dialect/publish.js';
import type {
  FlipRequest,
  FlipResult,
  PublishState,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import { once } from '../core/once.js';
import { describeStaged, dropStaged, operationDialect, type TrinoContext } from './trino-context.js';
import { evolve } from './trino-write.js';

/**
 * Published partitions and publish groups on Trino: the live-version strategy of core/live-publish.ts
 * (Trino cannot replace several views in one transaction, and Iceberg on Trino commits each statement).
 *
 * A query reading several views of a group reads the history table once per view; Trino's Iceberg
 * connector reads one snapshot of a table per query, so the views agree (test/engines/trino.test.ts,
 * "a reader of several views of a group"). Two separate queries can of course straddle a flip.
 */

export function ensurePublishMeta(ctx: TrinoContext): () => Promise<void> {
  return once(async () => {
    await ctx.ready();
    await ctx.metaReady();
    for (const s of renderPublishMetaDdl(ctx.dialect)) await ctx.client.run(s);
  });
}

export interface TrinoPublishContext extends TrinoContext {
  readonly publishReady: () => Promise<void>;
}

/** The core strategy's view of a Trino engine (views compared by their stored text). */
function liveContext(ctx: TrinoPublishContext): live.LivePublishContext {
  const d = ctx.dialect;
  return {
    dialect: d,
    client: ctx.client,
    hooks: ctx.hooks,
    locks: ctx.locks,
    ready: ctx.publishReady,
    viewDefinition: async (ref: TableRef) => {
      const [stored] = await ctx.client.query(
        `SELECT view_definition AS ${d.quote('sql')} FROM information_schema.views ` +
          `WHERE table_schema = ${d.literal(ref.schema)} AND table_name = ${d.literal(ref.name)}`,
      );
      return stored === undefined ? undefined : String(stored['sql'] ?? '');
    },
  };
}

/** A publication's staging tables are its own (memory catalog, per-operation names). */
function openOperation(ctx: TrinoContext): live.PublishOperation {
  const d = operationDialect(ctx);
  return {
    dialect: d,
    session: ctx.client,
    describeStaged: (name) => describeStaged(ctx, d, name),
    evolve: (table, existing, columns) => evolve(ctx, d, table, existing, columns),
    // Hashed as stored (Iceberg types), so a partition fingerprints like replacePartition's table does.
    hashed: (columns) => columns.map((c) => `CAST(__tessera_row.${d.quote(c.name)} AS ${c.type})`),
    close: () => dropStaged(ctx, d, [live.PUBLISH_STAGE]),
  };
}

export function createVersionedTable(
  ctx: TrinoPublishContext,
  req: VersionedTableRequest,
): Promise<VersionedTableResult> {
  return live.createVersionedTable(liveContext(ctx), () => openOperation(ctx), req);
}

export function flipPublishGroup(ctx: TrinoPublishContext, req: FlipRequest): Promise<FlipResult> {
  return live.flipPublishGroup(liveContext(ctx), req);
}

export function rollbackPublishGroup(ctx: TrinoPublishContext, group: string): Promise<FlipResult> {
  return live.rollbackPublishGroup(liveContext(ctx), group);
}

export function publishHistory(ctx: TrinoPublishContext, group: string): Promise<PublishState[]> {
  return live.publishHistory(liveContext(ctx), group);
}
