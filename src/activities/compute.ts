/**
 * Runs an asset's compute function (see src/dsl/compute.ts) for one partition and renders its rows as one
 * SELECT, so the materialize activity writes them with the engine's replace-partition primitive like any SQL
 * asset (atomic, `_partition_key` added there). The function reads through a read-only `query`: one statement,
 * a query (lexical check shared with `tessera query`), run as a subquery where only a query can stand.
 */
import { z } from 'zod';
import {
  COMPUTE_COLUMN_TYPES,
  type AssetDefinition,
  type ComputeColumnType,
  type ComputeContext,
  type ComputeResult,
  type ComputeValue,
} from '../dsl/index.js';
import type { Engine, SqlDialect } from '../engines/index.js';
import { singleQuery } from './query.js';
import type { PartitionFacts } from './step-context.js';
import { PARTITION_COLUMN } from './tables.js';

const columnName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'lower_snake_case column name')
  .refine((n) => n !== PARTITION_COLUMN, `${PARTITION_COLUMN} is added by Tessera`);
const resultSchema = z.object({
  columns: z
    .array(z.object({ name: columnName, type: z.enum(COMPUTE_COLUMN_TYPES) }).strict())
    .min(1)
    .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'column names must be unique'),
  rows: z.array(
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.undefined()])),
  ),
});

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]00:?00)$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Engine type of a declared column type: the dialect's portable type names (portable.ts). */
function sqlType(dialect: SqlDialect, t: ComputeColumnType): string {
  const types = dialect.portable.types;
  switch (t) {
    case 'string':
      return types.text;
    case 'integer':
      return types.bigint;
    case 'double':
      return types.double;
    case 'boolean':
      return types.boolean;
    case 'timestamp':
      return types.timestamp;
    case 'date':
      return types.date;
  }
}

/** A value as a typed SQL literal; throws naming the column when it does not fit the declared type. */
function valueSql(dialect: SqlDialect, column: string, t: ComputeColumnType, v: ComputeValue): string {
  const bad = (): never => {
    throw new Error(`compute: column ${column} is ${t}, got ${JSON.stringify(v)}`);
  };
  if (v === null) return `CAST(NULL AS ${sqlType(dialect, t)})`;
  switch (t) {
    case 'string':
      return typeof v === 'string' ? dialect.literal(v) : bad();
    case 'integer':
      return typeof v === 'number' && Number.isSafeInteger(v)
        ? `CAST(${v} AS ${sqlType(dialect, t)})`
        : bad();
    case 'double':
      return typeof v === 'number' && Number.isFinite(v)
        ? `CAST(${dialect.literal(v)} AS ${sqlType(dialect, t)})`
        : bad();
    case 'boolean':
      return typeof v === 'boolean' ? dialect.literal(v) : bad();
    case 'timestamp':
      return typeof v === 'string' && ISO_INSTANT.test(v) ? dialect.timestampLiteral(v) : bad();
    case 'date':
      return typeof v === 'string' && ISO_DATE.test(v)
        ? `CAST(${dialect.literal(v)} AS ${sqlType(dialect, t)})`
        : bad();
  }
}

/** The rows as one SELECT with the declared column types (also when there are no rows). */
export function computeResultSql(dialect: SqlDialect, result: ComputeResult): string {
  const r = resultSchema.parse(result);
  const known = new Set(r.columns.map((c) => c.name));
  const rowSelects = r.rows.map((row, i) => {
    const unknown = Object.keys(row).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Error(`compute: row ${i} has undeclared columns ${unknown.join(', ')}`);
    return `SELECT ${r.columns.map((c) => `${valueSql(dialect, c.name, c.type, row[c.name] ?? null)} AS ${dialect.quote(c.name)}`).join(', ')}`;
  });
  if (rowSelects.length === 0) {
    const nulls = r.columns.map(
      (c) => `CAST(NULL AS ${sqlType(dialect, c.type)}) AS ${dialect.quote(c.name)}`,
    );
    return `SELECT ${nulls.join(', ')} FROM (SELECT 1 AS one) AS empty WHERE 1 = 0`;
  }
  return rowSelects.join('\nUNION ALL\n');
}

/** Calls the asset's compute function for the partition and returns the SELECT of its rows. */
export async function runCompute(
  asset: AssetDefinition,
  facts: PartitionFacts,
  engine: Engine,
  dialect: SqlDialect,
): Promise<string> {
  const fn = asset.compute;
  if (!fn) throw new Error(`asset ${asset.key} has no compute function`);
  const ctx: ComputeContext = {
    assetKey: asset.key,
    partitionKey: facts.partitionKey,
    ...(facts.window ? { window: facts.window } : {}),
    ...(facts.dimensions ? { dimensions: facts.dimensions } : {}),
    query: (sql) => engine.query(`SELECT * FROM (\n${singleQuery(sql)}\n) AS tessera_compute`),
  };
  return computeResultSql(dialect, await fn(ctx));
}
