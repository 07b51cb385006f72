import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duckdbDialect } from '../../src/engines/duckdb/duckdb-dialect.js';
import { partsAbove } from '../../src/engines/dialect/scd2.js';
import { RAW_LOG_ORDER_PARTS } from '../../src/engines/dialect/scd2-log.js';
import { Scd2InputError } from '../../src/engines/errors.js';
import { availableTestEngines } from '../../src/engines/registry.js';
import type { Engine, Scd2ChangesMergeRequest } from '../../src/engines/types.js';

/**
 * The `scd2` asset's change-log merge filters the raw log's `_lsn`/`_seq` by the high-water mark's parts
 * (orderParts), so the scan prunes by min/max. Property: appending a raw log batch by batch (cuts anywhere,
 * also inside a transaction, whose changes share one `_lsn`) and merging after each gives exactly the table
 * the same merges without orderParts give, and replays change nothing.
 */

interface Tx {
  readonly lsn: number;
  readonly hour: number;
  readonly changes: readonly { readonly id: number; readonly city: string; readonly op: 'c' | 'u' | 'd' }[];
}

const txArb = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 1, max: 300 }),
      step: fc.constantFrom(0, 0, 1),
      changes: fc.array(
        fc.record({
          id: fc.integer({ min: 1, max: 4 }),
          city: fc.constantFrom('oslo', 'rome', 'lima'),
          op: fc.constantFrom<'c' | 'u' | 'd'>('c', 'u', 'u', 'd'),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((raw) => {
    let lsn = 0;
    let hour = 0;
    return raw.map((r): Tx => {
      lsn += r.gap;
      hour += r.step;
      return { lsn, hour, changes: r.changes };
    });
  });

/** Raw log rows in append order: `_lsn` 16 hex digits, `_seq` 1… within the transaction. */
function rows(txs: readonly Tx[]): string[] {
  return txs.flatMap((t) =>
    t.changes.map(
      (c, i) =>
        `('${t.lsn.toString(16).toUpperCase().padStart(16, '0')}', ${i + 1}, ` +
        `TIMESTAMP '2026-01-01 00:00:00' + INTERVAL ${t.hour} HOUR, '${c.op}', ${c.id}, '${c.city}')`,
    ),
  );
}

const req = (target: string, withParts: boolean): Scd2ChangesMergeRequest => ({
  target,
  // The relation src/activities/materialize.ts builds for a `log` strategy scd2 asset.
  changes: `SELECT *, _lsn || lpad(CAST(_seq AS VARCHAR), 20, '0') AS _pos FROM raw.log`,
  businessKey: ['id'],
  tracked: ['city'],
  orderBy: '_pos',
  commitTimeColumn: '_commit_time',
  opColumn: '_op',
  lateWindowSeconds: 3600,
  ...(withParts ? { orderParts: RAW_LOG_ORDER_PARTS } : {}),
});

const table = (e: Engine, t: string): Promise<unknown[]> =>
  e.query(
    `SELECT id, city, valid_from, valid_to, is_current, is_deleted, source_lsn, row_hash FROM ${t} ORDER BY ALL`,
  );

const engines = (await availableTestEngines()).filter((e) => e.type === 'duckdb');

describe('partsAbove (the orderParts filter)', () => {
  const d = duckdbDialect;
  it('compares the parts lexicographically, numeric parts as numbers, and lets NULL parts through', () => {
    const mark = `${'00000000000000AB'}${'7'.padStart(20, '0')}`;
    expect(partsAbove(d, 'c', RAW_LOG_ORDER_PARTS, mark)).toEqual([
      `((c."_lsn" > '00000000000000AB' OR (c."_lsn" = '00000000000000AB' AND c."_seq" > 7)) ` +
        `OR c."_lsn" IS NULL OR c."_seq" IS NULL)`,
    ]);
  });
  it('adds nothing when the mark does not split into the parts', () => {
    expect(partsAbove(d, 'c', RAW_LOG_ORDER_PARTS, '00AB')).toEqual([]);
    expect(partsAbove(d, 'c', RAW_LOG_ORDER_PARTS, `${'0'.repeat(16)}${'x'.padStart(20, '0')}`)).toEqual([]);
    expect(partsAbove(d, 'c', [], '00AB')).toEqual([]);
  });
});

for (const factory of engines) {
  describe(`engine ${factory.type}: change-log merge with orderParts`, () => {
    it('batch by batch, with and without orderParts, gives the same table; replays change nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          txArb,
          fc.uniqueArray(fc.nat({ max: 30 }), { maxLength: 5 }),
          async (txs, cutsRaw) => {
            const all = rows(txs);
            const cuts = [...new Set([...cutsRaw.map((c) => c % all.length), all.length])]
              .filter((c) => c > 0)
              .sort((a, b) => a - b);
            const e = await factory.create();
            try {
              await e.execute(
                'CREATE SCHEMA IF NOT EXISTS raw; CREATE TABLE raw.log (_lsn VARCHAR, _seq BIGINT, ' +
                  '_commit_time TIMESTAMP, _op VARCHAR, id INTEGER, city VARCHAR)',
              );
              let from = 0;
              for (const cut of cuts) {
                await e.execute(`INSERT INTO raw.log VALUES ${all.slice(from, cut).join(', ')}`);
                from = cut;
                const a = await e.mergeScd2FromChanges(req('core.parts', true));
                const b = await e.mergeScd2FromChanges(req('core.plain', false));
                expect(a.appliedChanges).toBe(b.appliedChanges);
                expect(a.dataVersion).toBe(b.dataVersion);
                expect(await table(e, 'core.parts')).toEqual(await table(e, 'core.plain'));
              }
              const again = await e.mergeScd2FromChanges(req('core.parts', true));
              expect(again.appliedChanges).toBe(0);
            } finally {
              await e.close();
            }
          },
        ),
        { numRuns: 25 },
      );
    }, 120_000);

    it('still refuses a change whose _seq is NULL', async () => {
      const e = await factory.create();
      try {
        await e.execute(
          'CREATE SCHEMA IF NOT EXISTS raw; CREATE TABLE raw.log (_lsn VARCHAR, _seq BIGINT, ' +
            '_commit_time TIMESTAMP, _op VARCHAR, id INTEGER, city VARCHAR)',
        );
        await e.execute(
          `INSERT INTO raw.log VALUES ${rows([{ lsn: 16, hour: 0, changes: [{ id: 1, city: 'oslo', op: 'c' }] }]).join(', ')}`,
        );
        await e.mergeScd2FromChanges(req('core.parts', true));
        await e.execute(
          `INSERT INTO raw.log VALUES ('0000000000000020', NULL, TIMESTAMP '2026-01-01 00:10:00', 'u', 1, 'rome')`,
        );
        await expect(e.mergeScd2FromChanges(req('core.parts', true))).rejects.toThrow(Scd2InputError);
      } finally {
        await e.close();
      }
    });
  });
}
