/**
 * Portable SQL macros on every engine whose server is up here (registry testConfig: DuckDB always; Trino,
 * Spark and the BigQuery emulator when their services run): each engine's own dialect renders the same
 * template, and the answers must be the same, NULLs included. Values travel as text so each engine's
 * value mapping stays out of the comparison.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src/engines/dialect/template.js';
import type { Engine } from '../../src/engines/index.js';
import { availableTestEngines, ENGINES } from '../../src/engines/registry.js';

const ts = (v: string | null): string =>
  v === null ? 'CAST(NULL AS {{ t.timestamp }})' : `TIMESTAMP '${v}'`;
const text = (v: string | null): string => (v === null ? 'CAST(NULL AS {{ t.text }})' : `'${v}'`);
const int = (v: number | null): string =>
  v === null ? 'CAST(NULL AS {{ t.bigint }})' : `CAST(${v} AS {{ t.bigint }})`;

/** Rows as UNION ALL of SELECTs: BigQuery has no VALUES table. */
const ROWS: readonly [string, string | null, string | null, boolean, number | null][] = [
  ['g1', null, '2026-11-02 00:00:01', true, 5],
  ['g1', 'b', '2026-11-02 00:00:02', false, 7],
  ['g1', 'c', '2026-11-02 00:00:03', true, 11],
  ['g1', null, '2026-11-02 00:00:04', true, 13],
  ['g1', 'z', null, true, null],
  ['g2', null, '2026-11-02 00:00:01', false, 17],
  ['g2', 'y', null, false, 19],
];
const rows = ROWS.map(
  ([g, v, at, ok, n]) =>
    `SELECT ${text(g)} AS g, ${text(v)} AS v, ${ts(at)} AS ts, ${ok ? 'TRUE' : 'FALSE'} AS ok, ${int(n)} AS n`,
).join(' UNION ALL ');

const asText = (expr: string): string => `CAST(${expr} AS {{ t.text }})`;

const AGGREGATES = `SELECT g, ${asText('{{ arg_min(v, ts) }}')} AS first_v, ${asText('{{ arg_max(v, ts) }}')} AS last_v,
    ${asText('{{ count_if(ok) }}')} AS oks, ${asText('{{ sum_if(n, ok) }}')} AS ok_sum,
    ${asText('{{ count_distinct_if(v, ok) }}')} AS ok_vs
  FROM (${rows}) AS t GROUP BY g ORDER BY g`;

const yes = (cond: string): string => `CASE WHEN ${cond} THEN 'yes' ELSE 'no' END`;
const SCALARS = `SELECT ${asText(`{{ date_diff_days(DATE '2026-11-02', DATE '2026-10-30') }}`)} AS back,
    ${asText(`{{ date_diff_days(DATE '2026-02-27', DATE '2026-03-01') }}`)} AS forward,
    ${yes(`{{ add_minutes(TIMESTAMP '2026-11-02 00:10:00.000250', -30) }} = TIMESTAMP '2026-11-01 23:40:00.000250'`)} AS earlier,
    ${yes(`{{ add_minutes(TIMESTAMP '2026-11-02 23:50:00', 30) }} = TIMESTAMP '2026-11-03 00:20:00'`)} AS later,
    {{ format_timestamp(TIMESTAMP '2026-01-02 03:04:05.890', '%Y%m%d%H%M%S') }} AS compact,
    {{ format_timestamp(TIMESTAMP '2026-11-02 13:14:15', 'day %Y-%m-%d, %H:%M') }} AS spaced,
    {{ format_day(TIMESTAMP '2026-12-31 23:59:59.999999') }} AS day`;

const EXPECTED_AGGREGATES = [
  { g: 'g1', first_v: 'b', last_v: 'c', oks: '4', ok_sum: '29', ok_vs: '2' },
  { g: 'g2', first_v: null, last_v: null, oks: '0', ok_sum: null, ok_vs: '0' },
];
const EXPECTED_SCALARS = [
  {
    back: '-3',
    forward: '2',
    earlier: 'yes',
    later: 'yes',
    compact: '20260102030405',
    spaced: 'day 2026-11-02, 13:14',
    day: '2026-12-31',
  },
];

const available = await availableTestEngines();

describe.each(available.map((a) => [a.type, a] as const))('portable macros on %s', (type, registration) => {
  let engine: Engine | undefined;
  const dialect = ENGINES[type].dialect;
  const run = async (sql: string) =>
    (await (engine as Engine).query(renderTemplate(dialect, sql, {}))).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])),
    );

  beforeAll(async () => {
    engine = await registration.create();
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('aggregates: NULL values and orders left out, empty conditions give 0 (count) and NULL (sum)', async () => {
    expect(await run(AGGREGATES)).toEqual(EXPECTED_AGGREGATES);
  }, 120_000);

  it('dates, minutes and formats', async () => {
    expect(await run(SCALARS)).toEqual(EXPECTED_SCALARS);
  }, 120_000);
});
