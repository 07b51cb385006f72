import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  asset,
  daily,
  defineDefinitions,
  hourly,
  lookback,
  staticPartitions,
  multiPartitions,
} from '../../src/dsl/index.js';
import { ledgerViewOf, type MaterializationRecord } from '../../src/ledger/index.js';
import { plan } from '../../src/planner/index.js';

const start = '2026-11-01';
const defs = defineDefinitions({
  assets: [
    asset({ key: 'raw.events', kind: 'custom', partitions: hourly({ start }), sql: 'select 1 as x' }),
    asset({
      key: 'core.daily_events',
      kind: 'fact',
      partitions: daily({ start }),
      deps: ['raw.events'],
      sql: 'select 1 as x',
    }),
    asset({
      key: 'marts.weekly_active',
      kind: 'mart',
      partitions: daily({ start }),
      deps: [{ key: 'core.daily_events', mapping: lookback(6) }],
      sql: 'select 1 as x',
    }),
    asset({ key: 'core.lookup', kind: 'custom', sql: 'select 1 as x' }),
    asset({
      key: 'marts.spend',
      kind: 'mart',
      partitions: multiPartitions({ date: daily({ start }), platform: staticPartitions(['google', 'meta']) }),
      deps: ['core.daily_events', 'core.lookup'],
      sql: 'select 1 as x',
    }),
  ],
});

function success(
  assetKey: string,
  partitionKey: string,
  extra: Partial<MaterializationRecord> = {},
): MaterializationRecord {
  return {
    assetKey,
    partitionKey,
    runId: 'r1',
    codeVersion: defs.asset(assetKey).codeVersion,
    inputDataVersions: {},
    dataVersion: `dv-${assetKey}-${partitionKey}`,
    rowCount: 1,
    status: 'success',
    startedAt: '2026-11-25T00:00:00.000Z',
    endedAt: '2026-11-25T00:00:01.000Z',
    ...extra,
  };
}

describe('planner', () => {
  it('plans every missing partition in dependency order with its upstream steps', () => {
    const p = plan(
      defs,
      { selection: '+marts.weekly_active', range: { from: '2026-11-01', to: '2026-11-02' } },
      ledgerViewOf([]),
    );
    const ids = p.steps.map((s) => s.id);
    // A daily range covers all 48 hours of the hourly upstream.
    expect(ids.filter((i) => i.startsWith('raw.events@'))).toHaveLength(48);
    expect(ids.slice(-4)).toEqual([
      'core.daily_events@2026-11-01',
      'core.daily_events@2026-11-02',
      'marts.weekly_active@2026-11-01',
      'marts.weekly_active@2026-11-02',
    ]);
    expect(p.steps.every((s) => s.reason === 'missing')).toBe(true);
    const daily2 = p.steps.find((s) => s.id === 'core.daily_events@2026-11-02');
    expect(daily2?.upstream).toHaveLength(24);
    expect(daily2?.upstream[0]).toBe('raw.events@2026-11-02T00');
    // The lookback reads the previous day too, and both are in the plan.
    expect(p.steps.find((s) => s.id === 'marts.weekly_active@2026-11-02')?.upstream).toEqual([
      'core.daily_events@2026-11-01',
      'core.daily_events@2026-11-02',
    ]);
  });

  it('every step comes after the steps it waits for (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 5 }), (fromDay, len) => {
        const from = `2026-11-${String(fromDay).padStart(2, '0')}`;
        const to = `2026-11-${String(Math.min(fromDay + len, 28)).padStart(2, '0')}`;
        const p = plan(defs, { selection: '*', range: { from, to } }, ledgerViewOf([]));
        const seen = new Set<string>();
        for (const s of p.steps) {
          for (const u of s.upstream) expect(seen.has(u)).toBe(true);
          seen.add(s.id);
        }
        expect(seen.size).toBe(p.steps.length);
      }),
      { numRuns: 25 },
    );
  });

  it('skips fresh partitions and says why the others run', () => {
    const range = { from: '2026-11-03', to: '2026-11-03' };
    const records = [
      success('core.lookup', ''),
      success('marts.spend', '2026-11-03|google', {
        inputDataVersions: {
          'core.lookup@': 'dv-core.lookup-',
          'core.daily_events@2026-11-03': 'dv-core.daily_events-2026-11-03',
        },
      }),
      success('marts.spend', '2026-11-03|meta', {
        codeVersion: 'old',
      }),
      success('core.daily_events', '2026-11-03'),
      success('marts.weekly_active', '2026-11-03', { status: 'failed', error: 'boom' }),
    ];
    const p = plan(
      defs,
      { selection: 'marts.spend or marts.weekly_active or core.lookup', range },
      ledgerViewOf(records),
    );
    expect(Object.fromEntries(p.steps.map((s) => [s.id, s.reason]))).toEqual({
      'marts.spend@2026-11-03|meta': 'code_changed',
      'marts.weekly_active@2026-11-03': 'failed_before',
    });
    expect(p.skippedFresh).toBe(2);

    // The upstream's data changed since marts.spend|google read it.
    const changed = records.map((r) => (r.assetKey === 'core.lookup' ? { ...r, dataVersion: 'new' } : r));
    const p2 = plan(defs, { selection: 'marts.spend', range }, ledgerViewOf(changed));
    expect(p2.steps.find((s) => s.partitionKey === '2026-11-03|google')?.reason).toBe('upstream_changed');

    // An upstream in the same plan makes its readers stale too.
    const p3 = plan(
      defs,
      { selection: 'core.lookup+', range, force: false },
      ledgerViewOf(changed.filter((r) => r.assetKey !== 'core.lookup')),
    );
    expect(p3.steps.find((s) => s.id === 'marts.spend@2026-11-03|google')?.reason).toBe('upstream_changed');

    const forced = plan(defs, { selection: 'core.lookup', range, force: true }, ledgerViewOf(records));
    expect(forced.steps.map((s) => [s.id, s.reason])).toEqual([['core.lookup@', 'forced']]);
  });

  it('is deterministic and honours explicit partition keys', () => {
    const req = { selection: 'marts.spend', partitionKeys: ['2026-11-05', '2026-11-04|meta'] };
    const a = plan(defs, req, ledgerViewOf([]));
    expect(a.steps.map((s) => s.partitionKey)).toEqual([
      '2026-11-04|meta',
      '2026-11-05|google',
      '2026-11-05|meta',
    ]);
    expect(plan(defs, req, ledgerViewOf([]))).toEqual(a);
  });

  it('clamps a range to the asset start and rejects a reversed range', () => {
    const p = plan(
      defs,
      { selection: 'core.daily_events', range: { from: '2026-10-30', to: '2026-11-01' } },
      ledgerViewOf([]),
    );
    expect(p.steps.map((s) => s.partitionKey)).toEqual(['2026-11-01']);
    expect(() =>
      plan(
        defs,
        { selection: 'core.daily_events', range: { from: '2026-11-05', to: '2026-11-01' } },
        ledgerViewOf([]),
      ),
    ).toThrow(/reversed range/);
    expect(() => plan(defs, { selection: 'core.daily_events' }, ledgerViewOf([]))).toThrow(
      /partition range is needed/,
    );
  });

  it('names only partitions whose windows lie inside a key of another cadence', () => {
    const hourKey = plan(
      defs,
      { selection: 'raw.events or core.daily_events', partitionKeys: ['2026-11-03T05'] },
      ledgerViewOf([]),
    );
    expect(hourKey.steps.map((s) => s.id)).toEqual(['raw.events@2026-11-03T05']);
    const dayKey = plan(defs, { selection: 'raw.events', partitionKeys: ['2026-11-03'] }, ledgerViewOf([]));
    expect(dayKey.steps).toHaveLength(24);
    const hours = plan(
      defs,
      { selection: 'core.daily_events', range: { from: '2026-11-03T05', to: '2026-11-04T23' } },
      ledgerViewOf([]),
    );
    expect(hours.steps.map((s) => s.partitionKey)).toEqual(['2026-11-04']);
  });
});
