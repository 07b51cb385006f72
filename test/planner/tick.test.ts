import { describe, expect, it } from 'vitest';
import { tickRequest } from '../../src/activities/tick.js';
import { asset, daily, defineDefinitions, hourly } from '../../src/dsl/index.js';
import { ledgerViewOf } from '../../src/ledger/index.js';
import { plan } from '../../src/planner/index.js';

const start = '2026-11-01';
const defs = defineDefinitions({
  assets: [
    asset({ key: 'raw.changes', kind: 'custom', partitions: daily({ start }), sql: 'select 1 as x' }),
    asset({ key: 'raw.clicks', kind: 'custom', partitions: hourly({ start }), sql: 'select 1 as x' }),
    asset({ key: 'core.dim', kind: 'custom', deps: ['raw.changes'], sql: 'select 1 as x' }),
    asset({ key: 'core.click_totals', kind: 'custom', deps: ['raw.clicks'], sql: 'select 1 as x' }),
  ],
});
const empty = ledgerViewOf([]);

describe('schedule tick planning', () => {
  it('bounds unpartitioned assets over time-partitioned upstreams by the tick time', () => {
    const tick = tickRequest(defs, {
      schedule: 'daily',
      selection: 'core.dim or core.click_totals',
      publishGroups: [],
      asOf: '2026-11-05T02:30:00.000Z',
    });
    // Only unpartitioned assets: no partition key bounds the upstream reads; without the tick's time this failed.
    expect(tick.request.partitionKeys).toEqual([]);
    expect(() => plan(defs, { ...tick.request, now: undefined }, empty)).toThrow(/no time window/);
    const p = plan(defs, tick.request, empty);
    const inputsOf = (key: string): readonly string[] =>
      p.steps.find((s) => s.assetKey === key)?.inputs ?? [];
    expect(p.steps.map((s) => s.id).sort()).toEqual(['core.click_totals@', 'core.dim@']);
    // Every daily partition closed by the tick (the 1st to the 4th), and every hour closed by 02:30 on the 5th.
    expect(inputsOf('core.dim')).toEqual([1, 2, 3, 4].map((d) => `raw.changes@2026-11-0${d}`));
    const hours = inputsOf('core.click_totals');
    expect(hours).toHaveLength(4 * 24 + 2);
    expect(hours.at(-1)).toBe('raw.clicks@2026-11-05T01');
  });

  it('keeps the bound of partitioned selections: their newest closed partitions', () => {
    const tick = tickRequest(defs, {
      schedule: 'daily',
      selection: 'raw.changes or core.dim',
      publishGroups: [],
      asOf: '2026-11-05T02:30:00.000Z',
    });
    expect(tick.request.partitionKeys).toEqual(['2026-11-04']);
    const p = plan(defs, tick.request, empty);
    expect(p.steps.map((s) => s.id)).toEqual(['raw.changes@2026-11-04', 'core.dim@']);
    expect(p.steps[1]!.upstream).toEqual(['raw.changes@2026-11-04']);
  });
});
