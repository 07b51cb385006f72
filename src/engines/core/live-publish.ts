import { DateTime } from 'luxon';
import type { SqlDialect, TableRef } from '../dialect/dialect.js';
import { HISTORY_TABLE } from '../dialect/meta.js';
import {
  MANIFEST_TABLE,
  PK_COLUMN,
  SLICE_COLUMN,
  renderPublish,
  storeRef,
  type HistoryRow,
} from '../dialect/publish.js';
import { EngineError } from '../errors.js';
import type {
  ColumnInfo,
  FlipRequest,
  FlipResult,
  PublishState,
  SchemaChange,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import type { SqlSession } from './client.js';
import { asNumber, describe, type EngineHooks } from './context.js';
import type { KeyedLock } from './keyed-lock.js';
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
 * Publishing for engines without transactional DDL (Trino and Spark over Iceberg, BigQuery): the layout of
 * dialect/publish.ts (per-asset stores, publish_slices, publish_manifest, publish_history), but the views
 * never name a group version. Each view serves the manifest of the group's LIVE version, the greatest `seq`
 * of its history rows not rolled back, so the views never need to be replaced together:
 *
 * - a flip writes the new manifest first (invisible: no history row names its seq yet), carrying over the
 *   members it does not name (their views follow the live version, so without it they would serve nothing),
 *   (re)creates only the views that are missing or whose definition would change (they still serve the live
 *   version, so the same rows before and after), then appends the history row: that one INSERT switches
 *   every view of the group at once;
 * - a rollback is one UPDATE of the history (the current version marked rolled back).
 *
 * A flip that dies before its history row leaves a manifest no history row names: the next flip takes a seq
 * past it. What one query reading several views sees depends on the engine's snapshot per query; each
 * engine's documentation says (docs/engines.md).
 *
 * `createVersionedTable` here is for engines whose statements each commit on their own (Iceberg): the
 * publication's slices commit last, so a retry finds a complete publication or none; rows appended by an
 * attempt that died before its slices are deleted before appending again. An engine with DML transactions
 * (BigQuery) keeps publish-ops.ts's transactional one.
 */

export interface LivePublishContext {
  readonly dialect: SqlDialect;
  /** Runs statements outside any transaction (each commits on its own). */
  readonly client: SqlSession;
  readonly hooks: EngineHooks;
  readonly locks: KeyedLock;
  /** The bookkeeping tables exist (history, slices, manifest). */
  readonly ready: () => Promise<void>;
  /**
   * The stored definition of an existing view, when the engine can read it back as written: the view is then
   * re-created when its definition differs (another group, new columns). Without it, when its columns differ.
   */
  readonly viewDefinition?: (ref: TableRef) => Promise<string | undefined>;
}

/** One publication's scratch space: its own staging names/session, and how the engine evolves a table. */
export interface PublishOperation {
  /** The dialect rendering this operation's statements (its staging names may be its own). */
  readonly dialect: SqlDialect;
  readonly session: SqlSession;
  /** A staged relation's columns, with the types the store keeps them as. */
  describeStaged(name: string): Promise<ColumnInfo[]>;
  /** Evolves `table` (existing columns) to fit `staged`: additive DDL, each statement its own commit. */
  evolve(
    table: string,
    existing: readonly ColumnInfo[],
    staged: readonly ColumnInfo[],
  ): Promise<SchemaChange[]>;
  /**
   * The fingerprint's expressions over `__tessera_row` (default: the whole row), so a partition fingerprints
   * as the engine's replacePartition fingerprints the same rows.
   */
  hashed?(staged: readonly ColumnInfo[]): string[];
  /** Drops the staged relations / ends the session (failures ignored: scratch only). */
  close(): Promise<void>;
}

export { PUBLISH_STAGE } from './publish-common.js';

export async function createVersionedTable(
  ctx: LivePublishContext,
  open: () => PublishOperation,
  req: VersionedTableRequest,
): Promise<VersionedTableResult> {
  const base = ctx.dialect;
  const target = publicationTarget(base, req);
  const { version, store, column } = target;
  await ctx.ready();
  return ctx.locks.run(base.table(store), async () => {
    const op = open();
    const d = op.dialect;
    const tx = op.session;
    const p = renderPublish(d);
    const q = (c: string): string => d.quote(c);
    const stage = d.tempTable(PUBLISH_STAGE);
    try {
      // A retried publication finds its own slices: they commit last, so it is complete.
      const done = await readSlices(tx, d, req.assetKey, version);
      if (done.length > 0) return resultOf(req.assetKey, version, done);
      let staged: ColumnInfo[] = [];
      const { slices, fresh } = await stageSlices(tx, d, req, target, async () => {
        staged = await op.describeStaged(PUBLISH_STAGE);
        const hashed = op.hashed?.(staged) ?? ['__tessera_row'];
        return (key) => {
          const where =
            column === null ? 'TRUE' : `CAST(${q(column)} AS ${d.spell.textType}) = ${d.literal(key)}`;
          return (
            `SELECT count(*) AS ${q('rows')}, ${d.fingerprint(hashed)} AS ${q('version')} ` +
            `FROM ${stage} AS __tessera_row WHERE ${where}`
          );
        };
      });
      if (fresh.length > 0) {
        const existing = await describe(tx, d, store);
        if (!existing) {
          await tx.run(p.createStore(store, stage));
        } else {
          const own = existing.filter((c) => c.name !== PK_COLUMN && c.name !== SLICE_COLUMN);
          await op.evolve(`${store.schema}.${store.name}`, own, staged);
          // Rows of an attempt that died before its slices committed: nothing references them.
          const mine = `${q(SLICE_COLUMN)} = ${d.literal(version)}`;
          const [left] = await tx.query(`SELECT count(*) AS ${q('n')} FROM ${d.table(store)} WHERE ${mine}`);
          if (asNumber(left?.['n']) > 0) await tx.run(`DELETE FROM ${d.table(store)} WHERE ${mine}`);
        }
        const names = staged.map((c) => c.name);
        await tx.run(p.appendToStore(store, stage, names, column, fresh, version));
      }
      await ctx.hooks.afterStep?.('publish', 'appended');
      await tx.run(p.insertSlices(slices));
      return resultOf(req.assetKey, version, slices);
    } finally {
      await op.close();
    }
  });
}

export async function flipPublishGroup(ctx: LivePublishContext, req: FlipRequest): Promise<FlipResult> {
  const d = ctx.dialect;
  const entries = Object.entries(req.tables).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) throw new EngineError(d.name, `publish group ${req.group}: no tables to flip`);
  await ctx.ready();
  return ctx.locks.run(`publish:${req.group}`, async () => {
    const history = await readHistory(ctx.client, d, req.group);
    const current = currentState(history);
    const plan = await planFlip(ctx.client, d, req.group, req.tables, current);
    if (current && !plan.changed) return { state: current, changed: false };

    // Past the manifests of flips that died before their history row (invisible leftovers): a fresh seq.
    const q = (c: string): string => d.quote(c);
    const [top] = await ctx.client.query(
      `SELECT max(${q('seq')}) AS ${q('seq')} FROM ${d.table(MANIFEST_TABLE)} ` +
        `WHERE ${q('group_name')} = ${d.literal(req.group)}`,
    );
    const seq = Math.max(history.at(-1)?.seq ?? 0, asNumber(top?.['seq'])) + 1;
    await writeManifest(ctx.client, d, req.group, plan, current, seq);
    await pointViews(ctx, req.group, plan.served, 'flip');
    const row: HistoryRow = {
      group_name: req.group,
      seq,
      version: req.version ?? tablesHash(entries),
      tables_json: JSON.stringify(Object.fromEntries(plan.served)),
      run_id: req.runId ?? null,
      published_at: DateTime.utc().toISO(),
      rolled_back: false,
    };
    // The switch: one statement makes `seq` the live version of every view of the group.
    await ctx.client.run(renderPublish(d).insertHistory(row));
    await ctx.hooks.afterStep?.('flip', 'recorded');
    return { state: toState(row), changed: true };
  });
}

export async function rollbackPublishGroup(ctx: LivePublishContext, group: string): Promise<FlipResult> {
  await ctx.ready();
  return ctx.locks.run(`publish:${group}`, async () => {
    const live = (await readHistory(ctx.client, ctx.dialect, group)).filter((h) => !h.rolledBack);
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

export async function publishHistory(ctx: LivePublishContext, group: string): Promise<PublishState[]> {
  await ctx.ready();
  return readHistory(ctx.client, ctx.dialect, group);
}

/**
 * Creates each asset's view over the group's live manifest where it is missing or would change: a view
 * re-created here serves the same rows before and after (the live version did not move).
 */
async function pointViews(
  ctx: LivePublishContext,
  group: string,
  entries: readonly (readonly [string, string])[],
  operation: string,
): Promise<void> {
  const d = ctx.dialect;
  for (const [assetKey] of entries) {
    const { columns, exists } = await viewTarget(ctx.client, d, group, assetKey);
    const ref = d.tableRef(assetKey);
    const body = liveViewSelect(d, assetKey, columns, group);
    if (!exists || !(await viewIsCurrent(ctx, ref, body, columns))) {
      await ctx.client.run(d.createSchema(ref.schema));
      await ctx.client.run(`CREATE OR REPLACE VIEW ${d.table(ref)} AS ${body}`);
    }
    await ctx.hooks.afterStep?.(operation, `view:${assetKey}`);
  }
}

async function viewIsCurrent(
  ctx: LivePublishContext,
  ref: TableRef,
  body: string,
  columns: readonly string[],
): Promise<boolean> {
  if (ctx.viewDefinition) return (await ctx.viewDefinition(ref))?.trim() === body;
  const viewColumns = (await describe(ctx.client, ctx.dialect, ref))?.map((c) => c.name);
  return viewColumns?.join('\u0000') === columns.join('\u0000');
}

/** The stable view's query: the store's rows that the manifest of the group's live version lists. */
export function liveViewSelect(
  d: SqlDialect,
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
