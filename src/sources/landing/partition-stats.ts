import type { Engine } from '../../engines/index.js';
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
