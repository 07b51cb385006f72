import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { createEngine, type Engine } from '../engines/index.js';

/**
 * DuckDB keeps what DELETE and UPDATE removed: a deleted row stays in its row group behind a deletion mask, and a
 * rewritten table's old blocks are only marked free (the file keeps their bytes until reused). A checkpoint does
 * not change that. So after an erasure the warehouse file is rewritten: every schema, table (with its own DDL,
 * constraints included: raw tables dedupe on their primary keys) and view is copied into a new file, which then
 * replaces the old one by rename (atomic: a crash leaves the old, already erased, file). DuckDB's own
 * `COPY FROM DATABASE` is not used: it drops primary keys.
 *
 * Needs the file to itself (a running worker holds it: the command refuses before erasing). Costs a full copy:
 * 2–3 s for the 20 MB of 3 small demo days here.
 */

export interface CompactResult {
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly tables: number;
  readonly seconds: number;
}

const FRESH = '__tessera_gdpr_fresh';

async function copyInto(engine: Engine, target: string): Promise<number> {
  const [db] = await engine.query<{ db: string }>('SELECT current_database() AS db');
  const source = String(db?.db);
  const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;
  const literal = (s: string): string => `'${s.replaceAll("'", "''")}'`;
  const others = await engine.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM duckdb_sequences() WHERE database_name = ${literal(source)}) +
            (SELECT count(*) FROM duckdb_functions() WHERE database_name = ${literal(source)} AND NOT internal
               AND function_type IN ('macro', 'table_macro')) AS n`,
  );
  if (Number(others[0]?.n ?? 0) > 0)
    throw new Error('the warehouse holds sequences or macros, which the erasure compaction does not copy');
  await engine.execute(`ATTACH ${literal(target)} AS ${FRESH}`);
  try {
    const schemas = await engine.query<{ s: string }>(
      `SELECT schema_name AS s FROM duckdb_schemas() WHERE database_name = ${literal(source)} AND NOT internal`,
    );
    for (const { s } of schemas) await engine.execute(`CREATE SCHEMA IF NOT EXISTS ${FRESH}.${quote(s)}`);
    const tables = await engine.query<{ s: string; t: string; sql: string }>(
      `SELECT schema_name AS s, table_name AS t, sql FROM duckdb_tables()
       WHERE database_name = ${literal(source)} AND NOT temporary ORDER BY 1, 2`,
    );
    const views = await engine.query<{ sql: string }>(
      `SELECT sql FROM duckdb_views() WHERE database_name = ${literal(source)} AND NOT internal AND NOT temporary`,
    );
    // The DDL names `schema.table`: run with the new file as the default catalog, it creates them there. One
    // script, so the USE and the DDL run on one connection (the client pools them), and the default is restored.
    const ddl = [...tables, ...views].map((x) => x.sql.trim().replace(/;?$/, ';'));
    await engine.execute([`USE ${FRESH};`, ...ddl, `USE ${quote(source)};`].join('\n'));
    for (const t of tables) {
      const name = `${quote(t.s)}.${quote(t.t)}`;
      await engine.execute(`INSERT INTO ${FRESH}.${name} SELECT * FROM ${quote(source)}.${name}`);
    }
    return tables.length;
  } finally {
    await engine.execute(`DETACH ${FRESH}`);
  }
}

export async function compactDuckDbFile(path: string): Promise<CompactResult> {
  const t0 = performance.now();
  const target = `${path}.gdpr-compact`;
  for (const f of [target, `${target}.wal`]) rmSync(f, { force: true });
  const bytesBefore = statSync(path).size;
  const engine = await createEngine({ type: 'duckdb', path });
  let tables: number;
  try {
    tables = await copyInto(engine, target);
  } catch (e) {
    await engine.close();
    for (const f of [target, `${target}.wal`]) rmSync(f, { force: true });
    throw e;
  }
  await engine.close();
  if (existsSync(`${target}.wal`))
    throw new Error(`the compacted copy ${target} left a write-ahead log; the warehouse was not replaced`);
  renameSync(target, path);
  return {
    bytesBefore,
    bytesAfter: statSync(path).size,
    tables,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}
