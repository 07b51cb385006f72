import { describe, expect, it } from 'vitest';
import { planSchemaEvolution } from '../../src/engines/dialect/schema.js';
import { duckdbDialect } from '../../src/engines/duckdb/duckdb-dialect.js';
import { duckdbTypes } from '../../src/engines/duckdb/duckdb-types.js';
import { SchemaEvolutionError } from '../../src/engines/errors.js';
import type { ColumnInfo } from '../../src/engines/types.js';

const d = duckdbDialect;
const cols = (...pairs: [string, string][]): ColumnInfo[] => pairs.map(([name, type]) => ({ name, type }));
const plan = (existing: ColumnInfo[], incoming: ColumnInfo[]) =>
  planSchemaEvolution(d, 'mart.t', existing, incoming);

describe('DuckDB type mapper', () => {
  it('reads the spellings DuckDB prints', () => {
    expect(duckdbTypes.parse('BIGINT')).toMatchObject({ family: 'integer', rank: 8 });
    expect(duckdbTypes.parse('UINTEGER')).toMatchObject({ family: 'integer', rank: 4, unsigned: true });
    expect(duckdbTypes.parse('DECIMAL(18,3)')).toMatchObject({ family: 'decimal', precision: 18, scale: 3 });
    expect(duckdbTypes.parse('timestamp with time zone')).toMatchObject({ family: 'timestamptz' });
    expect(duckdbTypes.parse('VARCHAR[]')).toMatchObject({ family: 'nested' });
    expect(duckdbTypes.parse('STRUCT(a INTEGER)')).toMatchObject({ family: 'nested' });
    expect(duckdbTypes.parse('"NULL"')).toMatchObject({ family: 'null' });
  });
});

describe('planSchemaEvolution', () => {
  it('adds new columns, keeps dropped ones', () => {
    const p = plan(cols(['a', 'INTEGER'], ['gone', 'VARCHAR']), cols(['a', 'INTEGER'], ['b', 'DATE']));
    expect(p.changes).toEqual([
      { type: 'add_column', column: 'b', newType: 'DATE' },
      { type: 'keep_dropped', column: 'gone', oldType: 'VARCHAR' },
    ]);
    expect(p.statements).toEqual([`ALTER TABLE "mart"."t" ADD COLUMN "b" DATE`]);
  });

  it('matches names case-insensitively', () => {
    expect(plan(cols(['Amount', 'DOUBLE']), cols(['amount', 'DOUBLE'])).changes).toEqual([]);
  });

  it('writes narrower types through, widens wider ones of the same family', () => {
    expect(plan(cols(['n', 'BIGINT']), cols(['n', 'INTEGER'])).statements).toEqual([]);
    expect(plan(cols(['n', 'INTEGER']), cols(['n', 'BIGINT'])).statements).toEqual([
      `ALTER TABLE "mart"."t" ALTER COLUMN "n" SET DATA TYPE BIGINT`,
    ]);
    expect(plan(cols(['x', 'FLOAT']), cols(['x', 'DOUBLE'])).changes).toEqual([
      { type: 'widen_column', column: 'x', oldType: 'FLOAT', newType: 'DOUBLE' },
    ]);
    expect(plan(cols(['m', 'DECIMAL(10,2)']), cols(['m', 'DECIMAL(12,4)'])).statements).toEqual([
      `ALTER TABLE "mart"."t" ALTER COLUMN "m" SET DATA TYPE DECIMAL(12,4)`,
    ]);
    expect(plan(cols(['m', 'DECIMAL(18,2)']), cols(['m', 'DECIMAL(10,2)'])).statements).toEqual([]);
  });

  it('accepts safe cross-family writes', () => {
    expect(plan(cols(['x', 'DOUBLE']), cols(['x', 'INTEGER'])).statements).toEqual([]);
    expect(plan(cols(['x', 'DECIMAL(18,2)']), cols(['x', 'INTEGER'])).statements).toEqual([]);
    expect(plan(cols(['x', 'TIMESTAMP']), cols(['x', 'DATE'])).statements).toEqual([]);
    expect(plan(cols(['x', 'TIMESTAMP WITH TIME ZONE']), cols(['x', 'TIMESTAMP'])).statements).toEqual([]);
    expect(plan(cols(['x', 'INTEGER']), cols(['x', '"NULL"'])).statements).toEqual([]);
  });

  it('refuses incompatible and destructive changes with table, column and both types', () => {
    const refuse = (old: string, inc: string): SchemaEvolutionError => {
      try {
        plan(cols(['c', old]), cols(['c', inc]));
      } catch (e) {
        if (e instanceof SchemaEvolutionError) return e;
      }
      throw new Error(`expected ${old} → ${inc} to be refused`);
    };
    const e = refuse('VARCHAR', 'INTEGER');
    expect(e).toMatchObject({
      engine: 'duckdb',
      table: 'mart.t',
      column: 'c',
      oldType: 'VARCHAR',
      newType: 'INTEGER',
    });
    expect(e.message).toContain('mart.t.c from VARCHAR to INTEGER');
    refuse('INTEGER', 'VARCHAR');
    refuse('INTEGER', 'DOUBLE');
    refuse('UINTEGER', 'INTEGER');
    refuse('BIGINT', 'UBIGINT');
    refuse('DECIMAL(4,2)', 'INTEGER');
    refuse('INTEGER[]', 'VARCHAR[]');
    refuse('DECIMAL(38,0)', 'DECIMAL(38,10)');
  });
});
