import { SqlDialect, type DialectFeatures, type Spellings, type TableRef } from '../dialect/dialect.js';
import { TRINO_PORTABLE } from '../dialect/portable-engines.js';
import { EngineError } from '../errors.js';
import type { PartitionSelector } from '../types.js';
import { trinoTypes } from './trino-types.js';

/**
 * Trino over Iceberg. What differs from DuckDB, each in one place:
 * - no temporary tables: "temp" tables are ordinary tables in a staging catalog (by default the
 *   `memory` connector), named per operation (`forOperation`), so concurrent operations never share one;
 * - no multi-statement transactions on Iceberg, no transactional DDL, no UPDATE ... FROM, no row id:
 *   the engine (trino-engine.ts) writes with one MERGE per operation instead;
 * - no QUALIFY (dedupes render as a ranked subquery);
 * - information_schema.data_type is lower case (`varchar`, `timestamp(6)`): upper-cased like DuckDB's;
 * - hashes: md5 over UTF-8 bytes; no whole-row hash, so fingerprints name their columns.
 */
export interface TrinoDialectOptions {
  /** Catalog of the staging tables, e.g. `memory`. */
  readonly stagingCatalog: string;
  readonly stagingSchema: string;
  /** Appended to staging table names: unique per operation. */
  readonly suffix?: string;
}

export class TrinoDialect extends SqlDialect {
  readonly name = 'trino';
  readonly defaultSchema = 'default';
  readonly types = trinoTypes;
  override readonly portable = TRINO_PORTABLE;
  readonly features: DialectFeatures = {
    supportsQualify: false,
    // Staged in the staging catalog under per-operation names (tempTable), not session-local.
    supportsTempTables: true,
    supportsTransactionalDdl: false,
    supportsUpdateFrom: false,
    // Iceberg: INTEGER → BIGINT, REAL → DOUBLE, DECIMAL precision increases.
    supportsAlterColumnType: true,
    supportsRowId: false,
  };
  readonly spell: Spellings = {
    textType: 'VARCHAR',
    md5Hex: (e) => `lower(to_hex(md5(to_utf8(${e}))))`,
    hash64: (e) => `from_big_endian_64(substr(md5(to_utf8(${e})), 1, 8))`,
    // sum(BIGINT) fails on overflow in Trino: hashes are summed as DECIMAL(38,0) (exact, order-independent).
    hashSum: (exprs) => {
      // A bare table alias (`__tessera_row`) stands for the whole row on DuckDB; Trino cannot hash one.
      if (exprs.length === 1 && /^__tessera_\w+$/.test(exprs[0] ?? '')) {
        throw new EngineError(this.name, `a whole-row hash (${exprs[0]}) needs the column list on Trino`);
      }
      return `sum(CAST(${this.rowHash(exprs)} AS DECIMAL(38,0)))`;
    },
    sumType: 'DECIMAL(38,0)',
    engineVersion: 'version()',
    chr: (code) => `chr(${code})`,
  };

  constructor(readonly options: TrinoDialectOptions) {
    super();
  }

  /** The same dialect with staging names of its own (one per operation). */
  forOperation(suffix: string): TrinoDialect {
    return new TrinoDialect({ ...this.options, suffix });
  }

  /**
   * A `values` selector carries text, e.g. `{ date: '2026-11-01' }` for a DATE column (ads, FX). DuckDB and
   * Spark coerce the literal; Trino refuses `date = varchar`, so text values compare with the column as text.
   */
  override partitionPredicate(partition: PartitionSelector, alias?: string): string {
    if (partition.type === 'window') return super.partitionPredicate(partition, alias);
    const entries = Object.entries(partition.values);
    if (entries.length === 0) return super.partitionPredicate(partition, alias);
    const col = (c: string): string => (alias ? `${alias}.${this.quote(c)}` : this.quote(c));
    return entries
      .map(([c, v]) =>
        typeof v === 'string'
          ? `CAST(${col(c)} AS VARCHAR) = ${this.literal(v)}`
          : `${col(c)} = ${this.literal(v)}`,
      )
      .join(' AND ');
  }

  override tempRef(name: string): TableRef {
    const suffix = this.options.suffix ? `_${this.options.suffix}` : '';
    return { schema: this.options.stagingSchema, name: `${name}${suffix}` };
  }

  override tempTable(name: string): string {
    return `${this.quote(this.options.stagingCatalog)}.${this.table(this.tempRef(name))}`;
  }

  override createTempTableAs(name: string, select: string): string {
    return `CREATE TABLE ${this.tempTable(name)} AS ${select}`;
  }

  override describeSql(ref: TableRef, temp = false): string {
    const catalog = temp ? `${this.quote(this.options.stagingCatalog)}.` : '';
    return (
      `SELECT column_name AS ${this.quote('name')}, upper(data_type) AS ${this.quote('type')} ` +
      `FROM ${catalog}information_schema.columns WHERE table_schema = ${this.literal(ref.schema)} ` +
      `AND table_name = ${this.literal(ref.name)} ORDER BY ordinal_position`
    );
  }

  /** Fingerprint of rows given by their columns (`alias.col`): Trino has no whole-row hash. */
  rowsFingerprint(alias: string, columns: readonly string[]): string {
    return this.fingerprint(columns.map((c) => `${alias}.${this.quote(c)}`));
  }
}

/** Rendering without an engine (snapshot tests): staging in `memory.tessera_staging`. */
export const trinoDialect = new TrinoDialect({ stagingCatalog: 'memory', stagingSchema: 'tessera_staging' });
