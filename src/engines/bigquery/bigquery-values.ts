import { isoFromMicros } from '../duckdb/duckdb-values.js';
import type { JsonValue, Row } from '../types.js';

/**
 * BigQuery's raw REST rows (`{ f: [{ v }] }`, every scalar as text) → the JSON-safe values of the engine
 * boundary, as DuckDB returns them (docs/engines.md "Values crossing the boundary"):
 * - INT64: numbers when they fit 2^53, else decimal strings; FLOAT64 and NUMERIC/BIGNUMERIC: numbers;
 * - TIMESTAMP: ISO-8601 UTC `…ss.SSSZ`, `…ss.SSSSSSZ` with sub-millisecond digits (read as epoch micros:
 *   the client asks for `formatOptions.useInt64Timestamp`); DATETIME is read as UTC the same way;
 * - DATE, TIME, STRING, BYTES (base64), JSON: the text; STRUCT: objects; ARRAY: arrays.
 */

export interface FieldSchema {
  readonly name?: string | null;
  readonly type?: string | null;
  readonly mode?: string | null;
  readonly fields?: readonly FieldSchema[] | null;
}

interface Cell {
  readonly v?: unknown;
}

export function rowsFromRaw(fields: readonly FieldSchema[], raw: readonly unknown[]): Row[] {
  return raw.map((r) => recordOf(fields, r));
}

function recordOf(fields: readonly FieldSchema[], raw: unknown): Row {
  const cells = ((raw as { f?: readonly Cell[] } | null)?.f ?? []) as readonly Cell[];
  const out: Row = {};
  fields.forEach((field, i) => {
    out[field.name ?? `f${i}`] = valueOf(field, cells[i]?.v);
  });
  return out;
}

function valueOf(field: FieldSchema, v: unknown): JsonValue {
  if (v === null || v === undefined) return field.mode === 'REPEATED' ? [] : null;
  if (field.mode === 'REPEATED') {
    const items = Array.isArray(v) ? (v as readonly Cell[]) : [];
    return items.map((item) => valueOf({ ...field, mode: 'NULLABLE' }, item.v));
  }
  const type = (field.type ?? 'STRING').toUpperCase();
  switch (type) {
    case 'RECORD':
    case 'STRUCT':
      return recordOf(field.fields ?? [], v);
    case 'INTEGER':
    case 'INT64':
      return integer(String(v));
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return Number(v);
    case 'BOOLEAN':
    case 'BOOL':
      return v === true || v === 'true';
    case 'TIMESTAMP':
      return timestamp(String(v));
    case 'DATETIME':
      return datetime(String(v));
    default:
      return typeof v === 'string' ? v : JSON.stringify(v);
  }
}

function integer(text: string): number | string {
  const big = BigInt(text);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(big)
    : text;
}

/** Epoch microseconds (useInt64Timestamp), or float seconds when a server ignores that option. */
function timestamp(text: string): string {
  if (/^-?\d+$/.test(text)) return isoFromMicros(BigInt(text));
  if (/^-?\d+(\.\d+)?(E[+-]?\d+)?$/i.test(text)) return isoFromMicros(BigInt(Math.round(Number(text) * 1e6)));
  return datetime(text);
}

/** `YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|+00:00]` read as UTC. */
function datetime(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:Z|[+-]00(?::?00)?| UTC)?$/.exec(
    text,
  );
  if (!m) return text;
  const frac = (m[3] ?? '').padEnd(6, '0');
  const ms = frac.slice(0, 3);
  const us = frac.slice(3);
  return `${m[1]}T${m[2]}.${ms}${us === '000' ? '' : us}Z`;
}
