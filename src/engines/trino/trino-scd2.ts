import * as single from '../core/scd2-single-commit.js';
import type { Scd2ChangesMergeRequest, Scd2MergeResult, Scd2SnapshotMergeRequest } from '../types.js';
import {
  describeRef,
  describeStaged,
  dropStaged,
  operationDialect,
  type TrinoContext,
} from './trino-context.js';
import { evolve } from './trino-write.js';

/**
 * SCD2 merges on Iceberg through Trino: the single-commit recipe of core/scd2-single-commit.ts (the
 * versions staged in the memory catalog under names of the operation's own, then ONE MERGE into the
 * target). Iceberg on Trino commits each statement on its own.
 */

function context(ctx: TrinoContext): single.Scd2SingleCommitContext {
  return {
    dialect: ctx.dialect,
    hooks: ctx.hooks,
    locks: ctx.locks,
    ready: async () => {
      await ctx.ready();
      await ctx.metaReady();
    },
    open: () => {
      const d = operationDialect(ctx);
      return {
        dialect: d,
        session: ctx.client,
        describe: (ref) => describeRef(ctx, d, ref),
        describeStaged: (name) => describeStaged(ctx, d, name),
        evolve: (table, existing, staged) => evolve(ctx, d, table, existing, staged),
        close: () => dropStaged(ctx, d, single.SCD2_STAGED),
      };
    },
  };
}

export function mergeScd2FromChanges(
  ctx: TrinoContext,
  req: Scd2ChangesMergeRequest,
): Promise<Scd2MergeResult> {
  return single.mergeScd2FromChanges(context(ctx), req);
}

export function mergeScd2FromSnapshot(
  ctx: TrinoContext,
  req: Scd2SnapshotMergeRequest,
): Promise<Scd2MergeResult> {
  return single.mergeScd2FromSnapshot(context(ctx), req);
}
