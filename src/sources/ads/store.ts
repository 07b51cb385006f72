import type { Engine } from '../../engines/types.js';
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
    const res = await this.engine.replacePartition({
      table: this.table,
      partition: {
        type: 'values',
        values: { date: key.date, platform: key.platform, account_id: key.account_id },
      },
      selectSql: renderAdRowsSelect(rows),
    });
    return { rowCount: res.rowCount };
  }
}
