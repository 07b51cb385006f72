import * as live from '../core/live-publish.js';
import type {
  FlipRequest,
  FlipResult,
  PublishState,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import { describeStaged, evolve, openSession, type SparkContext } from './spark-context.js';

/**
 * Published partitions and publish groups on Spark over Iceberg: the live-version strategy of
 * core/live-publish.ts (Spark has no multi-statement transactions, so views cannot be replaced together;
 * each view follows the group's live version and a flip is one history INSERT, one Iceberg commit).
 * A publication stages in a server-side session of its own. Views are re-created when their columns differ
 * from the store's.
 *
 * What readers get (docs/engines.md, "Spark over Iceberg"): every query of one view sees one whole group
 * version; two queries can straddle a flip; and one query over several views of a group is only as
 * consistent as the snapshots Spark loads for it (each view's history read is its own table load).
 */

function liveContext(ctx: SparkContext): live.LivePublishContext {
  return {
    dialect: ctx.dialect,
    client: ctx.client,
    hooks: ctx.hooks,
    locks: ctx.locks,
    ready: ctx.metaReady,
  };
}

function openOperation(ctx: SparkContext): live.PublishOperation {
  const d = ctx.dialect;
  const { session, close } = openSession(ctx);
  return {
    dialect: d,
    session,
    describeStaged: (name) => describeStaged(session, d, name),
    evolve: (table, existing, staged) => evolve(session, d, table, existing, staged),
    close,
  };
}

export function createVersionedTable(
  ctx: SparkContext,
  req: VersionedTableRequest,
): Promise<VersionedTableResult> {
  return live.createVersionedTable(liveContext(ctx), () => openOperation(ctx), req);
}

export function flipPublishGroup(ctx: SparkContext, req: FlipRequest): Promise<FlipResult> {
  return live.flipPublishGroup(liveContext(ctx), req);
}

export function rollbackPublishGroup(ctx: SparkContext, group: string): Promise<FlipResult> {
  return live.rollbackPublishGroup(liveContext(ctx), group);
}

export function publishHistory(ctx: SparkContext, group: string): Promise<PublishState[]> {
  return live.publishHistory(liveContext(ctx), group);
}
