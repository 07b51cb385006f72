import type { SqlDialect, TableRef } from './dialect.js';

/**
 * SQL of a whole-partition (or whole-table) replace, run by the engine in one transaction:
 * stage the select, refuse rows outside the partition, evolve the schema, delete the partition,
 * insert the staged rows, fingerprint what was written. Never an append.
 */

export const STAGE_TABLE = '__tessera_stage';

export function renderReplace(d: SqlDialect, table: string | TableRef, predicate: string | null) {
  const t = d.table(table);
  const stage = d.tempTable(STAGE_TABLE);
  const where = predicate === null ? '' : ` WHERE ${predicate}`;
  return {
    stage: (selectSql: string): string =>
      d.createTempTableAs(STAGE_TABLE, `SELECT * FROM (${selectSql}) AS s`),
    /** Rows of the stage outside the partition (NULL partition values count as outside). */
    countOutside: (): string | null =>
      predicate === null
        ? null
        : `SELECT count(*) AS ${d.quote('n')} FROM ${stage} WHERE NOT coalesce(${predicate}, FALSE)`,
    createFromStage: (): string => `CREATE TABLE ${t} AS SELECT * FROM ${stage}`,
    deleteOld: (): string => `DELETE FROM ${t}${where}`,
    insert: (columns: readonly string[]): string => {
      const cols = columns.map((c) => d.quote(c)).join(', ');
      return `INSERT INTO ${t} (${cols}) SELECT ${cols} FROM ${stage}`;
    },
    fingerprint: (): string =>
      `SELECT count(*) AS ${d.quote('rows')}, ${d.fingerprint(['__tessera_row'])} AS ${d.quote('version')} ` +
      `FROM ${t} AS __tessera_row${where}`,
    dropStage: (): string => d.dropTempTable(STAGE_TABLE),
  };
}
