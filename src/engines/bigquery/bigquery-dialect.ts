import { SqlDialect, type DialectFeatures, type Spellings, type TableRef } from '../dialect/dialect.js';
import { BIGQUERY_PORTABLE } from '../dialect/portable-engines.js';
import type { PortableSql } from '../dialect/portable.js';
import { bigqueryTypes } from './bigquery-types.js';

/**
 * BigQuery (GoogleSQL). Datasets are Tessera's schemas (`core.dim_users` = dataset `core`, table
 * `dim_users`, in the engine's project).
 *
 * Staging: BigQuery has temp tables only inside one script or session, and the emulator has no sessions,
 * so "temp" tables are ordinary tables in a scratch dataset (default expiration one day on real BigQuery).
 * Their names carry the token `__TX__`, which the client replaces by an id of the operation, so
 * concurrent operations never share a staging table (see bigquery-client.ts).
 *
 * No transactional DDL: BigQuery transactions take DML only, so schema changes run before the atomic
 * DML script of a write (bigquery-client.ts), and views cannot be re-pointed atomically.
 */
export const TX_TOKEN = '__TX__';

export class BigQueryDialect extends SqlDialect {
  readonly name = 'bigquery';
  readonly types = bigqueryTypes;
  override readonly portable: PortableSql = BIGQUERY_PORTABLE;
  readonly features: DialectFeatures = {
    // QUALIFY needs a WHERE/GROUP BY/HAVING next to it in BigQuery; the portable ranked subquery is exact.
    supportsQualify: false,
    // Emulated with tables in the scratch dataset (see above).
    supportsTempTables: true,
    supportsTransactionalDdl: false,
    supportsUpdateFrom: true,
    supportsAlterColumnType: true,
    supportsRowId: false,
  };
  readonly spell: Spellings = {
    textType: 'STRING',
    md5Hex: (e) => `TO_HEX(MD5(${e}))`,
    // FarmHash Fingerprint64: documented as stable across BigQuery releases, and native (no string work).
    hash64: (e) => `FARM_FINGERPRINT(${e})`,
    // One row (or the listed values) as canonical JSON text, fingerprinted; summed exactly as NUMERIC
    // (29 integer digits: 2^63 × 10^10 rows fit).
    hashSum: (exprs) => {
      const value =
        exprs.length === 1 ? (exprs[0] ?? '') : `STRUCT(${exprs.map((e, i) => `${e} AS f${i}`).join(', ')})`;
      return `SUM(CAST(FARM_FINGERPRINT(TO_JSON_STRING(${value})) AS NUMERIC))`;
    },
    sumType: 'NUMERIC',
    // FARM_FINGERPRINT and TO_JSON_STRING do not change between releases: stored sums stay valid.
    engineVersion: `'bigquery-farm64-v1'`,
    chr: (code) => `CODE_POINTS_TO_STRING([${code}])`,
  };

  constructor(
    /** Unqualified table names resolve to this dataset. */
    readonly defaultSchema = 'tessera',
    /** Dataset of staging tables. */
    readonly scratchDataset = 'tessera_scratch',
  ) {
    super();
  }

  override quote(identifier: string): string {
    if (identifier.length === 0) return super.quote(identifier);
    return `\`${identifier.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
  }

  /** GoogleSQL string literals escape with backslashes (a doubled quote is two literals). */
  override literal(value: string | number | boolean | null): string {
    if (typeof value !== 'string') return super.literal(value);
    const escaped = value
      .replaceAll('\\', '\\\\')
      .replaceAll("'", "\\'")
      .replaceAll('\n', '\\n')
      .replaceAll('\r', '\\r');
    return `'${escaped}'`;
  }

  override tempRef(name: string): TableRef {
    return { schema: this.scratchDataset, name: `${TX_TOKEN}${name}` };
  }

  override tempTable(name: string): string {
    return this.table(this.tempRef(name));
  }

  override createTempTableAs(name: string, select: string): string {
    return `CREATE OR REPLACE TABLE ${this.tempTable(name)} AS ${select}`;
  }

  /** INFORMATION_SCHEMA is per dataset in BigQuery; a missing dataset is an error the client turns into no rows. */
  override describeSql(ref: TableRef, _temp = false): string {
    return (
      `SELECT column_name AS ${this.quote('name')}, data_type AS ${this.quote('type')} ` +
      `FROM ${this.quote(ref.schema)}.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ${this.literal(ref.name)} ` +
      `ORDER BY ordinal_position`
    );
  }

  override relationKindSql(ref: TableRef): string {
    return (
      `SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS ${this.quote('kind')} ` +
      `FROM ${this.quote(ref.schema)}.INFORMATION_SCHEMA.TABLES WHERE table_name = ${this.literal(ref.name)}`
    );
  }
}

export const bigqueryDialect = new BigQueryDialect();
