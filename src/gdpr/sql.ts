import type { SqlDialect, TableRef } from '../engines/index.js';
import { META_SCHEMA } from '../engines/dialect/meta.js';
import { PK_COLUMN, SLICE_COLUMN, SLICES_TABLE } from '../engines/dialect/publish.js';
import { SCD2_STATE_TABLE } from '../engines/dialect/meta.js';
import { renderReplace } from '../engines/dialect/replace.js';
import { scd2Columns } from '../engines/dialect/scd2-names.js';
import type { ErasureTarget } from './policy.js';

/**
 * The SQL of an erasure, rendered over the engine's dialect (no I/O, no clock): portable statements only
 * (`IN` lists of text literals, `LIKE`, `UPDATE … SET … WHERE`, `DELETE … WHERE`), so any engine whose dialect
 * renders the rest of Tessera renders these.
 *
 * Two tables of the warehouse's `tessera_meta` schema hold erasures (no identifier in either):
 * - `gdpr_erasure_list`: (kind, HMAC of the value, erasure id, key check): what the ingest guard re-applies;
 * - `gdpr_audit`: one row per erasure: id, HMAC of the subject id, when, rows touched per table (JSON), total.
 */

export const ERASURE_LIST: TableRef = { schema: META_SCHEMA, name: 'gdpr_erasure_list' };
export const AUDIT: TableRef = { schema: META_SCHEMA, name: 'gdpr_audit' };

/** Values found per identifier kind (text, as `CAST(column AS text)` shows them). */
export type Identifiers = ReadonlyMap<string, readonly string[]>;

export function renderErasureMetaDdl(d: SqlDialect): string[] {
  const q = (c: string): string => d.quote(c);
  const text = d.spell.textType;
  // Type names from the dialect's portable table (BigQuery spells them INT64, FLOAT64, …).
  const { bigint, double, timestamp } = d.portable.types;
  return [
    d.createSchema(META_SCHEMA),
    `CREATE TABLE IF NOT EXISTS ${d.table(ERASURE_LIST)} (${q('kind')} ${text} NOT NULL, ${q('value_hash')} ${text} NOT NULL, ` +
      `${q('erasure_id')} ${text} NOT NULL, ${q('key_check')} ${text} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${d.table(AUDIT)} (${q('erasure_id')} ${text} NOT NULL, ${q('subject')} ${text} NOT NULL, ` +
      `${q('subject_hash')} ${text} NOT NULL, ${q('erased_at')} ${timestamp} NOT NULL, ${q('tables_json')} ${text} NOT NULL, ` +
      `${q('rows_touched')} ${bigint} NOT NULL, ${q('seconds')} ${double} NOT NULL)`,
  ];
}

export function renderErasure(d: SqlDialect) {
  const q = (c: string): string => d.quote(c);
  const text = d.spell.textType;
  const asText = (column: string): string => `CAST(${q(column)} AS ${text})`;

  /** Rows of `target` holding any of the values (none when no column has a value to look for). */
  const predicate = (target: ErasureTarget, ids: Identifiers): string | undefined => {
    const parts: string[] = [];
    for (const [column, kind] of Object.entries(target.rule.match)) {
      const values = ids.get(kind) ?? [];
      if (values.length === 0) continue;
      if (target.rule.how === 'contains') {
        for (const v of values) {
          // LIKE without an ESCAPE clause (BigQuery has none): values carrying a wildcard are refused upstream.
          parts.push(`${asText(column)} LIKE ${d.literal(`%${v}%`)}`);
        }
      } else parts.push(`${asText(column)} IN (${values.map((v) => d.literal(v)).join(', ')})`);
    }
    return parts.length === 0 ? undefined : parts.map((p) => `(${p})`).join(' OR ');
  };

  return {
    predicate,

    /** Distinct non-null text values of a column: the ingest guard hashes them to find erased ones. */
    distinctValues: (table: string, column: string): string =>
      `SELECT DISTINCT ${asText(column)} AS ${q('v')} FROM ${d.table(table)} WHERE ${q(column)} IS NOT NULL`,

    /** Linked identifier values: `column` of the rows whose `subjectColumn` is the subject. */
    linkedValues: (table: string, column: string, subjectColumn: string, subject: string): string =>
      `SELECT DISTINCT ${asText(column)} AS ${q('v')} FROM ${d.table(table)} ` +
      `WHERE ${asText(subjectColumn)} = ${d.literal(subject)} AND ${q(column)} IS NOT NULL`,

    /**
     * Matching rows by partition (`p`: the partition column, the published slice's partition and slice, or '').
     * Counted before the change so the ledger and the store's bookkeeping know what to refresh.
     */
    countMatching: (target: ErasureTarget, where: string): string => {
      const keys = target.store
        ? [`${q(PK_COLUMN)} AS ${q('p')}`, `${q(SLICE_COLUMN)} AS ${q('s')}`]
        : target.partitionColumn
          ? [`${asText(target.partitionColumn)} AS ${q('p')}`, `${d.literal('')} AS ${q('s')}`]
          : [`${d.literal('')} AS ${q('p')}`, `${d.literal('')} AS ${q('s')}`];
      return (
        `SELECT ${keys.join(', ')}, count(*) AS ${q('n')} FROM ${d.table(target.table)} WHERE ${where} ` +
        `GROUP BY 1, 2`
      );
    },

    /** Deletes the rows, or clears the identifying and personal columns (and refreshes an SCD2 row_hash). */
    apply: (target: ErasureTarget, where: string): string => {
      if (target.rule.action === 'delete') return `DELETE FROM ${d.table(target.table)} WHERE ${where}`;
      const cleared = [...new Set([...Object.keys(target.rule.match), ...(target.rule.personal ?? [])])];
      const sets = cleared.map((c) => `${q(c)} = NULL`);
      if (target.scd2 && target.scd2.tracked.some((c) => cleared.includes(c))) {
        // The version's hash of its tracked attributes, as the merge computes it, over the cleared values: a
        // later change with the same attributes is then recognised as no change. (Right-hand sides of SET read
        // the old row, so cleared columns are spelled as NULL here.)
        const naming = target.asset?.scd2?.columnNames;
        const hash = d.rowHash(target.scd2.tracked.map((c) => (cleared.includes(c) ? 'NULL' : q(c))));
        sets.push(`${q(scd2Columns(naming).rowHash)} = ${hash}`);
      }
      return `UPDATE ${d.table(target.table)} SET ${sets.join(', ')} WHERE ${where}`;
    },

    /** The partition's fingerprint as a replace writes it (the ledger's data version of that partition). */
    partitionFingerprint: (table: string, partitionColumn: string | undefined, key: string): string =>
      renderReplace(
        d,
        table,
        partitionColumn === undefined
          ? null
          : d.partitionPredicate({ type: 'values', values: { [partitionColumn]: key } }),
      ).fingerprint(),

    /** One published slice's fingerprint over its own columns (what createVersionedTable recorded for it). */
    sliceFingerprint: (
      store: string,
      columns: readonly string[],
      partitionKey: string,
      slice: string,
    ): string =>
      `SELECT count(*) AS ${q('rows')}, ${d.fingerprint(['__tessera_row'])} AS ${q('version')} FROM ` +
      `(SELECT ${columns.map(q).join(', ')} FROM ${d.table(store)} WHERE ${q(PK_COLUMN)} = ${d.literal(partitionKey)} ` +
      `AND ${q(SLICE_COLUMN)} = ${d.literal(slice)}) AS __tessera_row`,

    updateSlice: (
      assetKey: string,
      partitionKey: string,
      slice: string,
      rows: number,
      fingerprint: string,
    ): string =>
      `UPDATE ${d.table(SLICES_TABLE)} SET ${q('row_count')} = ${rows}, ${q('fingerprint')} = ${d.literal(fingerprint)} ` +
      `WHERE ${q('asset_key')} = ${d.literal(assetKey)} AND ${q('partition_key')} = ${d.literal(partitionKey)} ` +
      `AND ${q('slice')} = ${d.literal(slice)}`,

    /**
     * The SCD2 target's stored row count and hash sum no longer describe it: a row count that matches no table
     * makes the next merge recompute both from the table (scd2-state.ts), keeping its high-water mark.
     */
    distrustScd2State: (table: string): string => {
      const ref = d.tableRef(table);
      return `UPDATE ${d.table(SCD2_STATE_TABLE)} SET ${q('row_count')} = -1 WHERE ${q('target')} = ${d.literal(`${ref.schema}.${ref.name}`)}`;
    },

    listEntries: (): string =>
      `SELECT ${q('kind')}, ${q('value_hash')}, ${q('key_check')} FROM ${d.table(ERASURE_LIST)}`,

    /** Adds entries not yet listed (a repeated erasure lists nothing twice). */
    addToList: (
      entries: readonly { kind: string; hash: string }[],
      erasureId: string,
      keyCheck: string,
    ): string => {
      const rows = entries
        .map(
          (e) =>
            `SELECT ${d.literal(e.kind)} AS ${q('kind')}, ${d.literal(e.hash)} AS ${q('value_hash')}, ` +
            `${d.literal(erasureId)} AS ${q('erasure_id')}, ${d.literal(keyCheck)} AS ${q('key_check')}`,
        )
        .join(' UNION ALL ');
      return (
        `INSERT INTO ${d.table(ERASURE_LIST)} SELECT n.* FROM (${rows}) AS n WHERE NOT EXISTS (` +
        `SELECT 1 FROM ${d.table(ERASURE_LIST)} AS l WHERE l.${q('kind')} = n.${q('kind')} AND l.${q('value_hash')} = n.${q('value_hash')})`
      );
    },

    insertAudit: (row: {
      erasureId: string;
      subject: string;
      subjectHash: string;
      erasedAt: string;
      tables: Readonly<Record<string, number>>;
      rows: number;
      seconds: number;
    }): string =>
      `INSERT INTO ${d.table(AUDIT)} VALUES (${d.literal(row.erasureId)}, ${d.literal(row.subject)}, ` +
      `${d.literal(row.subjectHash)}, ${d.timestampLiteral(row.erasedAt)}, ${d.literal(JSON.stringify(row.tables))}, ` +
      `${row.rows}, ${row.seconds})`,

    selectAudit: (): string =>
      `SELECT ${q('erasure_id')}, ${q('subject')}, ${q('subject_hash')}, CAST(${q('erased_at')} AS ${text}) AS ${q('erased_at')}, ` +
      `${q('tables_json')}, ${q('rows_touched')}, ${q('seconds')} FROM ${d.table(AUDIT)} ORDER BY ${q('erased_at')}`,
  };
}
