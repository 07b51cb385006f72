import { SqlDialect, type DialectFeatures, type Spellings, type TableRef } from '../dialect/dialect.js';
import { SPARK_PORTABLE } from '../dialect/portable-engines.js';
import { sparkTypes } from './spark-types.js';

/**
 * Spark SQL over the Iceberg catalog `iceberg` (the session's default catalog, so `schema.name` is an
 * Iceberg table). No multi-statement transactions, no transactional DDL, no UPDATE .. FROM: the Spark
 * engine writes each table in one statement (one Iceberg commit) instead (spark-engine.ts).
 */
export class SparkDialect extends SqlDialect {
  readonly name = 'spark';
  readonly defaultSchema = 'default';
  readonly types = sparkTypes;
  override readonly portable = SPARK_PORTABLE;
  readonly features: DialectFeatures = {
    supportsQualify: false, // Spark 4.1 has no QUALIFY: dedupes render as a row_number() subquery
    // Staging is `STAGE VIEW x AS ..`: an eagerly computed temp view of the server-side session.
    supportsTempTables: true,
    supportsTransactionalDdl: false,
    supportsUpdateFrom: false, // Spark has MERGE INTO, not UPDATE .. FROM / DELETE .. USING
    supportsAlterColumnType: true, // Iceberg widens int→bigint, float→double, decimal precision
    supportsRowId: false,
  };
  readonly spell: Spellings = {
    textType: 'STRING',
    md5Hex: (e) => `md5(${e})`,
    // First 64 bits of the MD5 as a signed BIGINT (conv with a negative base gives the signed value).
    hash64: (e) => `CAST(conv(substr(md5(${e}), 1, 16), 16, -10) AS BIGINT)`,
    // xxhash64 of each row (a bare alias = the whole row: `alias.*`), summed exactly as DECIMAL(38,0).
    hashSum: (exprs) => {
      const args =
        exprs.length === 1 && /^\w+$/.test(exprs[0] ?? '') ? `${exprs[0] ?? ''}.*` : exprs.join(', ');
      return `sum(CAST(xxhash64(${args}) AS DECIMAL(38,0)))`;
    },
    sumType: 'DECIMAL(38,0)',
    engineVersion: 'version()',
    chr: (code) => `chr(${code})`,
  };

  override quote(identifier: string): string {
    return `\`${identifier.replaceAll('`', '``')}\``;
  }

  /** Temp views are not in a schema: the bare quoted name. */
  override tempTable(name: string): string {
    return this.quote(name);
  }

  /**
   * `STAGE VIEW .. AS` (answered by the SQL server, scripts/spark/server.py) computes the select now (a
   * runtime error surfaces here) and keeps the rows as a temp view that no longer reads the tables it came
   * from. `CACHE TABLE` would not do: Spark recomputes a cached relation when a table it reads is written,
   * so staged SCD2 versions would change under the merge that applies them.
   */
  override createTempTableAs(name: string, select: string): string {
    return `STAGE VIEW ${this.tempTable(name)} AS ${select}`;
  }

  override dropTempTable(name: string): string {
    return `DROP VIEW IF EXISTS ${this.tempTable(name)}`;
  }

  /**
   * No information_schema in Spark: the SQL server answers `DESCRIBE TABLE` with rows {name, type}
   * (none when the relation does not exist), see scripts/spark/server.py.
   */
  override describeSql(ref: TableRef, temp = false): string {
    return `DESCRIBE TABLE ${temp ? this.tempTable(ref.name) : this.table(ref)}`;
  }

  /** Answered by the SQL server: one row {kind}, none when the relation does not exist. */
  override relationKindSql(ref: TableRef): string {
    return `SHOW RELATION KIND ${this.table(ref)}`;
  }

  override createSchema(schema: string): string {
    return `CREATE NAMESPACE IF NOT EXISTS ${this.quote(schema)}`;
  }
}

export const sparkDialect = new SparkDialect();
