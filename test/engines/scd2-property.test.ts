import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { availableTestEngines } from '../../src/engines/registry.js';
import type { Engine, Row } from '../../src/engines/types.js';
import { mergeReq, versions, type ChangeRow } from './conformance/scd2.js';

/**
 * Property: merging a change log in many consecutive batches (in any row order within a batch, with a
 * replayed batch thrown in) gives exactly the table a single merge of the whole log gives, and both
 * match an independent reference model of the SCD2 semantics in DESIGN.md.
 */

interface Change {
  readonly id: number;
  readonly name: string | null;
  readonly city: string;
  readonly hour: number;
  readonly lsn: number;
  readonly op: 'c' | 'u' | 'd' | 'r';
}

const base = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });
const sqlTime = (hour: number): string => base.plus({ hours: hour }).toFormat('yyyy-MM-dd HH:mm:ss');
const isoTime = (hour: number): string => base.plus({ hours: hour }).toISO() ?? '';
const toRow = (c: Change): ChangeRow => [c.id, c.name, c.city, sqlTime(c.hour), c.lsn, c.op];

/** The reference model: per key, commit order, same-commit collapse, no-op suppression, deletes. */
function model(log: readonly Change[]): Row[] {
  const out: Row[] = [];
  const ids = [...new Set(log.map((c) => c.id))].sort((a, b) => a - b);
  for (const id of ids) {
    const events = log.filter((c) => c.id === id).sort((a, b) => a.hour - b.hour || a.lsn - b.lsn);
    const collapsed = events.filter((e, i) => events[i + 1]?.hour !== e.hour);
    const kept: Change[] = [];
    let prev: Change | undefined;
    for (const e of collapsed) {
      const prevDeleted = !prev || prev.op === 'd';
      const changed =
        e.op === 'd' ? !prevDeleted : prevDeleted || prev?.name !== e.name || prev?.city !== e.city;
      if (changed) kept.push(e);
      prev = e;
    }
    kept.forEach((e, i) => {
      const next = kept[i + 1];
      out.push({
        id,
        name: e.name,
        city: e.city,
        valid_from: isoTime(e.hour),
        valid_to: next ? isoTime(next.hour) : null,
        is_current: !next,
        is_deleted: e.op === 'd',
        source_lsn: e.lsn,
      });
    });
  }
  return out;
}

const logArb = fc
  .array(
    fc.record({
      id: fc.integer({ min: 1, max: 4 }),
      name: fc.constantFrom<string | null>('ann', 'bob', null),
      city: fc.constantFrom('oslo', 'rome'),
      step: fc.constantFrom(0, 0, 1, 2),
      op: fc.constantFrom<Change['op']>('c', 'u', 'u', 'r', 'd'),
    }),
    { minLength: 1, maxLength: 24 },
  )
  .map((raw) => {
    let hour = 0;
    return raw.map((r, i): Change => {
      hour += r.step;
      return { id: r.id, name: r.name, city: r.city, hour, lsn: i + 1, op: r.op };
    });
  });

const planArb = logArb.chain((log) =>
  fc.record({
    log: fc.constant(log),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, log.length - 1) }), { maxLength: 6 }),
    reverse: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    replay: fc.nat(),
  }),
);

// The embedded engine only: 30 random logs with a fresh engine each take seconds here and minutes on a server
// engine (a catalog or an emulator per engine). Trino, Spark and BigQuery run the conformance suite's SCD2 cases.
const engines = (await availableTestEngines()).filter((e) => e.type === 'duckdb');

for (const factory of engines) {
  describe(`engine ${factory.type}: SCD2 merge properties`, () => {
    it('batch-split merges equal one whole-log merge and the reference model; replays change nothing', async () => {
      await fc.assert(
        fc.asyncProperty(planArb, async ({ log, cuts, reverse, replay }) => {
          const e: Engine = await factory.create();
          try {
            const bounds = [0, ...[...cuts].sort((a, b) => a - b).filter((c) => c < log.length), log.length];
            const batches = bounds
              .slice(1)
              .map((end, i) => log.slice(bounds[i], end))
              .filter((b) => b.length > 0);
            const whole = await e.mergeScd2FromChanges(mergeReq(log.map(toRow), 'core.whole'));
            let last = whole;
            for (const [i, batch] of batches.entries()) {
              const rows = (reverse[i % reverse.length] ? [...batch].reverse() : batch).map(toRow);
              last = await e.mergeScd2FromChanges(mergeReq(rows, 'core.split'));
            }
            const again = await e.mergeScd2FromChanges(
              mergeReq((batches[replay % batches.length] ?? []).map(toRow), 'core.split'),
            );
            expect(again.insertedVersions + again.closedVersions).toBe(0);
            expect(again.dataVersion).toBe(last.dataVersion);

            const expected = model(log);
            expect(await versions(e, 'core.whole')).toEqual(expected);
            expect(await versions(e, 'core.split')).toEqual(expected);
            expect(last.dataVersion).toBe(whole.dataVersion);
            expect(last.rowCount).toBe(expected.length);
            const check = await e.runCheck({ type: 'scd2_intervals' }, 'core.split', {
              scd2: { businessKey: ['id'] },
            });
            expect(check.failingRows).toBe(0);
          } finally {
            await e.close();
          }
        }),
        { numRuns: 30 },
      );
    }, 120_000);
  });
}
