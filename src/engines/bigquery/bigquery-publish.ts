import { DateTime } from 'luxon';
import type { EngineHooks } from '../core/context.js';
import { tablesHash, toState } from '../core/publish-ops.js';
import { asNumber, describe } from '../core/context.js';
import type { SqlClient } from '../core/client.js';
import type { KeyedLock } from '../core/keyed-lock.js';
import { HISTORY_TABLE } from '../dialect/meta.js';
import {
  MANIFEST_TABLE,
  PK_COLUMN,
  SLICE_COLUMN,
  WHOLE,
  parsePublicationId,
  renderPublish,
  storeRef,
  type HistoryRow,
  type SliceRow,
} from '../dialect/publish.js';
import { EngineError } from '../errors.js';
import type { FlipRequest, FlipResult, PublishState } from '../types.js';
import type { BigQueryDialect } from './bigquery-dialect.js';

/**
 * Publish-group flips and rollbacks on BigQuery, which cannot replace several views in one transaction (its
 * transactions take DML only). As on Trino (trino/trino-publish.ts), the views never name a group version:
 * each serves the manifest of the group's LIVE version, the greatest `seq` of its history rows not rolled
 * back. A flip writes the new manifest first (invisible: no history row names its seq yet), carrying over
 * the members it does not name, (re)creates only the views that are missing or whose columns changed (they
 * still serve the live version), then appends the history row: that one INSERT switches every view of the
 * group at once. A rollback is one UPDATE of the history. A query reading several views of a group reads one
 * snapshot of the history table (BigQuery queries are snapshot-isolated), so the views agree.
 *
 * Publications (createVersionedTable) and history reads are SqlEngine's own (core/publish-ops.ts).
 */

export interface BigQueryPublishContext {
  readonly dialect: BigQueryDialect;
  readonly client: SqlClient;
  readonly hooks: EngineHooks;
  readonly locks: KeyedLock;
  /** The bookkeeping tables exist (history, slices, manifest). */
  readonly ready: () => Promise<void>;
  /** The group's history, oldest first. */
  readonly history: (group: string) => Promise<PublishState[]>;
}

export async function flipPublishGroup(ctx: BigQueryPublishContext, req: FlipRequest): Promise<FlipResult> {
  const d = ctx.dialect;
  const entries = Object.entries(req.tables).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) throw new EngineError(d.name, `publish group ${req.group}: no tables to flip`);
  await ctx.ready();
  return ctx.locks.run(`publish:${req.group}`, async () => {
    const p = renderPublish(d);
    const history = await ctx.history(req.group);
    const current = history.filter((h) => !h.rolledBack).at(-1);
    const next: { assetKey: string; slices: SliceRow[]; carry: boolean }[] = [];
    let changed = !current;
    for (const [assetKey, id] of entries) {
      const pub = parsePublicationId(d.name, id);
      if (pub.assetKey !== assetKey)
        throw new EngineError(
          d.name,
          `publish group ${req.group}: ${id} is not a publication of ${assetKey}`,
        );
      const slices = await readSlices(ctx, assetKey, pub.version);
      if (slices.length === 0)
        throw new EngineError(d.name, `publish group ${req.group}: ${id} (for ${assetKey}) does not exist`);
      // A publication of an unpartitioned asset replaces all of it; a partitioned one the keys it lists.
      const carry = !(slices.length === 1 && slices[0]?.partitionKey === WHOLE);
      const served = current?.tables[assetKey] !== undefined ? current.seq : undefined;
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
    // Members this flip does not name keep serving what they served: their manifest is carried into the new
    // version (their views follow the live version, so without it they would serve nothing).
    const kept = Object.entries(current?.tables ?? {}).filter(([k]) => req.tables[k] === undefined);
    for (const [assetKey] of kept) next.push({ assetKey, slices: [], carry: true });
    const served = [...entries, ...kept].sort(([a], [b]) => a.localeCompare(b));

    // Past the manifests of flips that died before their history row (invisible leftovers): a fresh seq.
    const q = (c: string): string => d.quote(c);
    const [top] = await ctx.client.query(
      `SELECT max(${q('seq')}) AS ${q('seq')} FROM ${d.table(MANIFEST_TABLE)} ` +
        `WHERE ${q('group_name')} = ${d.literal(req.group)}`,
    );
    const seq = Math.max(history.at(-1)?.seq ?? 0, asNumber(top?.['seq'])) + 1;
    for (const n of next) {
      if (n.carry && current) {
        const replaced = n.slices.map((s) => s.partitionKey);
        await ctx.client.run(p.carryManifest(req.group, current.seq, seq, n.assetKey, replaced));
      }
      if (n.slices.length === 0) continue;
      const pairs = n.slices.map((s) => [s.partitionKey, s.slice] as const);
      await ctx.client.run(p.insertManifest(req.group, seq, n.assetKey, pairs));
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
    // The switch: one statement makes `seq` the live version of every view of the group.
    await ctx.client.run(p.insertHistory(row));
    await ctx.hooks.afterStep?.('flip', 'recorded');
    return { state: toState(row), changed: true };
  });
}

export async function rollbackPublishGroup(ctx: BigQueryPublishContext, group: string): Promise<FlipResult> {
  await ctx.ready();
  return ctx.locks.run(`publish:${group}`, async () => {
    const live = (await ctx.history(group)).filter((h) => !h.rolledBack);
    const current = live.at(-1);
    const previous = live.at(-2);
    if (!current || !previous) {
      throw new EngineError(
        ctx.dialect.name,
        `publish group ${group} has no earlier version to roll back to`,
      );
    }
    // Views of the assets the previous version has (their columns may differ), still serving the current one.
    await pointViews(ctx, group, Object.entries(previous.tables), 'rollback');
    // The switch: one statement makes `previous` the live version again.
    await ctx.client.run(renderPublish(ctx.dialect).markRolledBack(group, current.seq));
    return { state: previous, changed: true };
  });
}

/**
 * Creates each asset's view over the group's live manifest where it is missing or its columns differ from
 * the store's: a view re-created here serves the same rows before and after (the live version did not move).
 */
async function pointViews(
  ctx: BigQueryPublishContext,
  group: string,
  entries: readonly (readonly [string, string])[],
  operation: string,
): Promise<void> {
  const d = ctx.dialect;
  for (const [assetKey] of entries) {
    const store = storeRef(d, assetKey);
    const columns = (await describe(ctx.client, d, store))
      ?.map((c) => c.name)
      .filter((c) => c !== PK_COLUMN && c !== SLICE_COLUMN);
    if (!columns) throw new EngineError(d.name, `publish group ${group}: ${assetKey} has no published store`);
    const ref = d.tableRef(assetKey);
    const [kind] = await ctx.client.query<{ kind: string }>(d.relationKindSql(ref));
    if (kind?.kind === 'table') {
      throw new EngineError(
        d.name,
        `publish group ${group}: ${assetKey} is a table; a published asset is a view over its published store`,
      );
    }
    const viewColumns = kind ? (await describe(ctx.client, d, ref))?.map((c) => c.name) : undefined;
    if (viewColumns?.join('\u0000') !== columns.join('\u0000')) {
      await ctx.client.run(d.createSchema(ref.schema));
      await ctx.client.run(
        `CREATE OR REPLACE VIEW ${d.table(ref)} AS ${liveViewSelect(d, assetKey, columns, group)}`,
      );
    }
    await ctx.hooks.afterStep?.(operation, `view:${assetKey}`);
  }
}

/** The stable view's query: the store's rows that the manifest of the group's live version lists. */
export function liveViewSelect(
  d: BigQueryDialect,
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
  ctx: BigQueryPublishContext,
  assetKey: string,
  publication: string,
): Promise<SliceRow[]> {
  const rows = await ctx.client.query(renderPublish(ctx.dialect).selectSlices(assetKey, publication));
  return rows.map((r) => ({
    assetKey,
    publication,
    partitionKey: String(r['partition_key']),
    slice: String(r['slice']),
    rowCount: asNumber(r['row_count']),
    fingerprint: String(r['fingerprint']),
  }));
}
