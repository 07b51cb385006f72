import type { LogicalType, TypeFamily, TypeMapper } from '../dialect/type-mapper.js';
import { normalizeTypeName } from '../dialect/type-mapper.js';

/** DuckDB type spellings (as information_schema / DESCRIBE print them) → logical types. */

/** Scalar spellings: family, rank (bytes for numbers), signedness. One row per name. */
const SCALARS: Readonly<Record<string, readonly [TypeFamily, number, boolean?]>> = {
  TINYINT: ['integer', 1],
  SMALLINT: ['integer', 2],
  INTEGER: ['integer', 4],
  BIGINT: ['integer', 8],
  HUGEINT: ['integer', 16],
  UTINYINT: ['integer', 1, true],
  USMALLINT: ['integer', 2, true],
  UINTEGER: ['integer', 4, true],
  UBIGINT: ['integer', 8, true],
  UHUGEINT: ['integer', 16, true],
  FLOAT: ['float', 4],
  DOUBLE: ['float', 8],
  VARCHAR: ['string', 0],
  BOOLEAN: ['boolean', 0],
  DATE: ['date', 0],
  TIMESTAMP: ['timestamp', 8],
  TIMESTAMP_S: ['timestamp', 8],
  TIMESTAMP_MS: ['timestamp', 8],
  TIMESTAMP_NS: ['timestamp', 8],
  'TIMESTAMP WITH TIME ZONE': ['timestamptz', 8],
  TIME: ['time', 0],
  'TIME WITH TIME ZONE': ['time', 0],
  INTERVAL: ['interval', 0],
  BLOB: ['binary', 0],
  BIT: ['binary', 0],
  UUID: ['uuid', 0],
  JSON: ['json', 0],
  '"NULL"': ['null', 0],
  NULL: ['null', 0],
};

export const duckdbTypes: TypeMapper = {
  maxDecimalPrecision: 38,
  decimal: (precision, scale) => `DECIMAL(${precision},${scale})`,
  parse(rawType: string): LogicalType {
    const raw = normalizeTypeName(rawType);
    const scalar = SCALARS[raw.replace(/^VARCHAR\(\d+\)$/, 'VARCHAR')];
    if (scalar) {
      const [family, rank, unsigned] = scalar;
      return unsigned ? { family, raw, rank, unsigned } : { family, raw, rank };
    }
    const dec = /^(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)$/.exec(raw);
    if (dec) return { family: 'decimal', raw, rank: 0, precision: Number(dec[1]), scale: Number(dec[2]) };
    if (/\[\d*\]$/.test(raw) || /^(STRUCT|MAP|UNION)\(/.test(raw)) return { family: 'nested', raw, rank: 0 };
    return { family: 'other', raw, rank: 0 };
  },
};
