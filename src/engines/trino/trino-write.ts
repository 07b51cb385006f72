import { asNumber } from '../core/context.js';
import type { TableRef } from '../dialect/dialect.js';
import { renderReplace, STAGE_TABLE } from '../dialect/replace.js';
import { planSchemaEvolution } from '../dialect/schema.js';
import { PartitionMismatchError, SchemaEvolutionError } from '../errors.js';
import type { ColumnInfo, SchemaChange, WriteResult } from '../types.js';
import {
  describeRef,
  describeStaged,
  dropStaged,
  operationDialect,
  step,
  type TrinoContext,
} from './trino-context.js';
import type { TrinoDialect } from './trino-dialect.js';

/**
 * Partition and table replaces on Iceberg. Trino commits each statement on its own (no multi-statement
 * transactions on Iceberg), so the replace is ONE statement, one Iceberg snapshot: a MERGE whose source
 * is the staged rows plus one marker row; the marker matches every target row of the partition (deleted),
 * the staged rows match nothing (inserted). A reader sees the old partition or the new one, never a
 * partition half deleted or half inserted.
 *
 * Before that commit: the select is staged (a failing select changes nothing), rows outside the
 * partition are refused, and the schema is evolved (ADD COLUMN / SET DATA TYPE: their own commits,
 * additive, so readers only see a new NULL column or a wider type early).
 */

export async function replaceRows(
  ctx: TrinoContext,
  operation: string,
  table: string,
  selectSql: string,
  partition: { readonly predicate: (alias?: string) => string; readonly label: string } | null,
): Promise<WriteResult> {
  const base = ctx.dialect;
  const ref = base.tableRef(table);
  await ctx.ready();
  return ctx.locks.run(base.table(ref), async () => {
    const d = operationDialect(ctx);
    const r = renderReplace(d, ref, partition ? partition.predicate() : null);
    try {
      await createdHereOrElsewhere(ctx.client.run(d.createSchema(ref.schema)));
      await ctx.client.run(r.stage(selectSql));
      await step(ctx, operation, 'staged');
      const outsideSql = r.countOutside();
      if (outsideSql && partition) {
        const [row] = await ctx.client.query(outsideSql);
        const outside = asNumber(row?.['n']);
        if (outside > 0) throw new PartitionMismatchError(d.name, table, partition.label, outside);
      }
      let existing = await describeRef(ctx, d, ref);
      let changes: SchemaChange[] = [];
      let columnsAfter: ColumnInfo[] | undefined;
      // Another worker process may create the table between the describe and the CREATE: then merge into it.
      if (!existing && !(await createdHereOrElsewhere(ctx.client.run(r.createFromStage()))))
        existing = await describeRef(ctx, d, ref);
      if (existing) {
        const staged = await describeStaged(ctx, d, STAGE_TABLE);
        changes = await evolve(ctx, d, table, existing, staged);
        await step(ctx, operation, 'evolved');
        // Re-read only when the DDL changed the table (each describe is a round trip).
        const evolved = changes.some((c) => c.type !== 'keep_dropped');
        columnsAfter = evolved ? ((await describeRef(ctx, d, ref)) ?? existing) : existing;
        await ctx.client.run(
          mergeReplace(
            d,
            ref,
            d.tempTable(STAGE_TABLE),
            staged,
            columnsAfter,
            partition?.predicate('t') ?? null,
          ),
        );
      }
      await step(ctx, operation, 'inserted');
      const columns = columnsAfter ?? (await describeRef(ctx, d, ref)) ?? [];
      const [fp] = await ctx.client.query(fingerprintSql(d, ref, columns, partition?.predicate() ?? null));
      return {
        table: `${ref.schema}.${ref.name}`,
        rowCount: asNumber(fp?.['rows']),
        dataVersion: String(fp?.['version'] ?? ''),
        schemaChanges: changes,
      };
    } finally {
      await dropStaged(ctx, d, [STAGE_TABLE]);
    }
  });
}

/**
 * Workers in other processes write the same catalog: the in-process lock (ctx.locks) cannot order them, so a
 * CREATE can lose a race with the same CREATE elsewhere. Trino reports it as TABLE_ALREADY_EXISTS, or, when
 * both reach the JDBC catalog's insert, as its primary key's duplicate. True when this statement created it.
 */
async function createdHereOrElsewhere(statement: Promise<unknown>): Promise<boolean> {
  try {
    await statement;
    return true;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (
      /ALREADY_EXISTS|already exists|duplicate key value violates unique constraint "iceberg_/.test(message)
    )
      return false;
    throw e;
  }
}

/** Adds/widens columns of `table` so the staged columns fit; returns what changed (schema.ts rules). */
export async function evolve(
  ctx: TrinoContext,
  d: TrinoDialect,
  table: string,
  existing: readonly ColumnInfo[],
  staged: readonly ColumnInfo[],
): Promise<SchemaChange[]> {
  const plan = planSchemaEvolution(d, table, existing, staged);
  for (const change of plan.changes) {
    if (change.type !== 'widen_column') continue;
    const refused = icebergWideningRefusal(d, change.oldType, change.newType);
    if (refused) {
      throw new SchemaEvolutionError(d.name, table, change.column, change.oldType, change.newType, refused);
    }
  }
  for (const s of plan.statements) await ctx.client.run(s);
  return plan.changes;
}

/**
 * Iceberg's type promotions are fewer than schema.ts's widenings: INTEGER → BIGINT, REAL → DOUBLE, and
 * DECIMAL(P,S) → DECIMAL(P',S) with P' > P (same scale). Anything else is refused before any DDL runs.
 */
export function icebergWideningRefusal(d: TrinoDialect, from: string, to: string): string | undefined {
  const a = d.types.parse(from);
  const b = d.types.parse(to);
  if (a.family === 'integer' && b.family === 'integer' && a.rank === 4 && b.rank === 8) return undefined;
  if (a.family === 'float' && b.family === 'float' && a.rank === 4 && b.rank === 8) return undefined;
  if (a.family === 'decimal' && b.family === 'decimal' && a.scale === b.scale) return undefined;
  return `Iceberg can only widen INTEGER to BIGINT, REAL to DOUBLE and a DECIMAL's precision at the same scale`;
}

/**
 * The one-statement replace. `predicate` (on alias `t`) selects the rows replaced; null = all rows.
 * Staged values are cast to the target's column types (Iceberg stores fewer types than Trino has).
 */
export function mergeReplace(
  d: TrinoDialect,
  target: TableRef,
  stage: string,
  staged: readonly ColumnInfo[],
  targetColumns: readonly ColumnInfo[],
  predicate: string | null,
): string {
  const q = (c: string): string => d.quote(c);
  const types = new Map(targetColumns.map((c) => [c.name.toLowerCase(), c.type]));
  const cols = staged.map((c) => c.name);
  const marker = q('__tessera_del');
  const source =
    `SELECT ${cols.map((c) => `s.${q(c)}`).join(', ')}, FALSE AS ${marker} FROM ${stage} AS s ` +
    `UNION ALL SELECT ${cols.map(() => 'NULL').join(', ')}, TRUE`;
  const values = cols.map((c) => {
    const type = types.get(c.toLowerCase());
    return type ? `CAST(s.${q(c)} AS ${type})` : `s.${q(c)}`;
  });
  return (
    `MERGE INTO ${d.table(target)} AS t USING (${source}) AS s ` +
    `ON s.${marker}${predicate ? ` AND (${predicate})` : ''} ` +
    `WHEN MATCHED THEN DELETE ` +
    `WHEN NOT MATCHED AND NOT s.${marker} THEN INSERT (${cols.map(q).join(', ')}) VALUES (${values.join(', ')})`
  );
}

/** Row count and content fingerprint of the (partition of the) table, columns named (no whole-row hash). */
export function fingerprintSql(
  d: TrinoDialect,
  ref: TableRef,
  columns: readonly ColumnInfo[],
  predicate: string | null,
): string {
  return `SELECT count(*) AS ${d.quote('rows')}, ${d.rowsFingerprint(
    '__tessera_row',
    columns.map((c) => c.name),
  )} AS ${d.quote('version')} FROM ${d.table(ref)} AS __tessera_row${predicate ? ` WHERE ${predicate}` : ''}`;
}
