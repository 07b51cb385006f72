/**
 * bench/backfill.ts on Trino over Iceberg (`--engine trino`): the worker writes one throwaway Iceberg catalog,
 * the baseline another that starts as a copy of the worker's raw tables. Both catalogs are created through the
 * engine's `isolated` option (same JDBC catalog database, own name and warehouse folder) and dropped at the end.
 *
 * The baseline runs each step's SQL through one Trino client, statement after statement: a partition is a
 * DELETE and an INSERT (two Iceberg commits), an unpartitioned table CREATE OR REPLACE. An SCD2 step is the
 * engine's own merge (Trino has no UPDATE … FROM, so the merge is the engine's single-commit MERGE: its
 * validation statements are in the baseline's figure, which makes the ratio smaller than a bare MERGE would).
 */
import { createHash } from 'node:crypto';
import { createTrinoEngine, type TrinoEngine } from '../../src/engines/trino/trino-engine.js';
import type { Definitions } from '../../src/dsl/index.js';
import { partitionFacts } from '../../src/activities/step-context.js';
import { buildTable, PARTITION_COLUMN } from '../../src/activities/tables.js';
import { SCD2_LOG_LATE_WINDOW_SECONDS } from '../../src/activities/materialize.js';
import { selectFor, tagged, type BaselineResult, type BaselineStep } from './baseline.js';
import type { TableHashes } from './hash.js';

const need = (name: string): string => {
  const v = process.env[name];
  if (!v)
    throw new Error(`${name} is not set: source the lakehouse environment (scripts/services/trino.sh start)`);
  return v;
};

export interface TrinoSide {
  /** The worker's catalog (its config names it) and the baseline's. */
  readonly workerCatalog: string;
  readonly url: string;
  copyRaw(): Promise<void>;
  baseline(defs: Definitions, steps: readonly BaselineStep[]): Promise<BaselineResult>;
  hashes(which: 'worker' | 'baseline', exclude: (table: string) => boolean): Promise<TableHashes>;
  close(): Promise<void>;
}

async function catalogOf(engine: TrinoEngine): Promise<string> {
  const [row] = await engine.query<{ c: string }>('SELECT current_catalog AS c');
  if (!row?.c) throw new Error('Trino did not name the session catalog');
  return row.c;
}

export async function openTrinoSide(): Promise<TrinoSide> {
  const url = process.env.TESSERA_TRINO_URL ?? 'http://127.0.0.1:58080';
  const isolated = {
    jdbcUrl: need('TESSERA_LAKEHOUSE_JDBC_URL'),
    warehouse: need('TESSERA_LAKEHOUSE_WAREHOUSE'),
  };
  // Two engines on one config: each gets a throwaway catalog of its own (the worker's side and the baseline's).
  const open = () =>
    createTrinoEngine({
      type: 'trino',
      url,
      catalog: 'iceberg',
      user: 'tessera',
      isolated,
      staging: { catalog: 'memory', schema: 'tessera_staging' },
    });
  const w = await open();
  const b = await open();
  const [wc, bc] = [await catalogOf(w), await catalogOf(b)];
  const q = (x: string): string => w.dialect.quote(x);
  const tablesOf = async (catalog: string): Promise<{ schema: string; name: string }[]> =>
    (
      await w.query<{ s: string; t: string }>(
        `SELECT table_schema AS s, table_name AS t FROM ${q(catalog)}.information_schema.tables ` +
          `WHERE table_schema <> 'information_schema' AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
      )
    ).map((r) => ({ schema: r.s, name: r.t }));

  return {
    workerCatalog: wc,
    url,
    async copyRaw() {
      for (const t of (await tablesOf(wc)).filter((x) => x.schema === 'raw')) {
        await b.execute(`CREATE SCHEMA IF NOT EXISTS ${q(bc)}.${q(t.schema)}`);
        await b.execute(
          `CREATE TABLE ${q(bc)}.${q(t.schema)}.${q(t.name)} AS SELECT * FROM ${q(wc)}.${q(t.schema)}.${q(t.name)}`,
        );
      }
    },
    async baseline(defs, steps) {
      const d = b.dialect;
      const existing = new Set((await tablesOf(bc)).map((t) => `${t.schema}.${t.name}`));
      const out: (BaselineStep & { kind: string; seconds: number })[] = [];
      const t0 = performance.now();
      for (const step of steps) {
        const asset = defs.asset(step.assetKey);
        const facts = partitionFacts(asset.partitions, step.partitionKey);
        const table = buildTable(asset);
        const schema = table.slice(0, table.indexOf('.'));
        const s0 = performance.now();
        if (asset.kind === 'scd2') {
          const o = asset.scd2;
          if (!o) throw new Error(`${asset.key} has no scd2 options`);
          await b.mergeScd2FromChanges({
            target: table,
            changes: `SELECT *, ${d.quote('_lsn')} || lpad(CAST(${d.quote('_seq')} AS ${d.portable.types.text}), 20, '0') AS ${d.quote('_pos')} FROM ${d.table(buildTable(defs.asset(o.source)))}`,
            businessKey: o.businessKey,
            tracked: o.tracked,
            orderBy: '_pos',
            commitTimeColumn: '_commit_time',
            opColumn: '_op',
            lateWindowSeconds: SCD2_LOG_LATE_WINDOW_SECONDS,
            ...(o.columnNames ? { columnNames: o.columnNames } : {}),
          });
        } else {
          const select = await selectFor(d, defs, asset, facts, (sql) => b.query(sql));
          const t = d.table(table);
          if (!existing.has(table)) await b.execute(`CREATE SCHEMA IF NOT EXISTS ${d.quote(schema)}`);
          if (asset.partitions === undefined) await b.execute(`CREATE OR REPLACE TABLE ${t} AS ${select}`);
          else if (!existing.has(table)) await b.execute(`CREATE TABLE ${t} AS ${tagged(d, facts, select)}`);
          else {
            await b.execute(
              `DELETE FROM ${t} WHERE ${d.quote(PARTITION_COLUMN)} = ${d.literal(facts.partitionKey)}`,
            );
            await b.execute(`INSERT INTO ${t} ${tagged(d, facts, select)}`);
          }
        }
        existing.add(table);
        out.push({ ...step, kind: asset.kind, seconds: (performance.now() - s0) / 1000 });
      }
      return { seconds: (performance.now() - t0) / 1000, steps: out };
    },
    async hashes(which, exclude) {
      const catalog = which === 'worker' ? wc : bc;
      const result = new Map<string, { rows: number; hash: string }>();
      for (const t of await tablesOf(catalog)) {
        const key = `${t.schema}.${t.name}`;
        if (/^tessera_meta\.|\.__p_|\.__tessera/.test(key) || exclude(key)) continue;
        const rows = await w.query(`SELECT * FROM ${q(catalog)}.${q(t.schema)}.${q(t.name)}`);
        const hashes = rows
          .map((r) =>
            createHash('md5')
              .update(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
              .digest('hex'),
          )
          .sort();
        result.set(key, { rows: rows.length, hash: createHash('md5').update(hashes.join('')).digest('hex') });
      }
      return result;
    },
    async close() {
      for (const [engine, catalog] of [
        [w, wc],
        [b, bc],
      ] as const) {
        const schemas = await engine.query<{ s: string }>(
          `SELECT schema_name AS s FROM ${q(catalog)}.information_schema.schemata WHERE schema_name <> 'information_schema'`,
        );
        for (const { s } of schemas) await engine.execute(`DROP SCHEMA ${q(catalog)}.${q(s)} CASCADE`);
        await engine.close();
      }
    },
  };
}
