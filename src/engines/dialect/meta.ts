import type { SqlDialect, TableRef } from './dialect.js';

/**
 * Engine-side bookkeeping tables, in schema `tessera_meta` of the warehouse itself (so they commit in
 * the same transaction as the data they describe):
 * - publish_history: one row per publish-group flip (see publish.ts);
 * - scd2_state: per SCD2 target, its row count and hash sum, so a merge updates the data version by
 *   deltas instead of rescanning the table, and its high-water mark: the greatest ordering value ever
 *   merged, as text (see scd2-state.ts).
 */

export const META_SCHEMA = 'tessera_meta';
export const HISTORY_TABLE: TableRef = { schema: META_SCHEMA, name: 'publish_history' };
export const SCD2_STATE_TABLE: TableRef = { schema: META_SCHEMA, name: 'scd2_state' };

export function renderMetaDdl(d: SqlDialect): string[] {
  const q = (c: string): string => d.quote(c);
  const text = d.spell.textType;
  return [
    d.createSchema(META_SCHEMA),
    `CREATE TABLE IF NOT EXISTS ${d.table(HISTORY_TABLE)} (${q('group_name')} ${text} NOT NULL, ` +
      `${q('seq')} INTEGER NOT NULL, ${q('version')} ${text} NOT NULL, ${q('tables_json')} ${text} NOT NULL, ` +
      `${q('run_id')} ${text}, ${q('published_at')} TIMESTAMP NOT NULL, ${q('rolled_back')} BOOLEAN NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${d.table(SCD2_STATE_TABLE)} (${q('target')} ${text} NOT NULL, ` +
      `${q('row_count')} BIGINT NOT NULL, ${q('hash_sum')} ${text} NOT NULL, ${q('engine_version')} ${text} NOT NULL, ` +
      `${q('max_order')} ${text})`,
  ];
}
