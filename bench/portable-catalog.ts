/**
 * Portable catalog check: BookMyEvent's asset SQL (and SQL checks) run unchanged on every engine whose server is
 * up, against the same inputs, and must give DuckDB's rows. The inputs are the tables the SQL reads, copied from
 * a demo warehouse (`bash scripts/demo.sh --days 3 --scale small` leaves one) into each engine's scratch
 * instance (registry testConfig: a throwaway catalog or emulator); each asset's SQL is rendered by the engine's
 * own dialect for one partition. Prints, per engine, the load time and per asset: identical, different (with
 * rows found on one side only) or failed (with the engine's message).
 *
 *   npx tsx bench/portable-catalog.ts [--warehouse .state/demo/warehouse.duckdb] [--partition 2026-11-02]
 *                                    [--engines trino,spark,bigquery]
 *
 * Experiments assets are left out (their SQL is generated per dialect by src/experiments). Doubles are compared
 * to 10 significant digits, timestamps to the millisecond. Snowplow events are copied for the partition's day
 * and the hour before (what the clickstream assets read), and only the columns the catalog reads.
 */
import { parseArgs } from 'node:util';
import { bookMyEvent } from '../src/assets/index.js';
import { renderTemplate } from '../src/engines/dialect/template.js';
import type { SqlDialect } from '../src/engines/dialect/dialect.js';
import { createDuckDbEngine, type Engine } from '../src/engines/index.js';
import { availableTestEngines, ENGINES, type EngineType } from '../src/engines/registry.js';

const { values: args } = parseArgs({
  options: {
    warehouse: { type: 'string', default: '.state/demo/warehouse.duckdb' },
    partition: { type: 'string', default: '2026-11-02' },
    engines: { type: 'string' },
  },
});
const day = args.partition;
const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const ctx = {
  partitionKey: day,
  partitionStart: `${day}T00:00:00Z`,
  partitionEnd: `${next}T00:00:00Z`,
  this: 'reporting.mart_daily_revenue',
};

const SNOWPLOW_COLUMNS = new Set([
  'event_id',
  'derived_tstamp',
  'domain_userid',
  'user_id',
  'domain_sessionid',
  'page_urlpath',
  'listing_id',
  'mkt_source',
  'mkt_medium',
  'mkt_campaign',
  'event_name',
  'se_action',
]);

interface Statement {
  readonly name: string;
  readonly sql: string;
}

const statements: Statement[] = bookMyEvent.assets
  .filter((a) => a.group !== 'experiments')
  .flatMap((a) => [
    ...(a.sql ? [{ name: a.key, sql: a.sql }] : []),
    ...a.checks.flatMap((c) => (c.type === 'sql' ? [{ name: `${a.key} check ${c.name}`, sql: c.sql }] : [])),
  ]);

/** Tables the statements read (`from`/`join` a catalog schema), plus the checked table. */
function inputTables(): string[] {
  const tables = new Set([ctx.this]);
  for (const { sql } of statements) {
    for (const m of sql.matchAll(/\b(?:from|join)\s+((?:raw|core|clickstream|marketing|reporting)\.\w+)/gi))
      if (m[1]) tables.add(m[1]);
  }
  return [...tables].sort();
}

/** A DuckDB column type as the target's type name, or undefined for types the catalog SQL never reads. */
function targetType(d: SqlDialect, duckType: string): string | undefined {
  const t = d.portable.types;
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(duckType)) return t.bigint;
  if (duckType === 'VARCHAR') return t.text;
  if (duckType === 'DOUBLE' || duckType === 'FLOAT') return t.double;
  if (duckType === 'BOOLEAN') return t.boolean;
  if (duckType === 'DATE') return t.date;
  if (duckType.startsWith('TIMESTAMP')) return t.timestamp;
  const dec = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType);
  // BigQuery's NUMERIC keeps 9 decimals; the catalog's rates need fewer.
  if (dec) return d.types.decimal(Number(dec[1]), Math.min(Number(dec[2]), 9));
  return undefined;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v).replace(' ', 'T'));

function literal(d: SqlDialect, duckType: string, type: string, v: unknown): string {
  if (v === null || v === undefined) return `CAST(NULL AS ${type})`;
  if (duckType.startsWith('TIMESTAMP')) return d.timestampLiteral(iso(v));
  if (duckType === 'DATE') return `DATE '${iso(v).slice(0, 10)}'`;
  if (duckType === 'VARCHAR') return d.literal(String(v));
  if (duckType === 'BOOLEAN') return d.literal(v === true);
  return `CAST(${d.literal(String(v as number))} AS ${type})`;
}

/** Copies `table` from DuckDB into the target; BigQuery has no VALUES table, so it gets an array of structs. */
async function copyTable(duck: Engine, target: Engine, type: EngineType, table: string): Promise<number> {
  const d = ENGINES[type].dialect;
  const described = await duck.query(`DESCRIBE ${table}`);
  const columns = described.flatMap((c) => {
    const name = String(c['column_name']);
    const duckType = String(c['column_type']);
    const t = targetType(d, duckType);
    const snowplow = table === 'raw.snowplow_events';
    return t && (!snowplow || SNOWPLOW_COLUMNS.has(name)) ? [{ name, duckType, type: t }] : [];
  });
  const where =
    table === 'raw.snowplow_events'
      ? ` WHERE derived_tstamp >= TIMESTAMP '${day} 00:00:00' - INTERVAL 1 HOUR AND derived_tstamp < TIMESTAMP '${next} 00:00:00'`
      : '';
  const rows = await duck.query(
    `SELECT ${columns.map((c) => `"${c.name}"`).join(', ')} FROM ${table}${where}`,
  );
  const values = (r: Record<string, unknown>) =>
    columns.map((c) => literal(d, c.duckType, c.type, r[c.name]));
  const names = columns.map((c) => d.quote(c.name));
  const selectSql =
    rows.length === 0
      ? `SELECT ${columns.map((c, i) => `CAST(NULL AS ${c.type}) AS ${names[i] ?? ''}`).join(', ')} FROM (SELECT 1 AS one) AS e WHERE 1 = 0`
      : type === 'bigquery'
        ? `SELECT * FROM UNNEST([${rows
            .map(
              (r) =>
                `STRUCT(${values(r)
                  .map((v, i) => `${v} AS ${names[i] ?? ''}`)
                  .join(', ')})`,
            )
            .join(',\n')}])`
        : `SELECT * FROM (VALUES ${rows.map((r) => `(${values(r).join(', ')})`).join(',\n')}) AS v(${names.join(', ')})`;
  await target.replaceTable({ table, selectSql });
  return rows.length;
}

function normalized(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number(v.toPrecision(10));
  if (v instanceof Date) return v.toISOString().slice(0, 23);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(v)) {
    const t = Date.parse(
      v
        .replace(' ', 'T')
        .replace(/(\.\d{3})\d+/, '$1')
        .replace(/( UTC|\+00:?00|Z)?$/, 'Z'),
    );
    return Number.isNaN(t) ? v : new Date(t).toISOString().slice(0, 23);
  }
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(Number(v).toPrecision(10));
  return typeof v === 'boolean' ? v : String(v);
}

const rowKeys = (rows: readonly Record<string, unknown>[]): string[] =>
  rows.map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, normalized(v)]))).sort();

async function main(): Promise<void> {
  const wanted = args.engines?.split(',');
  const engines = (await availableTestEngines()).filter(
    (e) => e.type !== 'duckdb' && (!wanted || wanted.includes(e.type)),
  );
  const duck = await createDuckDbEngine({ type: 'duckdb', path: args.warehouse, readOnly: true });
  try {
    const expected = new Map<string, string[]>();
    for (const s of statements)
      expected.set(s.name, rowKeys(await duck.query(renderTemplate(ENGINES.duckdb.dialect, s.sql, ctx))));
    for (const { type, create } of engines) {
      const target = await create();
      try {
        const started = performance.now();
        let rows = 0;
        for (const table of inputTables()) {
          try {
            rows += await copyTable(duck, target, type, table);
          } catch (e) {
            // The statements reading it then fail, naming the missing table.
            console.log(
              `  NOT COPIED ${table}: ${(e as Error).message.split('\n').slice(0, 2).join(' ').slice(0, 300)}`,
            );
          }
        }
        console.log(
          `\n${type}: ${rows} input rows copied in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
        let same = 0;
        for (const s of statements) {
          const want = expected.get(s.name) ?? [];
          let got: string[];
          try {
            got = rowKeys(await target.query(renderTemplate(ENGINES[type].dialect, s.sql, ctx)));
          } catch (e) {
            console.log(
              `  FAILED    ${s.name}: ${(e as Error).message.split('\n').slice(0, 2).join(' ').slice(0, 300)}`,
            );
            continue;
          }
          if (JSON.stringify(want) === JSON.stringify(got)) {
            same++;
            console.log(`  identical ${s.name} (${want.length} rows)`);
            continue;
          }
          const [w, g] = [new Set(want), new Set(got)];
          console.log(`  DIFFERENT ${s.name}: ${want.length} rows on duckdb, ${got.length} on ${type}`);
          console.log(
            `    duckdb only: ${want
              .filter((x) => !g.has(x))
              .slice(0, 2)
              .join(' ')}`,
          );
          console.log(
            `    ${type} only: ${got
              .filter((x) => !w.has(x))
              .slice(0, 2)
              .join(' ')}`,
          );
        }
        console.log(`${type}: ${same}/${statements.length} statements give DuckDB's rows`);
      } finally {
        await target.close();
      }
    }
  } finally {
    await duck.close();
  }
}

await main();
