import type { SqlDialect, TableRef } from '../dialect/dialect.js';

/**
 * The write of a Spark replace as ONE statement, so it is one Iceberg commit: readers see the old
 * partition or the new one, never neither, and a failure before the commit leaves the old one.
 * `MERGE .. ON FALSE`: every staged row is inserted (NOT MATCHED), every old row of the partition is
 * deleted (NOT MATCHED BY SOURCE AND <partition>); rows outside the partition are untouched.
 * Columns the select no longer produces are left out of the INSERT list and read NULL.
 */
export function renderSparkReplaceWrite(
  d: SqlDialect,
  table: TableRef,
  stage: string,
  columns: readonly string[],
  predicate: string | null,
): string {
  const cols = columns.map((c) => d.quote(c));
  const deleteWhen = predicate === null ? '' : ` AND ${predicate}`;
  return (
    `MERGE INTO ${d.table(table)} AS t USING (SELECT ${cols.join(', ')} FROM ${d.tempTable(stage)}) AS s ON FALSE ` +
    `WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `s.${c}`).join(', ')}) ` +
    `WHEN NOT MATCHED BY SOURCE${deleteWhen} THEN DELETE`
  );
}
