import { describe, expect, it } from 'vitest';
import { sparkDialect } from '../../src/engines/spark/spark-dialect.js';
import { createSparkEngine } from '../../src/engines/spark/spark-engine.js';
import { sparkTypes } from '../../src/engines/spark/spark-types.js';

/**
 * What is Spark's own: rendering without a server, and the SQL server's staging on the real Spark over
 * Iceberg (scripts/services/spark.sh; `TESSERA_SPARK_URL`). Everything an engine must do is in the
 * conformance suite (test/engines/conformance), which runs on Spark too.
 */

const URL = process.env['TESSERA_SPARK_URL'];

describe('Spark dialect (no server)', () => {
  it('quotes with backticks and stages with STAGE VIEW', () => {
    expect(sparkDialect.table('core.dim_users')).toBe('`core`.`dim_users`');
    expect(sparkDialect.quote('we`ird')).toBe('`we``ird`');
    expect(sparkDialect.createTempTableAs('__s', 'SELECT 1 AS x')).toBe('STAGE VIEW `__s` AS SELECT 1 AS x');
  });

  it("maps Spark's type spellings: TIMESTAMP is an instant, TIMESTAMP_NTZ a naive one", () => {
    expect(sparkTypes.parse('int')).toMatchObject({ family: 'integer', rank: 4 });
    expect(sparkTypes.parse('BIGINT')).toMatchObject({ family: 'integer', rank: 8 });
    expect(sparkTypes.parse('TIMESTAMP').family).toBe('timestamptz');
    expect(sparkTypes.parse('TIMESTAMP_NTZ').family).toBe('timestamp');
    expect(sparkTypes.parse('VARCHAR(10)').family).toBe('string');
    expect(sparkTypes.parse('DECIMAL(12,4)')).toMatchObject({ family: 'decimal', precision: 12, scale: 4 });
    expect(sparkTypes.parse('ARRAY<INT>').family).toBe('nested');
  });
});

describe.skipIf(!URL)('Spark SQL server', () => {
  it('a staged relation keeps its rows when the table it was computed from is written', async () => {
    // A CACHE TABLE would be recomputed after the writes below (2 -> 3 -> 4 rows): an SCD2 merge's staged
    // versions would change under the MERGE that applies them.
    const e = await createSparkEngine({ type: 'spark', url: URL ?? '', isolated: true });
    try {
      await e.replaceTable({ table: 'core.t', selectSql: 'SELECT * FROM VALUES (1), (2) AS v(a)' });
      await e.execute(sparkDialect.createTempTableAs('staged', 'SELECT count(*) AS n FROM core.t'));
      await e.execute('INSERT INTO core.t VALUES (3)');
      await e.replaceTable({ table: 'core.t', selectSql: 'SELECT * FROM VALUES (1), (2), (3), (4) AS v(a)' });
      expect(await e.query('SELECT n FROM staged')).toEqual([{ n: 2 }]);
      expect(await e.query('SELECT count(*) AS n FROM core.t')).toEqual([{ n: 4 }]);
      await expect(
        e.execute(sparkDialect.createTempTableAs('bad', 'SELECT CAST(x AS INT) FROM core.nope')),
      ).rejects.toThrow(/nope/);
    } finally {
      await e.close();
    }
  }, 600_000);
});
