import type { SqlDialect } from '../../engines/dialect/dialect.js';
import type { Engine } from '../../engines/types.js';
import { columnSqlType, engineDialect, renderRow, rowsRelation } from '../sinks/sql-rows.js';
import type { RawColumn, RawRow } from '../types.js';
import { AD_REPORTS_TABLE, type AdPlatform, type AdReportRow } from './types.js';

/**
 * Where ad rows land. Unlike events (append + dedupe through a RawSink), a platform restates past days, so a
 * re-pulled day must *replace* what was there — including campaigns that vanished from it. Hence a partition
 * replace keyed by (date, platform, account_id), run as one engine transaction (Engine.replacePartition).
 */

export interface AdPartitionKey {
  readonly date: string;
  readonly platform: AdPlatform;
  readonly account_id: string;
}

/** `2026-11-24|google|1234567890`: the multi-dimensional partition key (date × platform × account). */
export function adPartitionKey(k: AdPartitionKey): string {
  return `${k.date}|${k.platform}|${k.account_id}`;
}

export interface AdReportStore {
  /** Replaces the partition's rows with `rows` (all of which belong to it) atomically; idempotent. */
  replacePartition(key: AdPartitionKey, rows: readonly AdReportRow[]): Promise<{ rowCount: number }>;
}

const COLUMN_SQL: readonly (readonly [keyof AdReportRow, string])[] = [
  ['date', 'DATE'],
  ['platform', 'VARCHAR'],
  ['account_id', 'VARCHAR'],
  ['account_timezone', 'VARCHAR'],
  ['campaign_id', 'VARCHAR'],
  ['campaign_name', 'VARCHAR'],
  ['impressions', 'BIGINT'],
  ['clicks', 'BIGINT'],
  ['spend_micros', 'BIGINT'],
  ['currency', 'VARCHAR'],
  // ANSI spelling: DuckDB and PostgreSQL accept it (Trino/BigQuery would need their own).
  ['conversions', 'DOUBLE PRECISION'],
];

function literal(v: string | number | null): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`non-finite number in ad row: ${v}`);
    return String(v);
  }
  return `'${v.replace(/'/g, "''")}'`;
}

/** A typed SELECT of literal rows (standard SQL: VALUES + CAST), or an empty typed SELECT. */
export function renderAdRowsSelect(rows: readonly AdReportRow[]): string {
  const cols = COLUMN_SQL.map(([c]) => `"${c}"`).join(', ');
  if (rows.length === 0) {
    const nulls = COLUMN_SQL.map(([c, t]) => `CAST(NULL AS ${t}) AS "${c}"`).join(', ');
    return `SELECT ${nulls} WHERE 1 = 0`;
  }
  const tuples = rows.map(
    (r) => `(${COLUMN_SQL.map(([c, t]) => `CAST(${literal(r[c])} AS ${t})`).join(', ')})`,
  );
  return `SELECT * FROM (VALUES ${tuples.join(',\n')}) AS v(${cols})`;
}

/** The ad rows' columns as raw column types, for the server engines' spellings (sql-rows.ts). */
const RAW_COLUMNS: readonly RawColumn[] = [
  { name: 'date', type: 'date' },
  { name: 'platform', type: 'varchar' },
  { name: 'account_id', type: 'varchar' },
  { name: 'account_timezone', type: 'varchar' },
  { name: 'campaign_id', type: 'varchar' },
  { name: 'campaign_name', type: 'varchar' },
  { name: 'impressions', type: 'bigint' },
  { name: 'clicks', type: 'bigint' },
  { name: 'spend_micros', type: 'bigint' },
  { name: 'currency', type: 'varchar' },
  { name: 'conversions', type: 'double' },
];

/** renderAdRowsSelect in a server engine's dialect (BigQuery has no VALUES; Spark escapes with backslashes). */
export function renderAdRowsSelectFor(d: SqlDialect, rows: readonly AdReportRow[]): string {
  if (rows.length === 0) {
    const nulls = RAW_COLUMNS.map((c) => `CAST(NULL AS ${columnSqlType(d, c.type)}) AS ${d.quote(c.name)}`);
    return `SELECT ${nulls.join(', ')} FROM (SELECT 1 AS one) AS e WHERE 1 = 0`;
  }
  const rendered = rows.map((r, i) => renderRow(d, RAW_COLUMNS, r as unknown as RawRow, i === 0));
  return `SELECT * FROM ${rowsRelation(d, RAW_COLUMNS, rendered, 'v')}`;
}

/** AdReportStore over any Engine (DuckDB in tests and locally). */
export class EngineAdReportStore implements AdReportStore {
  constructor(
    private readonly engine: Engine,
    private readonly table: string = AD_REPORTS_TABLE,
  ) {}

  async replacePartition(key: AdPartitionKey, rows: readonly AdReportRow[]): Promise<{ rowCount: number }> {
    for (const r of rows) {
      if (r.date !== key.date || r.platform !== key.platform || r.account_id !== key.account_id) {
        throw new Error(`row ${r.campaign_id}@${r.date} does not belong to partition ${adPartitionKey(key)}`);
      }
    }
    const d = engineDialect(this.engine);
    if (d.name === 'trino') return this.replaceOnTrino(d, key, rows);
    const res = await this.engine.replacePartition({
      table: this.table,
      partition: {
        type: 'values',
        values: { date: key.date, platform: key.platform, account_id: key.account_id },
      },
      selectSql: this.engine.name === 'duckdb' ? renderAdRowsSelect(rows) : renderAdRowsSelectFor(d, rows),
    });
    return { rowCount: res.rowCount };
  }

  /**
   * Trino compares no DATE column with a string, which the engine's `values` partition predicate renders: the
   * replace is written here as the engine's own (trino-write.ts), one MERGE and so one Iceberg commit: a marker
   * row matches the partition's old rows (deleted), the new rows match nothing (inserted).
   */
  private async replaceOnTrino(
    d: SqlDialect,
    key: AdPartitionKey,
    rows: readonly AdReportRow[],
  ): Promise<{ rowCount: number }> {
    const ref = d.tableRef(this.table);
    const q = (c: string): string => d.quote(c);
    const defs = RAW_COLUMNS.map((c) => `${q(c.name)} ${columnSqlType(d, c.type)}`).join(', ');
    await this.engine.execute(d.createSchema(ref.schema));
    await this.engine.execute(`CREATE TABLE IF NOT EXISTS ${d.table(ref)} (${defs})`);
    const names = RAW_COLUMNS.map((c) => q(c.name));
    const marker = q('__tessera_del');
    const source =
      `SELECT s.*, FALSE AS ${marker} FROM (${renderAdRowsSelectFor(d, rows)}) AS s ` +
      `UNION ALL SELECT ${RAW_COLUMNS.map((c) => `CAST(NULL AS ${columnSqlType(d, c.type)})`).join(', ')}, TRUE`;
    const partition =
      `t.${q('date')} = ${d.dateLiteral(key.date)} AND t.${q('platform')} = ${d.literal(key.platform)} ` +
      `AND t.${q('account_id')} = ${d.literal(key.account_id)}`;
    await this.engine.query(
      `MERGE INTO ${d.table(ref)} AS t USING (${source}) AS s ON s.${marker} AND ${partition} ` +
        `WHEN MATCHED THEN DELETE WHEN NOT MATCHED AND NOT s.${marker} THEN ` +
        `INSERT (${names.join(', ')}) VALUES (${names.map((n) => `s.${n}`).join(', ')})`,
    );
    return { rowCount: rows.length };
  }
}
