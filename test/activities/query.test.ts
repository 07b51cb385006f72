/**
 * `tessera query` on DuckDB: the dialect's parser check (SqlDialect.readOnlyProbe, DuckDB's json_serialize_sql)
 * refuses what the lexical check lets through, and the dialect's describe statement gives the column types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReadOnlyQuery } from '../../src/activities/query.js';
import { defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';

describe('read-only queries on DuckDB', () => {
  let engine: Engine;
  const defs = defineDefinitions({ assets: [] });
  const run = (sql: string) => runReadOnlyQuery(engine, defs, { sql, limit: 2 });

  beforeAll(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
    await engine.execute(`CREATE TABLE t AS SELECT range AS n, 'x' || range AS s FROM range(5)`);
  });
  afterAll(async () => {
    await engine.close();
  });

  it('describes the columns with their engine types and caps the rows', async () => {
    const r = await run('select n, s, n * 1.5 as f from t order by n');
    expect(r.columns).toEqual([
      { name: 'n', type: 'BIGINT' },
      { name: 's', type: 'VARCHAR' },
      { name: 'f', type: 'DECIMAL(21,1)' },
    ]);
    expect(r.rows.map((row) => row['s'])).toEqual(['x0', 'x1']);
    expect(r.truncated).toBe(true);
  });

  it("refuses through DuckDB's parser what the lexical check lets through", async () => {
    // Starts like a query, but a WITH may front a DELETE: only the parser sees it.
    await expect(run('with d as (select 1) delete from t')).rejects.toThrow(
      /only a read-only SELECT \(or WITH … SELECT\) may run \(DuckDB: /,
    );
    await expect(run('select from from')).rejects.toThrow(/Parser Error/i);
    expect((await run('select count(*) as c from t')).rows).toEqual([{ c: 5 }]);
  });

  it('refuses --committed-at on an engine without table time travel, naming it', async () => {
    await expect(
      runReadOnlyQuery(engine, defs, { sql: 'select 1', limit: 1, committedAt: '2026-11-02T00:00:00Z' }),
    ).rejects.toThrow(/needs an engine with table time travel \(Trino over Iceberg\); duckdb has none/);
  });
});
