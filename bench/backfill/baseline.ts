/**
 * The backfill's baseline: the SQL of every step, rendered as the materialize activity renders it
 * (src/activities/materialize.ts), run in the given order on ONE DuckDB connection, each step in one transaction.
 * No Temporal, no ledger, no checks and none of the engine's bookkeeping (staging table, out-of-partition count,
 * schema evolution, fingerprints, the SCD2 state table and validation counts): only the writes a careful
 * hand-written script would make, with Tessera's own rendering so both build the same tables.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { AssetDefinition, ComputeContext, Definitions } from '../../src/dsl/index.js';
import { computeResultSql } from '../../src/activities/compute.js';
import { singleQuery } from '../../src/activities/query.js';
import { partitionFacts, snapshotInstant, type PartitionFacts } from '../../src/activities/step-context.js';
import { buildTable, PARTITION_COLUMN } from '../../src/activities/tables.js';
import { SCD2_LOG_LATE_WINDOW_SECONDS } from '../../src/activities/materialize.js';
import { renderTemplate, type SqlDialect } from '../../src/engines/index.js';
import { renderScd2, type Scd2ChangeSource } from '../../src/engines/dialect/scd2.js';
import { scd2Columns } from '../../src/engines/dialect/scd2-names.js';
import { renderSnapshotAsOf } from '../../src/engines/dialect/snapshot.js';
import { duckdbDialect } from '../../src/engines/duckdb/duckdb-dialect.js';
import { tesseraValueConverter } from '../../src/engines/duckdb/duckdb-values.js';
import type { Row } from '../../src/engines/types.js';

const d = duckdbDialect;

export interface BaselineStep {
  readonly assetKey: string;
  readonly partitionKey: string;
}

export interface BaselineResult {
  readonly seconds: number;
  /** Seconds per step, in the order run. */
  readonly steps: readonly (BaselineStep & { readonly kind: string; readonly seconds: number })[];
}

async function query(c: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await c.runAndReadAll(sql);
  return reader.convertRowObjects(tesseraValueConverter) as Row[];
}

export async function runBaseline(opts: {
  readonly path: string;
  readonly definitions: Definitions;
  readonly steps: readonly BaselineStep[];
}): Promise<BaselineResult> {
  const instance = await DuckDBInstance.create(opts.path);
  const c = await instance.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'`);
    // Which tables exist, read once before the clock starts: the script knows what it created since.
    const existing = new Set(
      (await query(c, `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables`)).map(
        (r) => String(r['t']),
      ),
    );
    const results: (BaselineStep & { kind: string; seconds: number })[] = [];
    const t0 = performance.now();
    for (const step of opts.steps) {
      const asset = opts.definitions.asset(step.assetKey);
      const s0 = performance.now();
      await c.run('BEGIN TRANSACTION');
      await runStep(
        c,
        opts.definitions,
        asset,
        partitionFacts(asset.partitions, step.partitionKey),
        existing,
      );
      await c.run('COMMIT');
      results.push({ ...step, kind: asset.kind, seconds: (performance.now() - s0) / 1000 });
    }
    return { seconds: (performance.now() - t0) / 1000, steps: results };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function runStep(
  c: DuckDBConnection,
  defs: Definitions,
  asset: AssetDefinition,
  facts: PartitionFacts,
  existing: Set<string>,
): Promise<void> {
  const table = buildTable(asset);
  const schema = table.slice(0, table.indexOf('.'));
  if (asset.ingest) throw new Error(`${asset.key}: the baseline runs no ingestion (raw is landed before)`);
  if (asset.kind === 'scd2') return scd2FromLog(c, defs, asset, existing);
  const select = await selectFor(d, defs, asset, facts, (sql) => query(c, sql));
  const t = d.table(table);
  if (asset.partitions === undefined) {
    await c.run(`CREATE SCHEMA IF NOT EXISTS ${d.quote(schema)}`);
    await c.run(`CREATE OR REPLACE TABLE ${t} AS ${select}`);
    existing.add(table);
    return;
  }
  if (!existing.has(table)) {
    await c.run(`CREATE SCHEMA IF NOT EXISTS ${d.quote(schema)}`);
    await c.run(`CREATE TABLE ${t} AS ${tagged(d, facts, select)}`);
    existing.add(table);
    return;
  }
  await c.run(`DELETE FROM ${t} WHERE ${d.quote(PARTITION_COLUMN)} = ${d.literal(facts.partitionKey)}`);
  await c.run(`INSERT INTO ${t} BY NAME ${tagged(d, facts, select)}`);
}

/**
 * A step's SELECT as the activity renders it (src/activities/materialize.ts `write`): the asset's compute
 * function's rows, a snapshot cut from its SCD2 history, or the asset's SQL template. `read` runs the compute
 * function's queries.
 */
export async function selectFor(
  dialect: SqlDialect,
  defs: Definitions,
  asset: AssetDefinition,
  facts: PartitionFacts,
  read: (sql: string) => Promise<Row[]>,
): Promise<string> {
  if (asset.compute) {
    const ctx: ComputeContext = {
      assetKey: asset.key,
      partitionKey: facts.partitionKey,
      ...(facts.window ? { window: facts.window } : {}),
      ...(facts.dimensions ? { dimensions: facts.dimensions } : {}),
      query: (sql) => read(`SELECT * FROM (\n${singleQuery(sql)}\n) AS tessera_compute`),
    };
    return computeResultSql(dialect, await asset.compute(ctx));
  }
  if (asset.kind === 'snapshot') {
    const from = defs.asset(asset.snapshot?.from ?? '');
    if (!facts.window) throw new Error(`${asset.key}: a snapshot needs a time partition`);
    return renderSnapshotAsOf(dialect, {
      scd2Table: buildTable(from),
      asOf: snapshotInstant(facts.window.end),
      ...(from.scd2?.columnNames ? { columnNames: from.scd2.columnNames } : {}),
    });
  }
  if (!asset.sql) throw new Error(`${asset.key} has no sql`);
  return renderTemplate(dialect, asset.sql, {
    partitionKey: facts.partitionKey,
    ...(facts.window ? { partitionStart: facts.window.start, partitionEnd: facts.window.end } : {}),
    ...(facts.dimensions ? { partition: facts.dimensions } : {}),
  });
}

/** A partitioned asset's select with its `_partition_key`, as the activity tags it. */
export const tagged = (dialect: SqlDialect, facts: PartitionFacts, selectSql: string): string =>
  `SELECT q.*, ${dialect.literal(facts.partitionKey)} AS ${dialect.quote(PARTITION_COLUMN)} FROM (${selectSql}) AS q`;

/**
 * An `scd2` asset's change-log merge, with the renderer's statements and none of the engine's bookkeeping: the
 * high-water mark is the target's greatest stored ordering value (no state table), no validation counts.
 */
async function scd2FromLog(
  c: DuckDBConnection,
  defs: Definitions,
  asset: AssetDefinition,
  existing: Set<string>,
): Promise<void> {
  const o = asset.scd2;
  if (!o) throw new Error(`${asset.key} has no scd2 options`);
  if ((o.strategy ?? 'log') !== 'log') throw new Error(`${asset.key}: the baseline merges change logs only`);
  const target = buildTable(asset);
  const names = scd2Columns(o.columnNames);
  const r = renderScd2(d, { target, businessKey: o.businessKey, tracked: o.tracked, names });
  const src: Scd2ChangeSource = {
    relation: d.relation(
      `SELECT *, ${d.quote('_lsn')} || lpad(CAST(${d.quote('_seq')} AS ${d.portable.types.text}), 20, '0') AS ${d.quote('_pos')} FROM ${d.table(buildTable(defs.asset(o.source)))}`,
    ),
    orderBy: '_pos',
    commitTime: '_commit_time',
    op: '_op',
  };
  let lsn: string | null = null;
  let vf: string | null = null;
  let vfType = 'TIMESTAMPTZ';
  if (!existing.has(target)) {
    await c.run(`CREATE SCHEMA IF NOT EXISTS ${d.quote(target.slice(0, target.indexOf('.')))}`);
    await c.run(r.createTarget(src));
    existing.add(target);
  } else {
    const [w] = await query(
      c,
      `SELECT CAST(max(${d.quote(names.sourceOrder)}) AS VARCHAR) AS lsn, CAST(max(${d.quote(names.validFrom)}) AS VARCHAR) AS vf, typeof(max(${d.quote(names.validFrom)})) AS vt FROM ${d.table(target)}`,
    );
    vfType = String(w?.['vt'] ?? vfType);
    lsn = w?.['lsn'] === null || w?.['lsn'] === undefined ? null : String(w['lsn']);
    vf = w?.['vf'] === null || w?.['vf'] === undefined ? null : String(w['vf']);
  }
  await c.run(
    r.stageChanges(src, {
      lsn,
      orderType: 'VARCHAR',
      ...(vf !== null
        ? {
            commitSince: d.portable.addMinutes(
              `CAST(${d.literal(vf)} AS ${vfType})`,
              -Math.ceil(SCD2_LOG_LATE_WINDOW_SECONDS / 60),
            ),
          }
        : {}),
    }),
  );
  await c.run(r.stageCurrent());
  const [t] = await query(c, r.countTies());
  const ties = Number(t?.['ties'] ?? 0) > 0;
  await c.run(r.deriveVersions(ties));
  await c.run(r.closeCurrent());
  if (ties) await c.run(r.deleteTieKeys());
  await c.run(r.insertVersions());
  for (const s of r.cleanup()) await c.run(s);
}
