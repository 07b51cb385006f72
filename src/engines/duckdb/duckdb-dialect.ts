import { SqlDialect, type DialectFeatures, type Spellings, type TableRef } from '../dialect/dialect.js';
import { duckdbTypes } from './duckdb-types.js';

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
