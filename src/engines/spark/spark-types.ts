import type { LogicalType, TypeFamily, TypeMapper } from '../dialect/type-mapper.js';
import { normalizeTypeName } from '../dialect/type-mapper.js';

/**
 * Spark SQL type spellings (as the SQL server's DESCRIBE TABLE prints them: Spark's simpleString, upper
 * case) → logical types. Spark's TIMESTAMP is an instant (Iceberg `timestamptz`); TIMESTAMP_NTZ is the
 * naive one (Iceberg `timestamp`). Iceberg stores CHAR/VARCHAR as STRING.
 */
const SCALARS: Readonly<Record<string, readonly [TypeFamily, number]>> = {
  TINYINT: ['integer', 1],
  BYTE: ['integer', 1],
  SMALLINT: ['integer', 2],
  SHORT: ['integer', 2],
  INT: ['integer', 4],
  INTEGER: ['integer', 4],
  BIGINT: ['integer', 8],
  LONG: ['integer', 8],
  FLOAT: ['float', 4],
  REAL: ['float', 4],
  DOUBLE: ['float', 8],
  STRING: ['string', 0],
  BOOLEAN: ['boolean', 0],
  DATE: ['date', 0],
  TIMESTAMP: ['timestamptz', 8],
  TIMESTAMP_LTZ: ['timestamptz', 8],
  TIMESTAMP_NTZ: ['timestamp', 8],
  BINARY: ['binary', 0],
  VOID: ['null', 0],
  NULL: ['null', 0],
};

export const sparkTypes: TypeMapper = {
  maxDecimalPrecision: 38,
  decimal: (precision, scale) => `DECIMAL(${precision},${scale})`,
  parse(rawType: string): LogicalType {
    const raw = normalizeTypeName(rawType);
    const scalar = SCALARS[raw.replace(/^(VAR)?CHAR\(\d+\)$/, 'STRING')];
    if (scalar) return { family: scalar[0], raw, rank: scalar[1] };
    const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(raw);
    if (dec) return { family: 'decimal', raw, rank: 0, precision: Number(dec[1]), scale: Number(dec[2]) };
    if (/^(ARRAY|STRUCT|MAP)</.test(raw)) return { family: 'nested', raw, rank: 0 };
    return { family: 'other', raw, rank: 0 };
  },
};
