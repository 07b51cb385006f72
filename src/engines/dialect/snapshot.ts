import type { SnapshotAsOfRequest } from '../types.js';
import type { SqlDialect } from './dialect.js';
import { scd2Columns } from './scd2-names.js';

/**
 * The state of an SCD2 entity as of an instant: versions with valid_from <= asOf < coalesce(valid_to, ∞)
 * that are not deletions. Pure rendering; the engine can wrap it in replaceTable/replacePartition.
 */
export function renderSnapshotAsOf(d: SqlDialect, req: SnapshotAsOfRequest): string {
  const n = scd2Columns(req.columnNames);
  const q = (c: string): string => d.quote(c);
  const at = d.timestampLiteral(req.asOf);
  const cols = req.columns && req.columns.length > 0 ? req.columns.map(q).join(', ') : '*';
  return (
    `SELECT ${cols} FROM ${d.table(req.scd2Table)} ` +
    `WHERE ${q(n.validFrom)} <= ${at} AND (${q(n.validTo)} IS NULL OR ${at} < ${q(n.validTo)}) ` +
    `AND NOT ${q(n.isDeleted)}`
  );
}
