import { DateTime } from 'luxon';
import { asNumber } from '../core/context.js';
import { currentState, resultOf, tablesHash, toState } from '../core/publish-ops.js';
import { HISTORY_TABLE } from '../dialect/meta.js';
import {
  MANIFEST_TABLE,
  PK_COLUMN,
  SLICE_COLUMN,
  WHOLE,
  parsePublicationId,
  renderPublish,
  renderPublishMetaDdl,
  sanitizeVersion,
  storeRef,
  type HistoryRow,
  type SliceRow,
} from '../dialect/publish.js';
import { EngineError, PartitionMismatchError } from '../errors.js';
import type {
  FlipRequest,
  FlipResult,
  PublishState,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import {
  describeRef,
  describeStaged,
  dropStaged,
  once,
  operationDialect,
  step,
  type TrinoContext,
} from './trino-context.js';
import type { TrinoDialect } from './trino-dialect.js';
import { evolve } from './trino-write.js';

/**
 * Published partitions and publish groups on Trino (the layout of dialect/publish.ts: per-asset stores,
 * publish_slices, publish_manifest, publish_history). Trino cannot replace several views in one
 * transaction, so the views never name a group version: each one serves the manifest of the group's
 * LIVE version, `max(seq)` of the history rows not rolled back. A flip writes the new manifest first
 * (invisible: no history row names its seq yet), including the members it does not name (carried over
 * from the live version, so they keep serving what they served), creates the views that are missing or
 * whose columns changed (still serving the live version), then appends the history row: that one INSERT
 * is one Iceberg commit and switches every view of the group at once. A rollback is one UPDATE of the
 * history (marks the current version rolled back).
 *
 * A query reading several views of a group reads the history table once per view; Trino's Iceberg
 * connector reads one snapshot of a table per query, so the views agree (test/engines/trino.test.ts,
 * "a reader of several views of a group").
 * Two separate queries can of course straddle a flip.
 */

const PUBLISH_STAGE = '__tessera_publish_stage';

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

export async function createVersionedTable(
  ctx: TrinoPublishContext,
  req: VersionedTableRequest,
): Promise<VersionedTableResult> {
  const base = ctx.dialect;
  const version = sanitizeVersion(base.name, req.version);
  const store = storeRef(base, req.assetKey);
  const column = req.partitions?.column ?? null;
  const keys = req.partitions ? [...new Set(req.partitions.keys)].sort() : [WHOLE];
  if (keys.length === 0)
    throw new EngineError(base.name, `publication ${req.assetKey}@${version} names no partitions`);
  if (keys.includes(WHOLE) && column !== null)
    throw new EngineError(base.name, `publication ${req.assetKey}@${version}: '' is not a partition key`);
  await ctx.publishReady();
  return ctx.locks.run(base.table(store), async () => {
    const d = operationDialect(ctx);
    const p = renderPublish(d);
    const q = (c: string): string => d.quote(c);
    const stage = d.tempTable(PUBLISH_STAGE);
    // A retried publication finds its own slices: they commit last, so it is complete.
    const done = await readSlices(ctx, d, req.assetKey, version);
    if (done.length > 0) return resultOf(req.assetKey, version, done);
    try {
      await ctx.client.run(d.createSchema(store.schema));
      await ctx.client.run(d.createTempTableAs(PUBLISH_STAGE, `SELECT * FROM (${req.selectSql}) AS s`));
      if (column !== null) {
        const [row] = await ctx.client.query(p.countOutside(stage, column, keys));
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
      const staged = await describeStaged(ctx, d, PUBLISH_STAGE);
      // Hashed as stored (Iceberg types), so a partition fingerprints like replacePartition's table does.
      const hashed = staged.map((c) => `CAST(__tessera_row.${q(c.name)} AS ${c.type})`);
      const slices: SliceRow[] = [];
      const fresh: string[] = [];
      for (const key of keys) {
        const where =
          column === null ? 'TRUE' : `CAST(${q(column)} AS ${d.spell.textType}) = ${d.literal(key)}`;
        const [fp] = await ctx.client.query(
          `SELECT count(*) AS ${q('rows')}, ${d.fingerprint(hashed)} AS ${q('version')} ` +
            `FROM ${stage} AS __tessera_row WHERE ${where}`,
        );
        const rowCount = asNumber(fp?.['rows']);
        const fingerprint = String(fp?.['version'] ?? '');
        const [same] = await ctx.client.query(p.findEqualSlice(req.assetKey, key, rowCount, fingerprint));
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
      if (fresh.length > 0) {
        const existing = await describeRef(ctx, d, store);
        if (!existing) {
          await ctx.client.run(p.createStore(store, stage));
        } else {
          const own = existing.filter((c) => c.name !== PK_COLUMN && c.name !== SLICE_COLUMN);
          await evolve(ctx, d, `${store.schema}.${store.name}`, own, staged);
          // Rows of an attempt that died before its slices committed: nothing references them.
          const mine = `${q(SLICE_COLUMN)} = ${d.literal(version)}`;
          const [left] = await ctx.client.query(
            `SELECT count(*) AS ${q('n')} FROM ${d.table(store)} WHERE ${mine}`,
          );
          if (asNumber(left?.['n']) > 0) await ctx.client.run(`DELETE FROM ${d.table(store)} WHERE ${mine}`);
        }
        await ctx.client.run(
          p.appendToStore(
            store,
            stage,
            staged.map((c) => c.name),
            column,
            fresh,
            version,
          ),
        );
      }
      await step(ctx, 'publish', 'appended');
      await ctx.client.run(p.insertSlices(slices));
      return resultOf(req.assetKey, version, slices);
    } finally {
      await dropStaged(ctx, d, [PUBLISH_STAGE]);
    }
  });
}

export async function flipPublishGroup(ctx: TrinoPublishContext, req: FlipRequest): Promise<FlipResult> {
  const d = ctx.dialect;
  const entries = Object.entries(req.tables).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) throw new EngineError(d.name, `publish group ${req.group}: no tables to flip`);
  await ctx.publishReady();
  return ctx.locks.run(`publish:${req.group}`, async () => {
    const p = renderPublish(d);
    const history = await readHistory(ctx, req.group);
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
      const slices = await readSlices(ctx, d, assetKey, pub.version);
      if (slices.length === 0)
        throw new EngineError(d.name, `publish group ${req.group}: ${id} (for ${assetKey}) does not exist`);
      const carry = !(slices.length === 1 && slices[0]?.partitionKey === WHOLE);
      const served = current?.tables[assetKey] !== undefined && current ? current.seq : undefined;
      if (served === undefined) changed = true;
      else if (!changed) {
        const now = new Map(
          (await ctx.client.query(p.selectManifest(req.group, served, assetKey))).map((r) => [
            String(r['partition_key']),
            String(r['slice']),
          ]),
        );
        changed = slices.some((s) => now.get(s.partitionKey) !== s.slice) || (!carry && now.size !== 1);
      }
      next.push({ assetKey, slices, carry: carry && served !== undefined });
    }
    if (current && !changed) return { state: current, changed: false };
    // Members this flip does not name keep serving what they served: their manifest is carried into the
    // new version (their views follow the live version, so without it they would serve nothing).
    const kept = Object.entries(current?.tables ?? {}).filter(([k]) => req.tables[k] === undefined);
    for (const [assetKey] of kept) next.push({ assetKey, slices: [], carry: true });
    const served = [...entries, ...kept].sort(([a], [b]) => a.localeCompare(b));

    // Past the manifests of flips that died before their history row (invisible leftovers): a fresh seq.
    const [top] = await ctx.client.query(
      `SELECT max(${d.quote('seq')}) AS ${d.quote('seq')} FROM ${d.table(MANIFEST_TABLE)} ` +
        `WHERE ${d.quote('group_name')} = ${d.literal(req.group)}`,
    );
    const seq = Math.max(history.at(-1)?.seq ?? 0, asNumber(top?.['seq'])) + 1;
    for (const n of next) {
      if (n.carry && current) {
        await ctx.client.run(
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
      await ctx.client.run(
        p.insertManifest(
          req.group,
          seq,
          n.assetKey,
          n.slices.map((s) => [s.partitionKey, s.slice] as const),
        ),
      );
    }
    await pointViews(ctx, req.group, served, 'flip');
    const row: HistoryRow = {
      group_name: req.group,
      seq,
      version: req.version ?? tablesHash(entries),
      tables_json: JSON.stringify(Object.fromEntries(served)),
      run_id: req.runId ?? null,
      published_at: DateTime.utc().toISO(),
      rolled_back: false,
    };
    // The switch: one commit makes `seq` the live version of every view of the group.
    await ctx.client.run(p.insertHistory(row));
    await step(ctx, 'flip', 'recorded');
    return { state: toState(row), changed: true };
  });
}

export async function rollbackPublishGroup(ctx: TrinoPublishContext, group: string): Promise<FlipResult> {
  await ctx.publishReady();
  return ctx.locks.run(`publish:${group}`, async () => {
    const history = await readHistory(ctx, group);
    const live = history.filter((h) => !h.rolledBack);
    const current = live.at(-1);
    const previous = live.at(-2);
    if (!current || !previous) {
      throw new EngineError(
        ctx.dialect.name,
        `publish group ${group} has no earlier version to roll back to`,
      );
    }
    // Views of assets the previous version has (their columns may differ), still serving the current one.
    await pointViews(ctx, group, Object.entries(previous.tables), 'rollback');
    // The switch: one commit makes `previous` the live version again.
    await ctx.client.run(renderPublish(ctx.dialect).markRolledBack(group, current.seq));
    return { state: previous, changed: true };
  });
}

export async function publishHistory(ctx: TrinoPublishContext, group: string): Promise<PublishState[]> {
  await ctx.publishReady();
  return readHistory(ctx, group);
}

/** (Re)creates each asset's view over the group's live manifest: serves the same rows before and after. */
async function pointViews(
  ctx: TrinoContext,
  group: string,
  entries: readonly (readonly [string, string])[],
  operation: string,
): Promise<void> {
  const d = ctx.dialect;
  for (const [assetKey] of entries) {
    const store = storeRef(d, assetKey);
    const columns = (await describeRef(ctx, d, store))
      ?.map((c) => c.name)
      .filter((c) => c !== PK_COLUMN && c !== SLICE_COLUMN);
    if (!columns) throw new EngineError(d.name, `publish group ${group}: ${assetKey} has no published store`);
    const [kind] = await ctx.client.query<{ kind: string }>(d.relationKindSql(d.tableRef(assetKey)));
    if (kind?.kind === 'table') {
      throw new EngineError(
        d.name,
        `publish group ${group}: ${assetKey} is a table; a published asset is a view over its published store`,
      );
    }
    // The view follows the live version by itself: re-created only when its definition would change
    // (missing, the store gained a column, another group).
    const ref = d.tableRef(assetKey);
    const body = liveViewSelect(d, assetKey, columns, group);
    const [stored] = kind
      ? await ctx.client.query(
          `SELECT view_definition AS ${d.quote('sql')} FROM information_schema.views ` +
            `WHERE table_schema = ${d.literal(ref.schema)} AND table_name = ${d.literal(ref.name)}`,
        )
      : [];
    if (String(stored?.['sql'] ?? '').trim() !== body) {
      await ctx.client.run(d.createSchema(ref.schema));
      await ctx.client.run(`CREATE OR REPLACE VIEW ${d.table(ref)} AS ${body}`);
    }
    await step(ctx, operation, `view:${assetKey}`);
  }
}

/** The stable view's query: the store's rows the manifest of the group's live version lists. */
export function liveViewSelect(
  d: TrinoDialect,
  assetKey: string,
  columns: readonly string[],
  group: string,
): string {
  const q = (c: string): string => d.quote(c);
  const store = storeRef(d, assetKey);
  const live =
    `SELECT max(h.${q('seq')}) FROM ${d.table(HISTORY_TABLE)} AS h ` +
    `WHERE h.${q('group_name')} = ${d.literal(group)} AND NOT h.${q('rolled_back')}`;
  return (
    `SELECT ${columns.map((c) => `s.${q(c)}`).join(', ')} ` +
    `FROM ${d.table(store)} AS s INNER JOIN ${d.table(MANIFEST_TABLE)} AS m ` +
    `ON m.${q('partition_key')} = s.${q(PK_COLUMN)} AND m.${q('slice')} = s.${q(SLICE_COLUMN)} ` +
    `WHERE m.${q('group_name')} = ${d.literal(group)} AND m.${q('asset_key')} = ${d.literal(assetKey)} ` +
    `AND m.${q('seq')} = (${live})`
  );
}

async function readSlices(
  ctx: TrinoContext,
  d: TrinoDialect,
  assetKey: string,
  publication: string,
): Promise<SliceRow[]> {
  const rows = await ctx.client.query(renderPublish(d).selectSlices(assetKey, publication));
  return rows.map((r) => ({
    assetKey,
    publication,
    partitionKey: String(r['partition_key']),
    slice: String(r['slice']),
    rowCount: asNumber(r['row_count']),
    fingerprint: String(r['fingerprint']),
  }));
}

async function readHistory(ctx: TrinoContext, group: string): Promise<PublishState[]> {
  const rows = await ctx.client.query(renderPublish(ctx.dialect).selectHistory(group));
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
