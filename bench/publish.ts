/**
 * What one publication costs as history grows: a mart of DAYS daily partitions (ROWS rows each) is published day
 * by day; prints, at a few points, the time of one day's publish (createVersionedTable + flip) and the rows it
 * wrote, next to a whole-table copy of the same build table (what publishing did before manifests).
 *   npx tsx bench/publish.ts [--days 90] [--rows 2000]
 */
import { performance } from 'node:perf_hooks';
import { createDuckDbEngine } from '../src/engines/index.js';

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const DAYS = Number(flag('--days') ?? 90);
const ROWS = Number(flag('--rows') ?? 2000);

const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
const day = (i: number): string => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
await engine.execute(
  `CREATE SCHEMA marts; CREATE TABLE marts.revenue__build AS SELECT r AS id, d AS n, (r * 7 + d) % 1000 AS amount, ` +
    `strftime(DATE '2026-01-01' + d::INT, '%Y-%m-%d') AS _partition_key FROM range(${DAYS}) AS t(d), range(${ROWS}) AS u(r)`,
);
const points = new Set([1, Math.round(DAYS / 4), Math.round(DAYS / 2), DAYS]);
const out: Record<string, unknown>[] = [];
for (let i = 0; i < DAYS; i++) {
  const key = day(i);
  const t0 = performance.now();
  const r = await engine.createVersionedTable({
    assetKey: 'marts.revenue',
    version: `v${i}`,
    selectSql: `SELECT * FROM marts.revenue__build WHERE _partition_key = '${key}'`,
    partitions: { column: '_partition_key', keys: [key] },
  });
  await engine.flipPublishGroup({ group: 'finance', tables: { 'marts.revenue': r.table } });
  const publishMs = performance.now() - t0;
  if (!points.has(i + 1)) continue;
  const t1 = performance.now();
  await engine.execute(
    `CREATE OR REPLACE TABLE marts.whole_copy AS SELECT * FROM marts.revenue__build WHERE _partition_key <= '${key}'`,
  );
  const copyMs = performance.now() - t1;
  const t2 = performance.now();
  const [served] = await engine.query('SELECT count(*)::BIGINT AS n FROM marts.revenue');
  const readMs = performance.now() - t2;
  out.push({
    publishedDays: i + 1,
    publishMs: Math.round(publishMs),
    rowsWritten: r.partitions[key]?.rowCount,
    wholeCopyMs: Math.round(copyMs),
    wholeCopyRows: (i + 1) * ROWS,
    servedRows: Number(served?.['n']),
    countViaViewMs: Math.round(readMs),
  });
}
console.table(out);
await engine.close();
