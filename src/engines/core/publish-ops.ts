import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { EngineError, PartitionMismatchError } from '../errors.js';
import type { TableRef } from '../dialect/dialect.js';
import {
  PK_COLUMN,
  SLICE_COLUMN,
  WHOLE,
  parsePublicationId,
  publicationId,
  renderPublish,
  renderPublishMetaDdl,
  sanitizeVersion,
  storeRef,
  type HistoryRow,
  type SliceRow,
} from '../dialect/publish.js';
import { planSchemaEvolution } from '../dialect/schema.js';
import type {
  FlipRequest,
  FlipResult,
  PublishState,
  PublishedPartition,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import type { SqlSession } from './client.js';
import { asNumber, describe, step, type EngineContext } from './context.js';
import { ensureMeta } from './meta.js';

/**
 * Published partitions and publish groups (see dialect/publish.ts for the layout). A publication appends only
 * the partitions whose content changed to the asset's store; a flip writes the group's next manifest (the
 * previous one with the publications' partitions replaced), re-points every view of the group to it and appends
 * to the history, in one transaction; a rollback marks the current entry rolled back and re-points to the newest
 * entry before it. Stored rows are never deleted, so every version stays servable.
 */

const PUBLISH_STAGE = '__tessera_publish_stage';
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
  const version = sanitizeVersion(d.name, req.version);
  const store = storeRef(d, req.assetKey);
  const column = req.partitions?.column ?? null;
  const keys = req.partitions ? [...new Set(req.partitions.keys)].sort() : [WHOLE];
  if (keys.length === 0)
    throw new EngineError(d.name, `publication ${req.assetKey}@${version} names no partitions`);
  if (keys.includes(WHOLE) && column !== null)
    throw new EngineError(d.name, `publication ${req.assetKey}@${version}: '' is not a partition key`);
  const p = renderPublish(d);
  const stage = d.tempTable(PUBLISH_STAGE);
  await ensurePublishMeta(ctx);
  return ctx.locks.run(d.table(store), () =>
    ctx.client.transaction(async (tx) => {
      // A retried publication finds its own rows: they were committed together, so it is complete.
      const done = await readSlices(ctx, tx, req.assetKey, version);
      if (done.length > 0) return resultOf(req.assetKey, version, done);

      await tx.run(d.createSchema(store.schema));
      await tx.run(d.createTempTableAs(PUBLISH_STAGE, `SELECT * FROM (${req.selectSql}) AS s`));
      if (column !== null) {
        const [row] = await tx.query(p.countOutside(stage, column, keys));
        const outside = asNumber(row?.['n']);
        if (outside > 0) {
          throw new PartitionMismatchError(
            d.name,
            req.assetKey,
            `${column} in (${keys.join(', ')})`,
            outside,
          );
        }
      }
      const slices: SliceRow[] = [];
      const fresh: string[] = [];
      for (const key of keys) {
        const [fp] = await tx.query(p.fingerprintKey(stage, column, key));
        const rowCount = asNumber(fp?.['rows']);
        const fingerprint = String(fp?.['version'] ?? '');
        const [same] = await tx.query(p.findEqualSlice(req.assetKey, key, rowCount, fingerprint));
        const reuse = same?.['slice'];
        const slice = typeof reuse === 'string' ? reuse : version;
        if (slice === version) fresh.push(key);
        slices.push({
          assetKey: req.assetKey,
          publication: version,
          partitionKey: key,
          slice,
          rowCount,
          fingerprint,
        });
      }
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

async function readSlices(
  ctx: EngineContext,
  tx: SqlSession,
  assetKey: string,
  publication: string,
): Promise<SliceRow[]> {
  const rows = await tx.query(renderPublish(ctx.dialect).selectSlices(assetKey, publication));
  return rows.map((r) => ({
    assetKey,
    publication,
    partitionKey: String(r['partition_key']),
    slice: String(r['slice']),
    rowCount: asNumber(r['row_count']),
    fingerprint: String(r['fingerprint']),
  }));
}

export function resultOf(
  assetKey: string,
  version: string,
  slices: readonly SliceRow[],
): VersionedTableResult {
  const partitions: Record<string, PublishedPartition> = {};
  for (const s of slices) {
    partitions[s.partitionKey] = {
      rowCount: s.rowCount,
      dataVersion: s.fingerprint,
      reused: s.slice !== version,
    };
  }
  const only = slices.length === 1 ? slices[0] : undefined;
  return {
    table: publicationId(assetKey, version),
    rowCount: slices.reduce((n, s) => n + s.rowCount, 0),
    dataVersion:
      only?.fingerprint ??
      createHash('sha256')
        .update(slices.map((s) => `${s.partitionKey}:${s.fingerprint}`).join('\n'))
        .digest('hex')
        .slice(0, 32),
    schemaChanges: [],
    partitions,
  };
}

export async function flipPublishGroup(ctx: EngineContext, req: FlipRequest): Promise<FlipResult> {
  const d = ctx.dialect;
  const entries = Object.entries(req.tables).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) throw new EngineError(d.name, `publish group ${req.group}: no tables to flip`);
  await ensurePublishMeta(ctx);
  return withGroup(ctx, req.group, async (tx, history) => {
    const p = renderPublish(d);
    const current = currentState(history);
    const next: { assetKey: string; slices: SliceRow[]; carry: boolean }[] = [];
    let changed = !current;
    for (const [assetKey, id] of entries) {
      const pub = parsePublicationId(d.name, id);
      if (pub.assetKey !== assetKey)
        throw new EngineError(
          d.name,
          `publish group ${req.group}: ${id} is not a publication of ${assetKey}`,
        );
      const slices = await readSlices(ctx, tx, assetKey, pub.version);
      if (slices.length === 0)
        throw new EngineError(d.name, `publish group ${req.group}: ${id} (for ${assetKey}) does not exist`);
      // A publication of an unpartitioned asset replaces all of it; a partitioned one the keys it lists.
      const carry = !(slices.length === 1 && slices[0]?.partitionKey === WHOLE);
      const served = current?.tables[assetKey] !== undefined && current ? current.seq : undefined;
      if (served === undefined) changed = true;
      else if (!changed) {
        const now = new Map(
          (await tx.query(p.selectManifest(req.group, served, assetKey))).map((r) => [
            String(r['partition_key']),
            String(r['slice']),
          ]),
        );
        const differs = slices.some((s) => now.get(s.partitionKey) !== s.slice);
        changed = differs || (!carry && now.size !== 1);
      }
      next.push({ assetKey, slices, carry: carry && served !== undefined });
    }
    if (current && !changed) return { state: current, changed: false };
    // Members this flip does not name keep serving what they served (carried into the new version).
    const kept = Object.entries(current?.tables ?? {}).filter(([k]) => req.tables[k] === undefined);
    for (const [assetKey] of kept) next.push({ assetKey, slices: [], carry: true });
    const served = [...entries, ...kept].sort(([a], [b]) => a.localeCompare(b));

    const seq = (history.at(-1)?.seq ?? 0) + 1;
    for (const n of next) {
      if (n.carry && current) {
        await tx.run(
          p.carryManifest(
            req.group,
            current.seq,
            seq,
            n.assetKey,
            n.slices.map((s) => s.partitionKey),
          ),
        );
      }
      if (n.slices.length === 0) continue;
      await tx.run(
        p.insertManifest(
          req.group,
          seq,
          n.assetKey,
          n.slices.map((s) => [s.partitionKey, s.slice] as const),
        ),
      );
    }
    await pointViews(ctx, tx, req.group, seq, served, 'flip');
    const row: HistoryRow = {
      group_name: req.group,
      seq,
      version: req.version ?? tablesHash(entries),
      tables_json: JSON.stringify(Object.fromEntries(served)),
      run_id: req.runId ?? null,
      published_at: DateTime.utc().toISO(),
      rolled_back: false,
    };
    await tx.run(p.insertHistory(row));
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
  return readHistory(ctx, ctx.client, group);
}

async function withGroup<T>(
  ctx: EngineContext,
  group: string,
  fn: (tx: SqlSession, history: PublishState[]) => Promise<T>,
): Promise<T> {
  await ensureMeta(ctx);
  return ctx.locks.run(`publish:${group}`, () =>
    ctx.client.transaction(async (tx) => fn(tx, await readHistory(ctx, tx, group))),
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
    const store = storeRef(d, assetKey);
    const columns = (await describe(tx, d, store))
      ?.map((c) => c.name)
      .filter((c) => c !== PK_COLUMN && c !== SLICE_COLUMN);
    if (!columns) {
      throw new EngineError(d.name, `publish group ${group}: ${assetKey} has no published store`);
    }
    const [kind] = await tx.query<{ kind: string }>(d.relationKindSql(d.tableRef(assetKey)));
    if (kind?.kind === 'table') {
      throw new EngineError(
        d.name,
        `publish group ${group}: ${assetKey} is a table; a published asset is a view over its published store`,
      );
    }
    await tx.run(d.createSchema(d.tableRef(assetKey).schema));
    await tx.run(p.pointView(assetKey, store, columns, group, seq));
    await step(ctx, operation, `view:${assetKey}`);
  }
}

async function readHistory(ctx: EngineContext, tx: SqlSession, group: string): Promise<PublishState[]> {
  const rows = await tx.query(renderPublish(ctx.dialect).selectHistory(group));
  return rows.map((r) =>
    toState({
      group_name: String(r['group_name']),
      seq: asNumber(r['seq']),
      version: String(r['version']),
      tables_json: String(r['tables_json']),
      run_id: r['run_id'] === null ? null : String(r['run_id']),
      published_at: String(r['published_at']),
      rolled_back: r['rolled_back'] === true,
    }),
  );
}

export function toState(row: HistoryRow): PublishState {
  const parsed: unknown = JSON.parse(row.tables_json);
  const tables: Record<string, string> = {};
  if (parsed && typeof parsed === 'object') {
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') tables[k] = v;
  }
  return {
    group: row.group_name,
    version: row.version,
    seq: row.seq,
    tables,
    runId: row.run_id,
    publishedAt: row.published_at,
    rolledBack: row.rolled_back,
  };
}

export function currentState(history: readonly PublishState[]): PublishState | undefined {
  return history.filter((h) => !h.rolledBack).at(-1);
}

export function tablesHash(entries: readonly (readonly [string, string])[]): string {
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
}
