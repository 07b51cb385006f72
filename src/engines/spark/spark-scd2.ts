import { describe } from '../core/context.js';
import * as single from '../core/scd2-single-commit.js';
import type { Scd2ChangesMergeRequest, Scd2MergeResult, Scd2SnapshotMergeRequest } from '../types.js';
import { describeStaged, evolve, openSession, type SparkContext } from './spark-context.js';

/**
 * SCD2 merges on Spark over Iceberg: the single-commit recipe of core/scd2-single-commit.ts, as on Trino.
 * The versions are staged as `STAGE VIEW`s of a server-side session of the merge's own (computed once,
 * not recomputed when the target changes), then ONE `MERGE INTO` the target: one Iceberg commit. The heavy
 * daily merge of a large dimension can run as the PySpark job jobs/scd2_merge.py instead.
 */

function context(ctx: SparkContext): single.Scd2SingleCommitContext {
  const d = ctx.dialect;
  return {
    dialect: d,
    hooks: ctx.hooks,
    locks: ctx.locks,
    ready: ctx.metaReady,
    open: () => {
      const { session, close } = openSession(ctx);
      return {
        dialect: d,
        session,
        describe: (ref) => describe(session, d, ref),
        describeStaged: (name) => describeStaged(session, d, name),
        evolve: (table, existing, staged) => evolve(session, d, table, existing, staged),
        close,
      };
    },
  };
}

export function mergeScd2FromChanges(
  ctx: SparkContext,
  req: Scd2ChangesMergeRequest,
): Promise<Scd2MergeResult> {
  return single.mergeScd2FromChanges(context(ctx), req);
}

export function mergeScd2FromSnapshot(
  ctx: SparkContext,
  req: Scd2SnapshotMergeRequest,
): Promise<Scd2MergeResult> {
  return single.mergeScd2FromSnapshot(context(ctx), req);
}
