import { EngineError } from '../errors.js';
import type { SqlDialect, TableRef } from './dialect.js';
import { HISTORY_TABLE } from './meta.js';

/**
 * Versioned tables and publish groups (pure rendering).
 * A published asset `schema.name` is a view analysts query; each materialized version is a physical
 * table `schema.__v_name__<version>`. A flip replaces every view of a group and appends one row to
 * `tessera_meta.publish_history` (meta.ts) in one transaction, so readers see all old or all new.
 */

export interface HistoryRow {
  readonly group_name: string;
  readonly seq: number;
  readonly version: string;
  readonly tables_json: string;
  readonly run_id: string | null;
  readonly published_at: string;
  readonly rolled_back: boolean;
}

export function versionedTableRef(d: SqlDialect, assetKey: string, version: string): TableRef {
  const ref = d.tableRef(assetKey);
  const v = version
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (v.length === 0) throw new EngineError(d.name, `version '${version}' has no [a-z0-9_] characters`);
  return { schema: ref.schema, name: `__v_${ref.name}__${v}` };
}

export function renderPublish(d: SqlDialect) {
  const q = (c: string): string => d.quote(c);
  const history = d.table(HISTORY_TABLE);
  return {
    createVersioned: (ref: TableRef, selectSql: string): string =>
      `CREATE OR REPLACE TABLE ${d.table(ref)} AS SELECT * FROM (${selectSql}) AS s`,
    pointView: (assetKey: string, physical: string): string => {
      d.require('supportsTransactionalDdl', 'an atomic publish-group flip');
      return `CREATE OR REPLACE VIEW ${d.table(assetKey)} AS SELECT * FROM ${d.table(physical)}`;
    },
    /** The group's history, oldest first, `published_at` as text. */
    selectHistory: (group: string): string =>
      `SELECT ${q('group_name')}, ${q('seq')}, ${q('version')}, ${q('tables_json')}, ${q('run_id')}, ` +
      `${q('published_at')}, ${q('rolled_back')} FROM ${history} WHERE ${q('group_name')} = ${d.literal(group)} ` +
      `ORDER BY ${q('seq')}`,
    insertHistory: (row: HistoryRow): string =>
      `INSERT INTO ${history} VALUES (${d.literal(row.group_name)}, ${row.seq}, ${d.literal(row.version)}, ` +
      `${d.literal(row.tables_json)}, ${d.literal(row.run_id)}, ${d.timestampLiteral(row.published_at)}, ` +
      `${d.literal(row.rolled_back)})`,
    markRolledBack: (group: string, seq: number): string =>
      `UPDATE ${history} SET ${q('rolled_back')} = TRUE WHERE ${q('group_name')} = ${d.literal(group)} AND ${q('seq')} = ${seq}`,
  };
}
