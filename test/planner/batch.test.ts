import { describe, expect, it } from 'vitest';
import {
  asset,
  daily,
  defineDefinitions,
  hourly,
  multiPartitions,
  staticPartitions,
} from '../../src/dsl/index.js';
import { ledgerViewOf } from '../../src/ledger/index.js';
import { INGEST_LANE, plan } from '../../src/planner/index.js';

const start = '2026-11-01';
const defs = defineDefinitions({
  assets: [
    asset({
      key: 'raw.events',
      kind: 'custom',
      partitions: hourly({ start }),
      ingest: { source: 'snowplow', stream: 'events' },
    }),
    asset({
      key: 'core.hits',
      kind: 'custom',
      partitions: hourly({ start }),
      deps: ['raw.events'],
      sql: 'select 1',
    }),
    asset({
      key: 'core.daily',
      kind: 'custom',
      partitions: daily({ start }),
      deps: ['core.hits'],
      sql: 'select 1',
    }),
    asset({
      key: 'core.spend',
      kind: 'custom',
      partitions: multiPartitions({ date: daily({ start }), platform: staticPartitions(['google', 'meta']) }),
      sql: 'select 1',
    }),
    asset({ key: 'core.static', kind: 'custom', partitions: staticPartitions(['a', 'b']), sql: 'select 1' }),
  ],
});

describe('batches and lanes in plans', () => {
  const p = plan(defs, { selection: '*', range: { from: '2026-11-29', to: '2026-12-01' } }, ledgerViewOf([]));
  const of = (id: string) => p.steps.find((s) => s.id === id);

  it('batches the hours of a day, the slices of a day, and landed partitions by ISO week', () => {
    expect(of('core.hits@2026-11-30T05')?.batch).toBe('2026-11-30');
    expect(of('core.hits@2026-12-01T23')?.batch).toBe('2026-12-01');
    expect(of('core.spend@2026-11-30|meta')?.batch).toBe('2026-11-30');
    expect(of('raw.events@2026-11-29T23')?.batch).toBe('2026-W48');
    expect(of('raw.events@2026-11-30T05')?.batch).toBe('2026-W49');
    expect(of('raw.events@2026-12-01T00')?.batch).toBe('2026-W49');
    expect(of('core.daily@2026-11-30')?.batch).toBeUndefined();
    expect(of('core.static@a')?.batch).toBeUndefined();
    // Every step of a batch is of one asset: the batch key is per asset.
    const batches = new Map<string, Set<string>>();
    for (const s of p.steps) {
      if (s.batch === undefined) continue;
      const assets = batches.get(s.batch) ?? new Set<string>();
      batches.set(s.batch, assets.add(s.assetKey));
    }
    expect(batches.get('2026-11-30')).toEqual(new Set(['core.hits', 'core.spend']));
  });

  it('puts the steps that land source data on the ingest lane', () => {
    const lanes = new Set(p.steps.map((s) => `${s.assetKey}:${s.lane ?? '-'}`));
    expect([...lanes].sort()).toEqual([
      'core.daily:-',
      'core.hits:-',
      'core.spend:-',
      'core.static:-',
      `raw.events:${INGEST_LANE}`,
    ]);
  });
});
