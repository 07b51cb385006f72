import type { LogicalType, TypeFamily, TypeMapper } from '../dialect/type-mapper.js';
import { normalizeTypeName } from '../dialect/type-mapper.js';

/**
 * BigQuery (GoogleSQL) type spellings, as INFORMATION_SCHEMA.COLUMNS prints them, → logical types.
 * GoogleSQL has one integer (INT64) and one float (FLOAT64); INTEGER, BIGINT, SMALLINT... are aliases that
 * come back as INT64, so "widening" an integer never happens here. Parameterized types keep their
 * parameters in the spelling (`STRING(10)`, `NUMERIC(10, 2)`).
 */

const SCALARS: Readonly<Record<string, readonly [TypeFamily, number]>> = {
  INT64: ['integer', 8],
  INTEGER: ['integer', 8],
  INT: ['integer', 8],
  BIGINT: ['integer', 8],
  SMALLINT: ['integer', 8],
  TINYINT: ['integer', 8],
  BYTEINT: ['integer', 8],
  FLOAT64: ['float', 8],
  FLOAT: ['float', 8],
  STRING: ['string', 0],
  BOOL: ['boolean', 0],
  BOOLEAN: ['boolean', 0],
  DATE: ['date', 0],
  // DATETIME is a civil time (no zone); TIMESTAMP is an instant, which is what Tessera stores (UTC).
  DATETIME: ['timestamp', 8],
  TIMESTAMP: ['timestamptz', 8],
  TIME: ['time', 0],
  INTERVAL: ['interval', 0],
  BYTES: ['binary', 0],
  JSON: ['json', 0],
  GEOGRAPHY: ['other', 0],
};

/** NUMERIC without parameters is NUMERIC(38, 9); BIGNUMERIC is BIGNUMERIC(76, 38). */
const DEFAULT_DECIMAL: Readonly<Record<string, readonly [number, number]>> = {
  NUMERIC: [38, 9],
  DECIMAL: [38, 9],
  BIGNUMERIC: [76, 38],
  BIGDECIMAL: [76, 38],
};

export const bigqueryTypes: TypeMapper = {
  maxDecimalPrecision: 76,
  decimal: (precision, scale) =>
    precision - scale > 29 || scale > 9
      ? `BIGNUMERIC(${precision}, ${scale})`
      : `NUMERIC(${precision}, ${scale})`,
  parse(rawType: string): LogicalType {
    const raw = normalizeTypeName(rawType);
    const scalar = SCALARS[raw.replace(/^(STRING|BYTES)\(\d+\)$/, '$1')];
    if (scalar) return { family: scalar[0], raw, rank: scalar[1] };
    const dflt = DEFAULT_DECIMAL[raw];
    if (dflt) return { family: 'decimal', raw, rank: 0, precision: dflt[0], scale: dflt[1] };
    const dec = /^(?:BIG)?(?:NUMERIC|DECIMAL)\((\d+)(?:,\s*(\d+))?\)$/.exec(raw);
    if (dec) {
      return { family: 'decimal', raw, rank: 0, precision: Number(dec[1]), scale: Number(dec[2] ?? 0) };
    }
    if (/^(ARRAY|STRUCT|RANGE)</.test(raw)) return { family: 'nested', raw, rank: 0 };
    return { family: 'other', raw, rank: 0 };
  },
};
