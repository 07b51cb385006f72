/**
 * The planner's freshness check compares a step's recorded input text with the text its current inputs would
 * give, and compares version by version only when the texts differ. These tests hold it to the rule itself,
 * written out plainly here: whatever the key order or content of the recorded inputs, the plan is the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asset, daily, defineDefinitions, lookback } from '../../src/dsl/index.js';
import { ledgerViewOf, type LedgerView, type MaterializationRecord } from '../../src/ledger/index.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { plan, stepInputs, type PlanReason } from '../../src/planner/index.js';

const start = '2026-11-01';
const defs = defineDefinitions({
  assets: [
    asset({ key: 'raw.a', kind: 'custom', partitions: daily({ start }), sql: 'select 1 as x' }),
    asset({ key: 'raw.b', kind: 'custom', sql: 'select 1 as x' }),
    asset({
      key: 'core.c',
      kind: 'custom',
      partitions: daily({ start }),
      deps: [{ key: 'raw.a', mapping: lookback(2) }, 'raw.b'],
      sql: 'select 1 as x',
    }),
    asset({
      key: 'marts.d',
      kind: 'mart',
      partitions: daily({ start }),
      deps: ['core.c', 'raw.a'],
      sql: 'select 1 as x',
    }),
  ],
});
const days = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'];
const request = { selection: '*', range: { from: days[0]!, to: days[days.length - 1]! } };
const partitionsOf = (key: string): readonly string[] => (defs.asset(key).partitions ? days : ['']);

/** The freshness rule, step by step, as the planner documents it (first matching reason wins). */
function referenceReasons(view: LedgerView): Record<string, PlanReason> {
  const planned = new Set<string>();
  const reasons: Record<string, PlanReason> = {};
  for (const key of defs.graph.topologicalOrder) {
    for (const pk of partitionsOf(key)) {
      const latest = view.latest(key, pk);
      const inputs = stepInputs(defs, { assetKey: key, partitionKey: pk });
      const stale = inputs.some((id) => {
        if (planned.has(id)) return true;
        const at = id.lastIndexOf('@');
        const current = view.latestSuccess(id.slice(0, at), id.slice(at + 1));
        return current !== undefined && latest?.inputDataVersions[id] !== current.dataVersion;
      });
      const reason: PlanReason | undefined =
        latest === undefined
          ? 'missing'
          : latest.status === 'failed'
            ? 'failed_before'
            : latest.codeVersion !== defs.asset(key).codeVersion
              ? 'code_changed'
              : stale
                ? 'upstream_changed'
                : undefined;
      if (reason !== undefined) {
        planned.add(`${key}@${pk}`);
        reasons[`${key}@${pk}`] = reason;
      }
    }
  }
  return reasons;
}

const reasonsOf = (view: LedgerView): Record<string, PlanReason> =>
  Object.fromEntries(plan(defs, request, view).steps.map((s) => [s.id, s.reason]));

/** Every partition's state: absent, failed, old code, or built; its recorded inputs current, stale or partial. */
const partitionState = fc.record({
  state: fc.constantFrom('absent', 'failed', 'old_code', 'built', 'built', 'built'),
  version: fc.constantFrom('v1', 'v2'),
  inputs: fc.constantFrom('current', 'current', 'stale', 'dropped', 'extra'),
  order: fc.constantFrom('plan', 'reversed'),
});

/** Builds the ledger in dependency order, so "current" inputs read what the ledger holds upstream. */
function ledgerOf(states: readonly (typeof partitionState extends fc.Arbitrary<infer T> ? T : never)[]) {
  const records: MaterializationRecord[] = [];
  const version = new Map<string, string>();
  let i = 0;
  for (const key of defs.graph.topologicalOrder) {
    for (const pk of partitionsOf(key)) {
      const s = states[i++ % states.length]!;
      if (s.state === 'absent') continue;
      const ids = stepInputs(defs, { assetKey: key, partitionKey: pk });
      const entries: [string, string][] = [];
      for (const [n, id] of ids.entries()) {
        const v = version.get(id);
        if (v === undefined) continue; // the step could not read what was never built
        if (s.inputs === 'dropped' && n === 0) continue;
        entries.push([id, s.inputs === 'stale' && n === ids.length - 1 ? `${v}-old` : v]);
      }
      if (s.inputs === 'extra') entries.push(['raw.gone@2026-10-01', 'v0']);
      if (s.order === 'reversed') entries.reverse();
      const failed = s.state === 'failed';
      records.push({
        assetKey: key,
        partitionKey: pk,
        runId: 'r1',
        codeVersion: s.state === 'old_code' ? 'old' : defs.asset(key).codeVersion,
        inputDataVersions: Object.fromEntries(entries),
        dataVersion: `${key}@${pk}:${s.version}`,
        rowCount: 1,
        status: failed ? 'failed' : 'success',
        startedAt: '2026-11-25T00:00:00.000Z',
        endedAt: '2026-11-25T00:00:01.000Z',
      });
      if (!failed) version.set(`${key}@${pk}`, `${key}@${pk}:${s.version}`);
    }
  }
  return records;
}

describe('planner freshness', () => {
  it('plans exactly what the rule says, whatever the recorded inputs look like (property)', () => {
    fc.assert(
      fc.property(fc.array(partitionState, { minLength: 1, maxLength: 13 }), (states) => {
        const view = ledgerViewOf(ledgerOf(states));
        expect(reasonsOf(view)).toEqual(referenceReasons(view));
      }),
      { numRuns: 200 },
    );
  });

  it('plans the same from the SQLite ledger as from the records (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(partitionState, { minLength: 1, maxLength: 13 }), async (states) => {
        const records = ledgerOf(states);
        const ledger = await openSqliteLedger(':memory:');
        try {
          for (const r of records) await ledger.recordMaterialization(r);
          const view = await ledger.view(defs.graph.topologicalOrder);
          expect(reasonsOf(view)).toEqual(referenceReasons(ledgerViewOf(records)));
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a fully built ledger plans nothing, in either key order; one changed root replans its readers', () => {
    const built = ledgerOf([{ state: 'built', version: 'v1', inputs: 'current', order: 'plan' }]);
    expect(plan(defs, request, ledgerViewOf(built)).steps).toEqual([]);
    const reordered = ledgerOf([{ state: 'built', version: 'v1', inputs: 'current', order: 'reversed' }]);
    expect(plan(defs, request, ledgerViewOf(reordered)).steps).toEqual([]);

    const rebuilt: MaterializationRecord = {
      ...built.find((r) => r.assetKey === 'raw.a' && r.partitionKey === '2026-11-02')!,
      runId: 'r2',
      dataVersion: 'raw.a@2026-11-02:v2',
      startedAt: '2026-11-26T00:00:00.000Z',
    };
    expect(reasonsOf(ledgerViewOf([...built, rebuilt]))).toEqual({
      // lookback(2): core.c of the 2nd, 3rd and 4th read raw.a of the 2nd; marts.d reads core.c and raw.a.
      'core.c@2026-11-02': 'upstream_changed',
      'core.c@2026-11-03': 'upstream_changed',
      'core.c@2026-11-04': 'upstream_changed',
      'marts.d@2026-11-02': 'upstream_changed',
      'marts.d@2026-11-03': 'upstream_changed',
      'marts.d@2026-11-04': 'upstream_changed',
    });
  });
});
