import { describe, expect, it } from 'vitest';
import { trinoDialect } from '../../src/engines/trino/trino-dialect.js';
import {
  bindParameters,
  parseJsonKeepingBigInts,
  splitStatements,
} from '../../src/engines/trino/trino-protocol.js';
import { icebergStorageType } from '../../src/engines/trino/trino-types.js';
import { convertValue } from '../../src/engines/trino/trino-values.js';
import { icebergWideningRefusal, mergeReplace } from '../../src/engines/trino/trino-write.js';

/** The Trino engine's pure parts (no server): protocol helpers, value conversion, type rules, the replace MERGE. */
describe('trino protocol helpers', () => {
  it('splits scripts on semicolons outside quotes and comments', () => {
    expect(splitStatements(`DROP TABLE "a;b"; SELECT ';' AS x -- c;\n; /* ; */ SELECT 'it''s;'`)).toEqual([
      `DROP TABLE "a;b"`,
      `SELECT ';' AS x`,
      `SELECT 'it''s;'`,
    ]);
  });

  it('binds ? outside quotes, and refuses a count mismatch', () => {
    expect(bindParameters(`SELECT ?, '?', "?" FROM t WHERE a = ?`, [`'x'`, '1'])).toBe(
      `SELECT 'x', '?', "?" FROM t WHERE a = 1`,
    );
    expect(() => bindParameters('SELECT ?', [])).toThrow(/more \? placeholders/);
    expect(() => bindParameters('SELECT 1', ['1'])).toThrow(/1 parameter\(s\) given for 0/);
  });

  it('keeps integers beyond 2^53 as text, leaves fractions, exponents and strings alone', () => {
    expect(
      parseJsonKeepingBigInts(
        '[9007199254740993, -9007199254740993, 9007199254740991, 0.12345678901234567, "12345678901234567890", 1e-12345678901234567]',
      ),
    ).toEqual([
      '9007199254740993',
      '-9007199254740993',
      9007199254740991,
      0.12345678901234566,
      '12345678901234567890',
      0,
    ]);
  });

  it('converts values by column type like the DuckDB engine does', () => {
    expect(convertValue('bigint', '9007199254740993')).toBe('9007199254740993');
    expect(convertValue('bigint', 42)).toBe(42);
    expect(convertValue('decimal(10,2)', '12.34')).toBe(12.34);
    expect(convertValue('timestamp(6)', '2026-11-24 13:05:00.123456')).toBe('2026-11-24T13:05:00.123456Z');
    expect(convertValue('timestamp(6)', '2026-11-24 13:05:00.123000')).toBe('2026-11-24T13:05:00.123Z');
    expect(convertValue('timestamp(3) with time zone', '2026-11-24 13:05:00.000 +02:00')).toBe(
      '2026-11-24T11:05:00.000Z',
    );
    expect(convertValue('timestamp(3) with time zone', '2026-11-24 13:05:00.000 Europe/Paris')).toBe(
      '2026-11-24T12:05:00.000Z',
    );
    expect(convertValue('date', '2026-11-24')).toBe('2026-11-24');
    expect(convertValue('varchar', null)).toBeNull();
  });
});

describe('trino types on iceberg', () => {
  it('maps types to what Iceberg stores', () => {
    expect(
      [
        'SMALLINT',
        'TINYINT',
        'CHAR(3)',
        'VARCHAR(10)',
        'TIMESTAMP(3)',
        'TIMESTAMP(0) WITH TIME ZONE',
        'UNKNOWN',
        'DECIMAL(10,2)',
      ].map(icebergStorageType),
    ).toEqual([
      'INTEGER',
      'INTEGER',
      'VARCHAR',
      'VARCHAR',
      'TIMESTAMP(6)',
      'TIMESTAMP(6) WITH TIME ZONE',
      'VARCHAR',
      'DECIMAL(10,2)',
    ]);
  });

  it('allows only the widenings Iceberg can promote', () => {
    const refused = (a: string, b: string): boolean =>
      icebergWideningRefusal(trinoDialect, a, b) !== undefined;
    expect(refused('INTEGER', 'BIGINT')).toBe(false);
    expect(refused('REAL', 'DOUBLE')).toBe(false);
    expect(refused('DECIMAL(10,2)', 'DECIMAL(14,2)')).toBe(false);
    expect(refused('DECIMAL(10,2)', 'DECIMAL(12,4)')).toBe(true);
  });

  it('replaces a partition with one MERGE: a marker row deletes, staged rows insert', () => {
    const sql = mergeReplace(
      trinoDialect,
      { schema: 'mart', name: 'sales' },
      '"memory"."s"."stage"',
      [
        { name: 'day', type: 'VARCHAR' },
        { name: 'n', type: 'INTEGER' },
      ],
      [
        { name: 'day', type: 'VARCHAR' },
        { name: 'n', type: 'BIGINT' },
      ],
      `t."day" = 'd1'`,
    );
    expect(sql).toBe(
      `MERGE INTO "mart"."sales" AS t USING (SELECT s."day", s."n", FALSE AS "__tessera_del" FROM "memory"."s"."stage" AS s ` +
        `UNION ALL SELECT NULL, NULL, TRUE) AS s ON s."__tessera_del" AND (t."day" = 'd1') WHEN MATCHED THEN DELETE ` +
        `WHEN NOT MATCHED AND NOT s."__tessera_del" THEN INSERT ("day", "n") VALUES (CAST(s."day" AS VARCHAR), CAST(s."n" AS BIGINT))`,
    );
  });

  it('stages per operation in the staging catalog', () => {
    const d = trinoDialect.forOperation('abc');
    expect(d.tempTable('__tessera_stage')).toBe('"memory"."tessera_staging"."__tessera_stage_abc"');
    expect(d.createTempTableAs('x', 'SELECT 1')).toBe(
      'CREATE TABLE "memory"."tessera_staging"."x_abc" AS SELECT 1',
    );
    expect(() => d.fingerprint(['__tessera_row'])).toThrow(/needs the column list/);
  });
});
