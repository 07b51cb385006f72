import { describe, expect, it } from 'vitest';
import { asset } from '../../src/dsl/asset.js';
import { notNull, relationship, resolveCheck, rowCount, unique } from '../../src/dsl/checks.js';
import type { PartitionMapping } from '../../src/dsl/mappings/types.js';
import { daily, staticPartitions } from '../../src/dsl/partitions/index.js';
import type { AssetSpec } from '../../src/dsl/types.js';
import { ValidationError } from '../../src/dsl/validate.js';

const problemsOf = (spec: AssetSpec): string[] => {
  try {
    asset(spec);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems.map((p) => p.message);
    throw e;
  }
  return [];
};

const dimUsers: AssetSpec = {
  key: 'core.dim_users',
  kind: 'scd2',
  scd2: { source: 'raw.users_changes', businessKey: ['user_id'], tracked: ['email', 'city'] },
  owners: ['data-platform'],
};

describe('asset', () => {
  it('fills defaults and splits the key', () => {
    const a = asset({ key: 'marts.daily_revenue', kind: 'mart', sql: 'select 1', deps: ['core.fct_orders'] });
    expect(a).toMatchObject({ schema: 'marts', name: 'daily_revenue', owners: [], tags: [], checks: [] });
    expect(a.deps).toEqual([{ key: 'core.fct_orders' }]);
    expect(a.codeVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('adds the implied source dep and a blocking scd2_intervals check for scd2', () => {
    const a = asset(dimUsers);
    expect(a.deps).toEqual([{ key: 'raw.users_changes' }]);
    expect(a.checks).toEqual([{ type: 'scd2_intervals', name: 'scd2_intervals', blocking: true }]);
  });

  it('adds the implied dep of a snapshot, keeping an explicit mapping when the dep is listed', () => {
    const mapping: PartitionMapping = {
      type: 'all_upstream',
      fingerprint: 'all_upstream',
      upstreamKeys: () => [''],
      incompatibility: () => undefined,
    };
    const spec: AssetSpec = {
      key: 'core.users_daily',
      kind: 'snapshot',
      snapshot: { from: 'core.dim_users' },
      partitions: daily({ start: '2026-01-01' }),
    };
    expect(asset(spec).deps).toEqual([{ key: 'core.dim_users' }]);
    expect(asset({ ...spec, deps: [{ key: 'core.dim_users', mapping }] }).deps[0]?.mapping).toBe(mapping);
  });

  it('adds unique and not_null checks on the primary key; a user check of the same name wins', () => {
    const spec: AssetSpec = {
      key: 'core.fct_orders',
      kind: 'fact',
      sql: 'select 1',
      primaryKey: ['order_id'],
    };
    expect(asset(spec).checks.map((c) => c.name)).toEqual(['unique(order_id)', 'not_null(order_id)']);
    const relaxed = asset({ ...spec, checks: [{ ...unique('order_id'), blocking: false }] });
    expect(relaxed.checks).toEqual([
      { type: 'not_null', columns: ['order_id'], name: 'not_null(order_id)', blocking: true },
      { type: 'unique', columns: ['order_id'], name: 'unique(order_id)', blocking: false },
    ]);
  });

  it('names the asset and the field in errors', () => {
    expect(problemsOf({ ...dimUsers, scd2: { ...dimUsers.scd2!, businessKey: [] } })).toEqual([
      'asset "core.dim_users": scd2.businessKey must not be empty',
    ]);
    expect(problemsOf({ key: 'Core.DimUsers', kind: 'fact', sql: 'select 1' })[0]).toMatch(
      /^asset "Core.DimUsers": key must be a lower snake case "schema.name"/,
    );
    expect(problemsOf({ key: 'dim_users', kind: 'fact', sql: 'select 1' })).toHaveLength(1);
  });

  it('suggests the field meant by an unknown one', () => {
    const spec = { key: 'core.t', kind: 'fact', sql: 'select 1', partition: daily({ start: '2026-01-01' }) };
    expect(problemsOf(spec as unknown as AssetSpec)).toEqual([
      'asset "core.t": unknown field "partition"; did you mean "partitions"?',
    ]);
  });

  it('enforces kind requirements, reporting all problems at once', () => {
    expect(problemsOf({ key: 'core.t', kind: 'fact' })).toEqual([
      'asset "core.t": kind fact needs sql (the SELECT producing a partition)',
    ]);
    expect(problemsOf({ key: 'raw.t', kind: 'raw_cdc' })).toEqual([
      'asset "raw.t": kind raw_cdc needs ingest options',
    ]);
    expect(problemsOf({ key: 'core.s', kind: 'snapshot', snapshot: { from: 'core.d' } })).toEqual([
      'asset "core.s": kind snapshot needs time partitions, e.g. partitions: daily({ start: \'2026-01-01\' })',
    ]);
    expect(
      problemsOf({
        key: 'core.s',
        kind: 'snapshot',
        snapshot: { from: 'core.d' },
        partitions: staticPartitions(['a']),
      }),
    ).toHaveLength(1);
    expect(problemsOf({ ...dimUsers, sql: 'select 1', snapshot: { from: 'core.x' }, owners: [''] })).toEqual([
      'asset "core.dim_users": owners[0] must not be empty',
      'asset "core.dim_users": sql is generated for kind scd2; remove sql or use kind custom',
      'asset "core.dim_users": snapshot options only apply to kind snapshot',
    ]);
    expect(problemsOf({ key: 'core.t', kind: 'table' as never, sql: 'x' })[0]).toContain(
      'kind must be one of raw_cdc, snapshot, scd2, fact, metric, mart, custom',
    );
  });

  it('rejects self, duplicate and malformed deps', () => {
    expect(problemsOf({ key: 'core.t', kind: 'fact', sql: 'x', deps: ['core.t', 'raw.a', 'raw.a'] })).toEqual(
      ['asset "core.t": depends on itself', 'asset "core.t": dep "raw.a" is listed twice'],
    );
    expect(problemsOf({ key: 'core.t', kind: 'fact', sql: 'x', deps: ['Raw.A'] })[0]).toContain(
      'deps[0] must be',
    );
    expect(
      problemsOf({ key: 'core.t', kind: 'fact', sql: 'x', deps: [{ key: 'raw.a', mapping: 3 as never }] })[0],
    ).toContain('deps[0].mapping must be made with identity()');
  });

  it('validates checks and rejects duplicate check names', () => {
    const spec: AssetSpec = { key: 'core.t', kind: 'fact', sql: 'x', checks: [unique('a'), unique('a')] };
    expect(problemsOf(spec)).toEqual(['asset "core.t": two checks are named "unique(a)"; give one a name']);
    expect(problemsOf({ ...spec, checks: [rowCount({ min: 5, max: 1 })] })).toEqual([
      'asset "core.t": checks[0] min must be <= max',
    ]);
    expect(problemsOf({ ...spec, checks: [notNull()] })).toEqual([
      'asset "core.t": checks[0].columns must name at least one column',
    ]);
  });

  it('keeps the code version when only descriptive fields change', () => {
    const v = asset(dimUsers).codeVersion;
    const described = asset({
      ...dimUsers,
      description: 'users',
      owners: ['x'],
      tags: ['pii'],
      group: 'g',
      checks: [rowCount({ min: 1 })],
    });
    expect(described.codeVersion).toBe(v);
    expect(asset({ ...dimUsers, scd2: { ...dimUsers.scd2!, tracked: ['email'] } }).codeVersion).not.toBe(v);
  });
});

describe('check builders', () => {
  it('give readable default names', () => {
    expect(resolveCheck(unique('a', 'b'))).toEqual({
      type: 'unique',
      columns: ['a', 'b'],
      name: 'unique(a,b)',
      blocking: true,
    });
    expect(resolveCheck(rowCount({ min: 1 })).name).toBe('row_count(min=1)');
    expect(resolveCheck(relationship('user_id', 'core.dim_users', 'user_id')).name).toBe(
      'relationship(user_id->core.dim_users.user_id)',
    );
    expect(resolveCheck({ type: 'sql', sql: 'select 1', name: 'custom', blocking: false })).toMatchObject({
      name: 'custom',
      blocking: false,
    });
  });
});
