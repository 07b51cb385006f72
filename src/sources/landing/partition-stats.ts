import type { Engine } from '../../engines/index.js';
import { SNOWPLOW_EVENTS_TABLE } from '../snowplow/schema.js';
import type { IngestResult, WatermarkReport } from '../types.js';

/**
 * Row count and a content version of one partition of an append-only raw table: rows are never updated and
 * land deduplicated by their natural key, so the count and the key range identify the partition's content.
 */
export async function partitionStats(
  engine: Engine,
  opts: {
    table: string;
    where: string;
    params: readonly (string | number)[];
    key: string;
    partition: NonNullable<IngestResult['partition']>;
  },
  watermark?: WatermarkReport,
): Promise<IngestResult> {
  const exists = await engine.describeTable(opts.table);
  if (!exists) return { rowCount: 0, dataVersion: 'empty', ...(watermark ? { watermark } : {}) };
  const [r] = await engine.query<{ n: number | string; lo: string | null; hi: string | null }>(
    `SELECT count(*) AS n, min(CAST(${opts.key} AS VARCHAR)) AS lo, max(CAST(${opts.key} AS VARCHAR)) AS hi FROM ${opts.table} WHERE ${opts.where}`,
    opts.params,
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

/** Rows of `table` whose timestamp `column` lies in the window, identified by `key`. */
function windowStats(
  engine: Engine,
  table: string,
  column: string,
  key: string,
  w: StatsWindow,
  watermark?: WatermarkReport,
): Promise<IngestResult> {
  return partitionStats(
    engine,
    {
      table,
      where: `${column} >= CAST(? AS TIMESTAMPTZ) AND ${column} < CAST(? AS TIMESTAMPTZ)`,
      params: [w.start, w.end],
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
  return windowStats(engine, table, '_commit_time', `_lsn || ':' || CAST(_seq AS VARCHAR)`, w, watermark);
}

/** An hour of `raw.snowplow_events` by event time, whichever transport landed it. */
export function snowplowWindowStats(
  engine: Engine,
  w: StatsWindow,
  watermark?: WatermarkReport,
): Promise<IngestResult> {
  return windowStats(engine, SNOWPLOW_EVENTS_TABLE, 'derived_tstamp', 'event_id', w, watermark);
}
