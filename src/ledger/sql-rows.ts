/** Row → record mapping for the SQL stores (rows are `unknown` to us until zod has parsed them). */
import { z } from 'zod';
import type { SqlRow } from './sql-schema.js';
import type {
  BackfillRecord,
  CheckResultRecord,
  MaterializationRecord,
  PublicationRecord,
  WatermarkRecord,
} from './types.js';

// ---- row mapping (zod: rows are `unknown` from the driver; PostgreSQL returns BIGINT as strings) ----

const num = z.coerce.number();
const bool = z.union([z.boolean(), z.number()]).transform((v) => v === true || v === 1);
const optText = z
  .string()
  .nullable()
  .transform((v) => v ?? undefined);
const stringMap = z
  .union([z.string().transform((s): unknown => JSON.parse(s)), z.record(z.string(), z.unknown())])
  .pipe(z.record(z.string(), z.string()));

const materializationRow = z.object({
  asset_key: z.string(),
  partition_key: z.string(),
  run_id: z.string(),
  code_version: z.string(),
  input_data_versions: stringMap,
  data_version: z.string(),
  row_count: num,
  status: z.enum(['success', 'failed']),
  error: optText,
  started_at: z.string(),
  ended_at: z.string(),
});
const checkRow = z.object({
  asset_key: z.string(),
  partition_key: z.string(),
  run_id: z.string(),
  check_name: z.string(),
  blocking: bool,
  passed: bool,
  failing_rows: num,
  detail: optText,
  checked_at: z.string(),
});
const publicationRow = z.object({
  group_name: z.string(),
  version: z.string(),
  tables: stringMap,
  run_id: z.string(),
  published_at: z.string(),
});
const watermarkRow = z.object({ source: z.string(), watermark: z.string(), updated_at: z.string() });
const backfillRow = z.object({
  backfill_id: z.string(),
  selection: z.string(),
  from_key: z.string(),
  to_key: z.string(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  total: num,
  done: num,
  failed: num,
  created_at: z.string(),
  updated_at: z.string(),
});

export const toMaterialization = (row: SqlRow): MaterializationRecord => {
  const r = materializationRow.parse(row);
  return {
    assetKey: r.asset_key,
    partitionKey: r.partition_key,
    runId: r.run_id,
    codeVersion: r.code_version,
    inputDataVersions: r.input_data_versions,
    dataVersion: r.data_version,
    rowCount: r.row_count,
    status: r.status,
    ...(r.error !== undefined ? { error: r.error } : {}),
    startedAt: r.started_at,
    endedAt: r.ended_at,
  };
};
export const toCheck = (row: SqlRow): CheckResultRecord => {
  const r = checkRow.parse(row);
  return {
    assetKey: r.asset_key,
    partitionKey: r.partition_key,
    runId: r.run_id,
    checkName: r.check_name,
    blocking: r.blocking,
    passed: r.passed,
    failingRows: r.failing_rows,
    ...(r.detail !== undefined ? { detail: r.detail } : {}),
    checkedAt: r.checked_at,
  };
};
export const toPublication = (row: SqlRow): PublicationRecord => {
  const r = publicationRow.parse(row);
  return {
    group: r.group_name,
    version: r.version,
    tables: r.tables,
    runId: r.run_id,
    publishedAt: r.published_at,
  };
};
export const toWatermark = (row: SqlRow): WatermarkRecord => {
  const r = watermarkRow.parse(row);
  return { source: r.source, watermark: r.watermark, updatedAt: r.updated_at };
};
export const toBackfill = (row: SqlRow): BackfillRecord => {
  const r = backfillRow.parse(row);
  return {
    backfillId: r.backfill_id,
    selection: r.selection,
    from: r.from_key,
    to: r.to_key,
    status: r.status,
    total: r.total,
    done: r.done,
    failed: r.failed,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
};
