import { z } from 'zod';
import {
  SqlDialect,
  type DialectFeatures,
  type ReadOnlyProbe,
  type Spellings,
  type TableRef,
} from '../dialect/dialect.js';
import {
  ANSI_PORTABLE,
  formatPattern,
  sqlString,
  STRFTIME_LETTERS,
  strftimeText,
  type PortableSql,
} from '../dialect/portable.js';
import { duckdbTypes } from './duckdb-types.js';

const serialized = z.object({
  error: z.boolean(),
  error_type: z.string().optional(),
  error_message: z.string().optional(),
  statements: z.array(z.unknown()).optional(),
});

/** DuckDB: the embedded default. Everything Tessera needs is native, including transactional DDL. */
export class DuckDbDialect extends SqlDialect {
  readonly name = 'duckdb';
  readonly defaultSchema = 'main';
  readonly types = duckdbTypes;
  readonly features: DialectFeatures = {
    supportsQualify: true,
    supportsTempTables: true,
    supportsTransactionalDdl: true,
    supportsUpdateFrom: true,
    supportsAlterColumnType: true,
    supportsRowId: true,
  };
  readonly spell: Spellings = {
    textType: 'VARCHAR',
    md5Hex: (e) => `md5(${e})`,
    hash64: (e) => `md5_number_lower(${e})`,
    // hash() of each row (or of the listed columns), summed as HUGEINT: order-independent,
    // duplicate-sensitive, no string casts. hash() is stable within a DuckDB version; an upgrade may
    // change data versions once (assets look stale once). Persisted hashes (row_hash) use md5.
    hashSum: (exprs) => `sum(hash(${exprs.join(', ')}))`,
    sumType: 'HUGEINT',
    engineVersion: 'version()',
    chr: (code) => `chr(${code})`,
  };
  /**
   * DuckDB's native functions where they mean what the macro means (arg_max ignores rows with a NULL value or
   * order, as the macro defines). count_if stays the FILTER default: DuckDB's count_if returns HUGEINT.
   */
  override readonly portable: PortableSql = {
    ...ANSI_PORTABLE,
    argMax: (value, orderBy) => `arg_max(${value}, ${orderBy})`,
    argMin: (value, orderBy) => `arg_min(${value}, ${orderBy})`,
    formatTimestamp: (ts, format) =>
      `strftime(${ts}, ${sqlString(formatPattern(format, STRFTIME_LETTERS, strftimeText))})`,
  };

  /**
   * The json extension (bundled) serializes SELECT statements only: anything else is "not implemented", and
   * several statements are listed one by one.
   */
  override readOnlyProbe(): ReadOnlyProbe {
    return {
      sql: 'SELECT json_serialize_sql(CAST(? AS VARCHAR)) AS j',
      verdict(row) {
        const r = serialized.parse(JSON.parse(String(row?.['j'] ?? '{}')));
        if (r.error) {
          return r.error_type === 'not implemented'
            ? `only a read-only SELECT (or WITH … SELECT) may run (DuckDB: ${r.error_message ?? ''})`
            : `${r.error_type ?? 'parser'} error: ${r.error_message ?? 'invalid SQL'}`;
        }
        const n = r.statements?.length ?? 0;
        return n === 1 ? undefined : `only one statement may run; DuckDB parsed ${n}`;
      },
    };
  }

  override describeQuerySql(select: string): string {
    return `DESCRIBE ${select}`;
  }

  /**
   * information_schema spans every attached catalog in DuckDB (the file's and `temp`):
   * pin the catalog so a temp table never shadows a persistent one.
   */
  override describeSql(ref: TableRef, temp = false): string {
    const catalog = temp ? `'temp'` : 'current_database()';
    return `${super.describeSql(ref, temp).replace(' WHERE ', ` WHERE table_catalog = ${catalog} AND `)}`;
  }

  override relationKindSql(ref: TableRef): string {
    return super.relationKindSql(ref).replace(' WHERE ', ' WHERE table_catalog = current_database() AND ');
  }
}

export const duckdbDialect = new DuckDbDialect();
