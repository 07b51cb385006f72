import type { LogicalType, TypeFamily, TypeMapper } from '../dialect/type-mapper.js';
import { normalizeTypeName } from '../dialect/type-mapper.js';

/** Trino type spellings (information_schema.columns.data_type, upper-cased) → logical types. */

const SCALARS: Readonly<Record<string, readonly [TypeFamily, number]>> = {
  TINYINT: ['integer', 1],
  SMALLINT: ['integer', 2],
  INTEGER: ['integer', 4],
  BIGINT: ['integer', 8],
  REAL: ['float', 4],
  DOUBLE: ['float', 8],
  VARCHAR: ['string', 0],
  BOOLEAN: ['boolean', 0],
  DATE: ['date', 0],
  VARBINARY: ['binary', 0],
  UUID: ['uuid', 0],
  JSON: ['json', 0],
  // The type of a bare NULL in a select.
  UNKNOWN: ['null', 0],
};

export const trinoTypes: TypeMapper = {
  maxDecimalPrecision: 38,
  decimal: (precision, scale) => `DECIMAL(${precision},${scale})`,
  parse(rawType: string): LogicalType {
    const raw = normalizeTypeName(rawType);
    const scalar = SCALARS[raw.replace(/^(VARCHAR|CHAR)\(\d+\)$/, 'VARCHAR').replace(/^CHAR$/, 'VARCHAR')];
    if (scalar) return { family: scalar[0], raw, rank: scalar[1] };
    const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(raw);
    if (dec) return { family: 'decimal', raw, rank: 0, precision: Number(dec[1]), scale: Number(dec[2]) };
    if (/^TIMESTAMP(\(\d+\))? WITH TIME ZONE$/.test(raw)) return { family: 'timestamptz', raw, rank: 8 };
    if (/^TIMESTAMP(\(\d+\))?$/.test(raw)) return { family: 'timestamp', raw, rank: 8 };
    if (/^TIME(\(\d+\))?( WITH TIME ZONE)?$/.test(raw)) return { family: 'time', raw, rank: 0 };
    if (/^INTERVAL /.test(raw)) return { family: 'interval', raw, rank: 0 };
    if (/^(ARRAY|MAP|ROW)\(/.test(raw)) return { family: 'nested', raw, rank: 0 };
    return { family: 'other', raw, rank: 0 };
  },
};

/**
 * The type an Iceberg table stores for a Trino type. Iceberg has no TINYINT/SMALLINT/CHAR and keeps
 * times and timestamps in microseconds; Trino's CREATE TABLE AS converts by itself, but ADD COLUMN does
 * not, and schema evolution must compare what will be stored.
 */
export function icebergStorageType(rawType: string): string {
  const raw = normalizeTypeName(rawType);
  if (raw === 'TINYINT' || raw === 'SMALLINT') return 'INTEGER';
  if (/^CHAR(\(\d+\))?$/.test(raw) || /^VARCHAR\(\d+\)$/.test(raw)) return 'VARCHAR';
  if (/^TIMESTAMP(\(\d+\))? WITH TIME ZONE$/.test(raw)) return 'TIMESTAMP(6) WITH TIME ZONE';
  if (/^TIMESTAMP(\(\d+\))?$/.test(raw)) return 'TIMESTAMP(6)';
  if (/^TIME(\(\d+\))?$/.test(raw)) return 'TIME(6)';
  // A bare NULL column is stored as text, as on every engine (schema.ts).
  if (raw === 'UNKNOWN') return 'VARCHAR';
  return raw;
}
