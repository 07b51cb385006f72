import { DateTime } from 'luxon';
import { EngineError } from '../errors.js';
import type { TableRef } from '../dialect/dialect.js';
import {
  PK_COLUMN,
  SLICE_COLUMN,
  renderPublish,
  renderPublishMetaDdl,
  storeRef,
  type HistoryRow,
} from '../dialect/publish.js';
import { planSchemaEvolution } from '../dialect/schema.js';
import type {
  FlipRequest,
  FlipResult,
  PublishState,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import type { SqlSession } from './client.js';
import { describe, step, type EngineContext } from './context.js';
import { ensureMeta } from './meta.js';
import {
  PUBLISH_STAGE,
  currentState,
  planFlip,
  publicationTarget,
  readHistory,
  readSlices,
  resultOf,
  stageSlices,
  tablesHash,
  toState,
  viewTarget,
  writeManifest,
} from './publish-common.js';

/**
 * Published partitions and publish groups (see dialect/publish.ts for the layout). A publication appends only
 * the partitions whose content changed to the asset's store; a flip writes the group's next manifest (the
 * previous one with the publications' partitions replaced), re-points every view of the group to it and appends
 * to the history, in one transaction; a rollback marks the current entry rolled back and re-points to the newest
 * entry before it. Stored rows are never deleted, so every version stays servable.
 */

const publishMetaReady = new WeakMap<EngineContext, Promise<void>>();

/** The publish bookkeeping tables, created once per engine outside any operation's transaction (as meta.ts). */
async function ensurePublishMeta(ctx: EngineContext): Promise<void> {
  await ensureMeta(ctx);
  let p = publishMetaReady.get(ctx);
  if (!p) {
    p = (async () => {
      for (const s of renderPublishMetaDdl(ctx.dialect)) await ctx.client.run(s);
    })();
    p.catch(() => publishMetaReady.delete(ctx));
    publishMetaReady.set(ctx, p);
  }
  return p;
}

export async function createVersionedTable(
  ctx: EngineContext,
  req: VersionedTableRequest,
): Promise<VersionedTableResult> {
  const d = ctx.dialect;
  const target = publicationTarget(d, req);
  const { version, store, column } = target;
  const p = renderPublish(d);
  const stage = d.tempTable(PUBLISH_STAGE);
  await ensurePublishMeta(ctx);
  return ctx.locks.run(d.table(store), () =>
    ctx.client.transaction(async (tx) => {
      // A retried publication finds its own rows: they were committed together, so it is complete.
      const done = await readSlices(tx, d, req.assetKey, version);
      if (done.length > 0) return resultOf(req.assetKey, version, done);
      const { slices, fresh } = await stageSlices(tx, d, req, target, () =>
        Promise.resolve((key) => p.fingerprintKey(stage, column, key)),
      );
      if (fresh.length > 0) await appendFresh(ctx, tx, store, column, fresh, version);
      await step(ctx, 'publish', 'appended');
      await tx.run(p.insertSlices(slices));
      await tx.run(d.dropTempTable(PUBLISH_STAGE));
      return resultOf(req.assetKey, version, slices);
    }),
  );
}

/** Creates or evolves the store to fit the stage, then appends the stage's rows of `keys` as slice `version`. */
async function appendFresh(
  ctx: EngineContext,
  tx: SqlSession,
  store: TableRef,
  column: string | null,
  keys: readonly string[],
  version: string,
): Promise<void> {
  const d = ctx.dialect;
  const p = renderPublish(d);
  const stage = d.tempTable(PUBLISH_STAGE);
  const staged = (await describe(tx, d, d.tempRef(PUBLISH_STAGE), true)) ?? [];
  const existing = await describe(tx, d, store);
  if (!existing) {
    await tx.run(p.createStore(store, stage));
  } else {
    const own = existing.filter((c) => c.name !== PK_COLUMN && c.name !== SLICE_COLUMN);
    const plan = planSchemaEvolution(d, `${store.schema}.${store.name}`, own, staged);
    for (const s of plan.statements) await tx.run(s);
  }
  await tx.run(
    p.appendToStore(
      store,
      stage,
      staged.map((c) => c.name),
      column,
      keys,
      version,
    ),
  );
}

export async function flipPublishGroup(ctx: EngineContext, req: FlipRequest): Promise<FlipResult> {
  const d = ctx.dialect;
  const entries = Object.entries(req.tables).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) throw new EngineError(d.name, `publish group ${req.group}: no tables to flip`);
  await ensurePublishMeta(ctx);
  return withGroup(ctx, req.group, async (tx, history) => {
    const current = currentState(history);
    const plan = await planFlip(tx, d, req.group, req.tables, current);
    if (current && !plan.changed) return { state: current, changed: false };
    const seq = (history.at(-1)?.seq ?? 0) + 1;
    await writeManifest(tx, d, req.group, plan, current, seq);
    await pointViews(ctx, tx, req.group, seq, plan.served, 'flip');
    const row: HistoryRow = {
      group_name: req.group,
      seq,
      version: req.version ?? tablesHash(entries),
      tables_json: JSON.stringify(Object.fromEntries(plan.served)),
      run_id: req.runId ?? null,
      published_at: DateTime.utc().toISO(),
      rolled_back: false,
    };
    await tx.run(renderPublish(d).insertHistory(row));
    await step(ctx, 'flip', 'recorded');
    return { state: toState(row), changed: true };
  });
}

export async function rollbackPublishGroup(ctx: EngineContext, group: string): Promise<FlipResult> {
  await ensurePublishMeta(ctx);
  return withGroup(ctx, group, async (tx, history) => {
    const live = history.filter((h) => !h.rolledBack);
    const current = live.at(-1);
    const previous = live.at(-2);
    if (!current || !previous) {
      throw new EngineError(
        ctx.dialect.name,
        `publish group ${group} has no earlier version to roll back to`,
      );
    }
    await tx.run(renderPublish(ctx.dialect).markRolledBack(group, current.seq));
    await pointViews(ctx, tx, group, previous.seq, Object.entries(previous.tables), 'rollback');
    return { state: previous, changed: true };
  });
}

export async function publishHistory(ctx: EngineContext, group: string): Promise<PublishState[]> {
  await ensureMeta(ctx);
  return readHistory(ctx.client, ctx.dialect, group);
}

async function withGroup<T>(
  ctx: EngineContext,
  group: string,
  fn: (tx: SqlSession, history: PublishState[]) => Promise<T>,
): Promise<T> {
  await ensureMeta(ctx);
  return ctx.locks.run(`publish:${group}`, () =>
    ctx.client.transaction(async (tx) => fn(tx, await readHistory(tx, ctx.dialect, group))),
  );
}

/** Re-points each asset's view to the group's manifest `seq`. */
async function pointViews(
  ctx: EngineContext,
  tx: SqlSession,
  group: string,
  seq: number,
  entries: readonly (readonly [string, string])[],
  operation: string,
): Promise<void> {
  const d = ctx.dialect;
  const p = renderPublish(d);
  for (const [assetKey] of entries) {
    const { columns } = await viewTarget(tx, d, group, assetKey);
    await tx.run(d.createSchema(d.tableRef(assetKey).schema));
    await tx.run(p.pointView(assetKey, storeRef(d, assetKey), columns, group, seq));
    await step(ctx, operation, `view:${assetKey}`);
  }
}
