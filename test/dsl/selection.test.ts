import { describe, expect, it } from 'vitest';
import { buildGraph } from '../../src/dsl/graph.js';
import {
  parseSelection,
  selectKeys,
  SelectionError,
  type SelectableAsset,
  type SelectionUniverse,
} from '../../src/dsl/selection/index.js';
import type { AssetKind } from '../../src/dsl/types.js';

// raw.users_changes -> core.dim_users -> core.users_daily -> marts.daily_revenue <- core.fct_orders <- raw.orders
const node = (key: string, kind: AssetKind, deps: string[], extra: Partial<SelectableAsset> = {}) => ({
  key,
  kind,
  schema: key.split('.')[0] ?? '',
  tags: [],
  owners: [],
  deps: deps.map((k) => ({ key: k })),
  ...extra,
});
const assets = [
  node('raw.users_changes', 'raw_cdc', [], { tags: ['cdc'], owners: ['platform'] }),
  node('raw.orders', 'raw_cdc', [], { tags: ['cdc'], owners: ['platform'] }),
  node('core.dim_users', 'scd2', ['raw.users_changes'], { tags: ['pii'], group: 'users' }),
  node('core.users_daily', 'snapshot', ['core.dim_users'], { group: 'users' }),
  node('core.fct_orders', 'fact', ['raw.orders'], { owners: ['revenue'] }),
  node('marts.daily_revenue', 'mart', ['core.users_daily', 'core.fct_orders'], {
    tags: ['marketing'],
    owners: ['revenue'],
  }),
];
const graph = buildGraph(assets);
const universe: SelectionUniverse = {
  assets,
  upstreamOf: graph.upstreamOf,
  downstreamOf: graph.downstreamOf,
};
const sel = (s: string): string[] => selectKeys(s, universe);
const error = (s: string): SelectionError => {
  try {
    sel(s);
  } catch (e) {
    if (e instanceof SelectionError) return e;
    throw e;
  }
  throw new Error(`no error for ${s}`);
};

describe('parseSelection', () => {
  it('parses graph operators with depths into plain data', () => {
    expect(parseSelection('2+core.dim_users+')).toEqual({
      type: 'graph',
      of: { type: 'key', pattern: 'core.dim_users', position: 2 },
      upstream: 2,
      downstream: 'all',
    });
    expect(parseSelection('core.dim_users+1')).toMatchObject({ type: 'graph', downstream: 1 });
  });
  it('binds not > and > or', () => {
    expect(parseSelection('a.b or not c.d and e.f')).toMatchObject({
      type: 'or',
      left: { type: 'key', pattern: 'a.b' },
      right: { type: 'and', left: { type: 'not', operand: { type: 'key', pattern: 'c.d' } } },
    });
  });
  it('treats a comma as or, and parentheses group', () => {
    expect(parseSelection('(a.b, c.d) and tag:x')).toMatchObject({
      type: 'and',
      left: { type: 'or' },
      right: { type: 'attribute', attribute: 'tag', value: 'x' },
    });
  });
  it.each([
    ['a.b and', 7, 'expected a key'],
    ['a.b c.d', 4, "expected 'and', 'or'"],
    ['(a.b', 4, "expected ')'"],
    ['color:red', 0, 'unknown selector "color:"'],
    ['tag:', 4, 'expected a value after "tag:"'],
    ['a.b & c.d', 4, "unexpected character '&'"],
  ])('rejects %j at position %i', (input, position, message) => {
    try {
      parseSelection(input);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SelectionError);
      expect((e as SelectionError).position).toBe(position);
      expect((e as SelectionError).message).toContain(message);
    }
  });
});

describe('selectKeys', () => {
  it('selects exact keys, upstream and downstream closures', () => {
    expect(sel('core.dim_users')).toEqual(['core.dim_users']);
    expect(sel('+core.users_daily')).toEqual(['core.dim_users', 'core.users_daily', 'raw.users_changes']);
    expect(sel('core.dim_users+')).toEqual(['core.dim_users', 'core.users_daily', 'marts.daily_revenue']);
    expect(sel('+core.dim_users+')).toEqual([
      'core.dim_users',
      'core.users_daily',
      'marts.daily_revenue',
      'raw.users_changes',
    ]);
  });
  it('limits graph walks by depth', () => {
    expect(sel('1+marts.daily_revenue')).toEqual([
      'core.fct_orders',
      'core.users_daily',
      'marts.daily_revenue',
    ]);
    expect(sel('raw.users_changes+2')).toEqual(['core.dim_users', 'core.users_daily', 'raw.users_changes']);
  });
  it('selects by tag, kind, owner, group and schema, and combines', () => {
    expect(sel('tag:cdc')).toEqual(['raw.orders', 'raw.users_changes']);
    expect(sel('kind:scd2 or kind:snapshot')).toEqual(['core.dim_users', 'core.users_daily']);
    expect(sel('owner:revenue and not kind:mart')).toEqual(['core.fct_orders']);
    expect(sel('group:users')).toEqual(['core.dim_users', 'core.users_daily']);
    expect(sel('schema:core and not (tag:pii, group:users)')).toEqual(['core.fct_orders']);
    expect(sel('+tag:marketing and schema:raw')).toEqual(['raw.orders', 'raw.users_changes']);
    expect(sel('kind:metric')).toEqual([]);
  });
  it('supports globs', () => {
    expect(sel('core.*')).toEqual(['core.dim_users', 'core.fct_orders', 'core.users_daily']);
    expect(sel('*')).toHaveLength(6);
    expect(sel('*.*users*')).toEqual(['core.dim_users', 'core.users_daily', 'raw.users_changes']);
  });
  it('names an unknown key and suggests the nearest', () => {
    const e = error('+core.dim_user');
    expect(e.message).toContain('unknown asset "core.dim_user"; did you mean "core.dim_users"?');
    expect(e.position).toBe(1);
  });
  it('names valid values for an unknown tag, owner, group or kind', () => {
    expect(error('tag:markting').message).toContain('did you mean "marketing"?');
    expect(error('tag:nothing').message).toContain('known tag values: cdc, marketing, pii');
    expect(error('owner:nobody').message).toContain('known owner values: platform, revenue');
    expect(error('kind:dimension').message).toContain('kinds are raw_cdc, snapshot, scd2');
    expect(error('schema:staging').message).toContain('known schema values: core, marts, raw');
    expect(error('nope.*').message).toContain('"nope.*" matches no asset');
  });
  it('shows a caret under the problem', () => {
    expect(error('tag:cdc and core.x').message).toContain('\n  tag:cdc and core.x\n              ^');
  });
});
