import type { SqlDialect } from '../../engines/dialect/dialect.js';
import type { Engine } from '../../engines/index.js';
import { engineDialect } from '../sinks/sql-rows.js';
import { timestampSql } from '../sinks/sql-rows.js';
import { SNOWPLOW_EVENTS_TABLE } from '../snowplow/schema.js';
import type { IngestResult, WatermarkReport } from '../types.js';

/**
 * Row count and a content version of one partition of an append-only raw table: rows are never updated and
 * land deduplicated by their natural key, so the count and the key range identify the partition's content.
 * The filter and the key are rendered in the engine's dialect (literals, not parameters: see sql-rows.ts).
 */
export async function partitionStats(
  engine: Engine,
  opts: {
    table: string;
    /** Boolean SQL selecting the partition's rows. */
    where: (d: SqlDialect) => string;
    /** The rows' key as an expression (cast to text for its range). */
    key: (d: SqlDialect) => string;
    partition: NonNullable<IngestResult['partition']>;
  },
  watermark?: WatermarkReport,
): Promise<IngestResult> {
  const exists = await engine.describeTable(opts.table);
  if (!exists) return { rowCount: 0, dataVersion: 'empty', ...(watermark ? { watermark } : {}) };
  const d = engineDialect(engine);
  const key = `CAST(${opts.key(d)} AS ${d.portable.types.text})`;
  const [r] = await engine.query<{ n: number | string; lo: string | null; hi: string | null }>(
    `SELECT count(*) AS ${d.quote('n')}, min(${key}) AS ${d.quote('lo')}, max(${key}) AS ${d.quote('hi')} ` +
      `FROM ${d.table(opts.table)} WHERE ${opts.where(d)}`,
  );
  const n = Number(r?.n ?? 0);
  return {
    partition: opts.partition,
    rowCount: n,
    dataVersion: n === 0 ? 'empty' : `${n}:${r?.lo ?? ''}:${r?.hi ?? ''}`,
    ...(watermark ? { watermark } : {}),
  };
}

/** A time window of a raw table, as `IngestRequest.window` gives it (ISO-8601 UTC). */
export interface StatsWindow {
  readonly start: string;
  readonly end: string;
}

/** An instant compared with a raw timestamp column (DuckDB's are TIMESTAMPTZ; elsewhere UTC timestamps). */
const instant = (d: SqlDialect, iso: string): string =>
  d.name === 'duckdb' ? `CAST(${d.literal(iso)} AS TIMESTAMPTZ)` : timestampSql(d, iso);

/** Rows of `table` whose timestamp `column` lies in the window, identified by `key`. */
function windowStats(
  engine: Engine,
  table: string,
  column: string,
  key: (d: SqlDialect) => string,
  w: StatsWindow,
  watermark?: WatermarkReport,
): Promise<IngestResult> {
  return partitionStats(
    engine,
    {
      table,
      where: (d) =>
        `${d.quote(column)} >= ${instant(d, w.start)} AND ${d.quote(column)} < ${instant(d, w.end)}`,
      key,
      partition: { type: 'window', column, start: w.start, end: w.end },
    },
    watermark,
  );
}

/** A day of a CDC change log (`raw.<db>_<table>_changes`) by commit time, whichever transport landed it. */
export function changeLogWindowStats(
  engine: Engine,
  table: string,
  w: StatsWindow,
  watermark?: WatermarkReport,
): Promise<IngestResult> {
  return windowStats(
    engine,
    table,
    '_commit_time',
    (d) => `${d.quote('_lsn')} || ':' || CAST(${d.quote('_seq')} AS ${d.portable.types.text})`,
    w,
    watermark,
  );
}

/** An hour of `raw.snowplow_events` by event time, whichever transport landed it. */
export function snowplowWindowStats(
  engine: Engine,
  w: StatsWindow,
  watermark?: WatermarkReport,
): Promise<IngestResult> {
  return windowStats(
    engine,
    SNOWPLOW_EVENTS_TABLE,
    'derived_tstamp',
    (d) => d.quote('event_id'),
    w,
    watermark,
  );
}
