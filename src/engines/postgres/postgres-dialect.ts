import { SqlDialect, type DialectFeatures, type Spellings } from '../dialect/dialect.js';
import type { LogicalType, TypeMapper } from '../dialect/type-mapper.js';
import { normalizeTypeName } from '../dialect/type-mapper.js';

/**
 * PostgreSQL, render-only for now (no engine client yet): it shows what a second dialect costs —
 * flags, spellings, a type table — and exercises the no-QUALIFY fallback in snapshot tests.
 */

const PG_TYPES: Readonly<Record<string, readonly [LogicalType['family'], number]>> = {
  SMALLINT: ['integer', 2],
  INTEGER: ['integer', 4],
  BIGINT: ['integer', 8],
  REAL: ['float', 4],
  'DOUBLE PRECISION': ['float', 8],
  TEXT: ['string', 0],
  'CHARACTER VARYING': ['string', 0],
  BOOLEAN: ['boolean', 0],
  DATE: ['date', 0],
  'TIMESTAMP WITHOUT TIME ZONE': ['timestamp', 8],
  'TIMESTAMP WITH TIME ZONE': ['timestamptz', 8],
  BYTEA: ['binary', 0],
  UUID: ['uuid', 0],
  JSONB: ['json', 0],
};

const postgresTypes: TypeMapper = {
  maxDecimalPrecision: 1000,
  decimal: (p, s) => `NUMERIC(${p},${s})`,
  parse(rawType) {
    const raw = normalizeTypeName(rawType);
    const row = PG_TYPES[raw];
    if (row) return { family: row[0], raw, rank: row[1] };
    const dec = /^NUMERIC\((\d+),\s*(\d+)\)$/.exec(raw);
    if (dec) return { family: 'decimal', raw, rank: 0, precision: Number(dec[1]), scale: Number(dec[2]) };
    return { family: 'other', raw, rank: 0 };
  },
};

export class PostgresDialect extends SqlDialect {
  readonly name = 'postgres';
  readonly defaultSchema = 'public';
  readonly types = postgresTypes;
  readonly features: DialectFeatures = {
    supportsQualify: false, // no QUALIFY: dedupes render as a row_number() subquery
    supportsTempTables: true,
    supportsTransactionalDdl: true,
    supportsUpdateFrom: true,
    supportsAlterColumnType: true,
    supportsRowId: false, // ctid changes on update; merges join on the key instead
  };
  readonly spell: Spellings = {
    textType: 'TEXT',
    md5Hex: (e) => `md5(${e})`,
    hash64: (e) => `('x' || substr(md5(${e}), 1, 16))::bit(64)::bigint`,
    // No row hash function: md5 of each row's text, its first 60 bits summed as numbers.
    hashSum: (exprs) => {
      const row = exprs.length === 1 ? `${exprs[0] ?? ''}::text` : `row(${exprs.join(', ')})::text`;
      return `sum(('x' || substr(md5(${row}), 1, 15))::bit(60)::bigint::numeric)`;
    },
    sumType: 'NUMERIC',
    engineVersion: 'version()',
    chr: (code) => `chr(${code})`,
  };
}

export const postgresDialect = new PostgresDialect();
