import { describe, expect, it } from 'vitest';
import {
  asset,
  buildGraph,
  daily,
  defaultMapping,
  defineDefinitions,
  DslError,
  hourly,
  lookback,
  monthly,
  multiPartitions,
  staticPartitions,
  unique,
  weekly,
  type PartitionsDefinition,
} from '../../src/dsl/index.js';

// A small project the way a user writes it.
const start = '2026-01-01';
const usersChanges = asset({
  key: 'raw.users_changes',
  kind: 'raw_cdc',
  ingest: { source: 'user_db', stream: 'users' },
});
const dimUsers = asset({
  key: 'core.dim_users',
  kind: 'scd2',
  scd2: { source: 'raw.users_changes', businessKey: ['user_id'], tracked: ['email', 'city'] },
  tags: ['pii'],
});
const usersDaily = asset({
  key: 'core.users_daily',
  kind: 'snapshot',
  snapshot: { from: 'core.dim_users' },
  partitions: daily({ start }),
});
const events = asset({
  key: 'raw.events',
  kind: 'fact',
  sql: 'select * from kafka',
  partitions: hourly({ start: `${start}T00` }),
});
const orders = asset({
  key: 'core.fct_orders',
  kind: 'fact',
  partitions: daily({ start }),
  deps: ['raw.events', { key: 'core.users_daily', mapping: lookback(1) }],
  sql: 'select * from raw.events join core.users_daily using (user_id)',
  primaryKey: ['order_id'],
});
const revenue = asset({
  key: 'marts.daily_revenue',
  kind: 'mart',
  partitions: daily({ start }),
  deps: ['core.fct_orders'],
  sql: 'select order_date, sum(amount) from core.fct_orders group by 1',
  checks: [unique('order_date')],
  owners: ['revenue'],
  publishGroup: 'revenue',
});
const defs = defineDefinitions({
  assets: [revenue, orders, events, usersDaily, dimUsers, usersChanges],
  schedules: [
    { name: 'daily', cron: '0 6 * * *', selection: '+marts.daily_revenue', publishGroups: ['revenue'] },
  ],
  publishGroups: [{ name: 'revenue', assets: [] }],
  alertRoutes: [{ name: 'log', type: 'log' }],
});

describe('defineDefinitions', () => {
  it('resolves default mappings and keeps explicit ones', () => {
    const deps = (key: string) => defs.asset(key).deps.map((d) => [d.key, d.mapping.fingerprint]);
    expect(deps('core.fct_orders')).toEqual([
      ['raw.events', 'rollup()'],
      ['core.users_daily', 'lookback(1)'],
    ]);
    expect(deps('core.users_daily')).toEqual([['core.dim_users', 'allUpstream()']]);
    expect(deps('core.dim_users')).toEqual([['raw.users_changes', 'identity()']]);
  });

  it('orders assets topologically with ties by key', () => {
    expect(defs.assetsInOrder.map((a) => a.key)).toEqual([
      'raw.events',
      'raw.users_changes',
      'core.dim_users',
      'core.users_daily',
      'core.fct_orders',
      'marts.daily_revenue',
    ]);
    expect(defs.assets.map((a) => a.key)[0]).toBe('core.dim_users');
    expect(defs.graph.levels.get('marts.daily_revenue')).toBe(4);
  });

  it('looks assets up by key, suggesting the nearest on a typo', () => {
    expect(defs.asset('core.dim_users').schema).toBe('core');
    expect(defs.hasAsset('core.dim_user')).toBe(false);
    expect(() => defs.asset('core.dim_user')).toThrow(
      new DslError('unknown asset "core.dim_user"; did you mean "core.dim_users"?'),
    );
  });

  it('selects', () => {
    expect(defs.select('core.dim_users+')).toEqual([
      'core.dim_users',
      'core.fct_orders',
      'core.users_daily',
      'marts.daily_revenue',
    ]);
    expect(defs.select('tag:pii or owner:revenue')).toEqual(['core.dim_users', 'marts.daily_revenue']);
  });

  it('resolves schedules and publish groups', () => {
    expect(defs.schedules[0]).toMatchObject({ timezone: 'UTC', publishGroups: ['revenue'] });
    expect(defs.publishGroups[0]?.assets).toEqual(['marts.daily_revenue']);
    expect(defs.alertRoutes).toEqual([{ name: 'log', type: 'log' }]);
  });

  it('is immutable', () => {
    expect(Object.isFrozen(defs)).toBe(true);
    expect(Object.isFrozen(defs.asset('core.fct_orders').deps)).toBe(true);
  });

  it('keeps code versions from asset()', () => {
    expect(defs.asset('core.fct_orders').codeVersion).toBe(orders.codeVersion);
  });
});

describe('defaultMapping', () => {
  const d = daily({ start });
  const nyDaily = daily({ start, timezone: 'America/New_York' });
  const platforms = staticPartitions(['google', 'meta']);
  const cases: [
    string,
    PartitionsDefinition | undefined,
    PartitionsDefinition | undefined,
    string | undefined,
  ][] = [
    ['unpartitioned both', undefined, undefined, 'identity()'],
    ['daily over unpartitioned', d, undefined, 'allUpstream()'],
    ['unpartitioned over daily', undefined, d, 'allUpstream()'],
    ['daily over daily (other start)', d, daily({ start: '2025-06-01' }), 'identity()'],
    ['daily over hourly', d, hourly({ start: `${start}T00` }), 'rollup()'],
    ['hourly over daily', hourly({ start: `${start}T00` }), d, 'containing()'],
    ['monthly over daily', monthly({ start }), d, 'rollup()'],
    ['static over same static', platforms, staticPartitions(['google', 'meta', 'tiktok']), 'identity()'],
    ['daily over static', d, platforms, 'allUpstream()'],
    [
      'multi over daily',
      multiPartitions({ date: d, platform: platforms }),
      d,
      'dimension("date",identity())',
    ],
    [
      'multi over hourly',
      multiPartitions({ date: d, platform: platforms }),
      hourly({ start: `${start}T00` }),
      'dimension("date",rollup())',
    ],
    [
      'daily over multi',
      d,
      multiPartitions({ date: d, platform: platforms }),
      'dimension("date",identity())',
    ],
    ['daily over daily in another timezone', d, nyDaily, undefined],
    ['monthly over weekly', monthly({ start }), weekly({ start: '2025-12-29' }), undefined],
    ['static over other static', platforms, staticPartitions(['x']), undefined],
  ];
  it.each(cases)('%s', (_name, down, up, expected) => {
    expect(defaultMapping(down, up)?.fingerprint).toBe(expected);
  });
});

describe('buildGraph', () => {
  const g = buildGraph([
    { key: 'a.a', deps: [] },
    { key: 'a.b', deps: [{ key: 'a.a' }] },
    { key: 'a.c', deps: [{ key: 'a.b' }, { key: 'x.unknown' }] },
    { key: 'a.d', deps: [{ key: 'a.a' }] },
  ]);
  it('walks up and down with optional depth, ignoring unknown deps', () => {
    expect(g.upstreamOf('a.c')).toEqual(['a.a', 'a.b']);
    expect(g.upstreamOf('a.c', 1)).toEqual(['a.b']);
    expect(g.downstreamOf('a.a')).toEqual(['a.b', 'a.c', 'a.d']);
    expect(g.downstreamOf('a.a', 1)).toEqual(['a.b', 'a.d']);
    expect(g.upstream.get('a.c')).toEqual(['a.b']);
  });
  it('orders deterministically (smallest ready key first) and computes levels', () => {
    expect(g.topologicalOrder).toEqual(['a.a', 'a.b', 'a.c', 'a.d']);
    expect(Object.fromEntries(g.levels)).toEqual({ 'a.a': 0, 'a.b': 1, 'a.c': 2, 'a.d': 1 });
    expect(g.cycles()).toEqual([]);
  });
  it('refuses to order a cyclic graph, naming the cycle', () => {
    const cyclic = buildGraph([
      { key: 'a.x', deps: [{ key: 'a.y' }] },
      { key: 'a.y', deps: [{ key: 'a.x' }] },
    ]);
    expect(() => cyclic.topologicalOrder).toThrow('the asset graph has a cycle: a.x -> a.y -> a.x');
  });
});
