import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { EngineError } from '../errors.js';
import { renderPublish, versionedTableRef, type HistoryRow } from '../dialect/publish.js';
import { renderReplace } from '../dialect/replace.js';
import type { FlipRequest, FlipResult, PublishState, VersionedTableRequest, WriteResult } from '../types.js';
import type { SqlSession } from './client.js';
import { asNumber, describe, step, type EngineContext } from './context.js';
import { ensureMeta } from './meta.js';

/**
 * Versioned tables and publish groups. A flip re-points every view of the group and appends to the
 * history in one transaction; a rollback marks the current entry rolled back and re-points to the
 * newest entry before it. Physical tables of earlier versions are kept.
 */

export async function createVersionedTable(
  ctx: EngineContext,
  req: VersionedTableRequest,
): Promise<WriteResult> {
  const d = ctx.dialect;
  const ref = versionedTableRef(d, req.assetKey, req.version);
  const p = renderPublish(d);
  return ctx.locks.run(d.table(ref), () =>
    ctx.client.transaction(async (tx) => {
      await tx.run(d.createSchema(ref.schema));
      await tx.run(p.createVersioned(ref, req.selectSql));
      const [fp] = await tx.query(renderReplace(d, ref, null).fingerprint());
      return {
        table: `${ref.schema}.${ref.name}`,
        rowCount: asNumber(fp?.['rows']),
        dataVersion: String(fp?.['version'] ?? ''),
        schemaChanges: [],
      };
    }),
  );
}

export async function flipPublishGroup(ctx: EngineContext, req: FlipRequest): Promise<FlipResult> {
  const entries = Object.entries(req.tables).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0)
    throw new EngineError(ctx.dialect.name, `publish group ${req.group}: no tables to flip`);
  return withGroup(ctx, req.group, async (tx, history) => {
    const current = currentState(history);
    if (current && sameTables(current.tables, req.tables)) return { state: current, changed: false };
    await pointViews(ctx, tx, req.group, entries, 'flip');
    const row: HistoryRow = {
      group_name: req.group,
      seq: (history.at(-1)?.seq ?? 0) + 1,
      version: req.version ?? tablesHash(entries),
      tables_json: JSON.stringify(Object.fromEntries(entries)),
      run_id: req.runId ?? null,
      published_at: DateTime.utc().toISO(),
      rolled_back: false,
    };
    await tx.run(renderPublish(ctx.dialect).insertHistory(row));
    await step(ctx, 'flip', 'recorded');
    return { state: toState(row), changed: true };
  });
}

export async function rollbackPublishGroup(ctx: EngineContext, group: string): Promise<FlipResult> {
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
    await pointViews(ctx, tx, group, Object.entries(previous.tables), 'rollback');
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

async function pointViews(
  ctx: EngineContext,
  tx: SqlSession,
  group: string,
  entries: readonly (readonly [string, string])[],
  operation: string,
): Promise<void> {
  const d = ctx.dialect;
  const p = renderPublish(d);
  for (const [assetKey, physical] of entries) {
    if (!(await describe(tx, d, d.tableRef(physical)))) {
      throw new EngineError(d.name, `publish group ${group}: ${physical} (for ${assetKey}) does not exist`);
    }
    const [kind] = await tx.query<{ kind: string }>(d.relationKindSql(d.tableRef(assetKey)));
    if (kind?.kind === 'table') {
      throw new EngineError(
        d.name,
        `publish group ${group}: ${assetKey} is a table; a published asset is a view over versioned tables`,
      );
    }
    await tx.run(d.createSchema(d.tableRef(assetKey).schema));
    await tx.run(p.pointView(assetKey, physical));
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

function toState(row: HistoryRow): PublishState {
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

function currentState(history: readonly PublishState[]): PublishState | undefined {
  return history.filter((h) => !h.rolledBack).at(-1);
}

function sameTables(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

function tablesHash(entries: readonly (readonly [string, string])[]): string {
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
}
