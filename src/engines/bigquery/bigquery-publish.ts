import type { EngineHooks } from '../core/context.js';
import type { SqlClient } from '../core/client.js';
import type { KeyedLock } from '../core/keyed-lock.js';
import * as live from '../core/live-publish.js';
import type { FlipRequest, FlipResult } from '../types.js';
import type { BigQueryDialect } from './bigquery-dialect.js';

/**
 * Publish-group flips and rollbacks on BigQuery, which cannot replace several views in one transaction (its
 * transactions take DML only): the live-version strategy of core/live-publish.ts, as on Trino and Spark. A
 * query reading several views of a group reads one snapshot of the history table (BigQuery queries are
 * snapshot-isolated), so the views agree. Views are re-created when their columns differ from the store's.
 *
 * Publications (createVersionedTable, in one DML transaction) and history reads are SqlEngine's own
 * (core/publish-ops.ts).
 */

export interface BigQueryPublishContext {
  readonly dialect: BigQueryDialect;
  readonly client: SqlClient;
  readonly hooks: EngineHooks;
  readonly locks: KeyedLock;
  /** The bookkeeping tables exist (history, slices, manifest). */
  readonly ready: () => Promise<void>;
}

export function flipPublishGroup(ctx: BigQueryPublishContext, req: FlipRequest): Promise<FlipResult> {
  return live.flipPublishGroup(ctx, req);
}

export function rollbackPublishGroup(ctx: BigQueryPublishContext, group: string): Promise<FlipResult> {
  return live.rollbackPublishGroup(ctx, group);
}
