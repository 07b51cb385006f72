import { describe, expect, it } from 'vitest';
import { asset } from '../../src/dsl/asset.js';
import { relationship } from '../../src/dsl/checks.js';
import { defaultMapping, defineDefinitions, type DefinitionsSpec } from '../../src/dsl/definitions.js';
import { identity, lookback } from '../../src/dsl/mappings/index.js';
import { daily, hourly } from '../../src/dsl/partitions/index.js';
import type { AssetDeclaration, AssetSpec } from '../../src/dsl/types.js';
import { ValidationError, validateDefinitions, type ValidationProblem } from '../../src/dsl/validate.js';

const fact = (key: string, over: Partial<AssetSpec> = {}): AssetDeclaration =>
  asset({ key, kind: 'fact', sql: 'select 1', ...over });
const mart = (key: string, over: Partial<AssetSpec> = {}): AssetDeclaration =>
  asset({ key, kind: 'mart', sql: 'select 1', ...over });

const problems = (spec: DefinitionsSpec): ValidationProblem[] =>
  validateDefinitions({ ...spec, defaultMapping });
const messages = (spec: DefinitionsSpec): string[] => problems(spec).map((p) => p.message);

describe('validateDefinitions', () => {
  it('accepts a sound project', () => {
    expect(problems({ assets: [fact('raw.a'), mart('marts.b', { deps: ['raw.a'] })] })).toEqual([]);
  });

  it('reports duplicate keys and unknown deps with the nearest key', () => {
    expect(
      problems({ assets: [fact('raw.orders'), fact('raw.orders'), fact('core.x', { deps: ['raw.order'] })] }),
    ).toEqual([
      {
        code: 'duplicate_key',
        asset: 'raw.orders',
        message: 'asset "raw.orders" is defined 2 times; asset keys must be unique',
      },
      {
        code: 'unknown_dep',
        asset: 'core.x',
        message: 'asset "core.x": depends on unknown asset "raw.order"; did you mean "raw.orders"?',
      },
    ]);
  });

  it('prints each cycle as a path', () => {
    const assets = [
      fact('a.x', { deps: ['c.z'] }),
      fact('b.y', { deps: ['a.x'] }),
      fact('c.z', { deps: ['b.y'] }),
      fact('d.w', { deps: ['d.v'] }),
      fact('d.v', { deps: ['d.w'] }),
    ];
    expect(messages({ assets })).toEqual([
      'dependency cycle a.x -> b.y -> c.z -> a.x; remove one of these deps',
      'dependency cycle d.v -> d.w -> d.v; remove one of these deps',
    ]);
  });

  it('reports incompatible explicit mappings with the mapping sentence', () => {
    const assets = [
      fact('raw.h', { partitions: hourly({ start: '2026-01-01T00' }) }),
      fact('core.d', {
        partitions: daily({ start: '2026-01-01' }),
        deps: [{ key: 'raw.h', mapping: identity() }],
      }),
    ];
    const [p] = problems({ assets });
    expect(p?.code).toBe('incompatible_mapping');
    expect(p?.message).toMatch(
      /^asset "core.d": dep "raw.h" \(identity\): identity mapping from daily asset to hourly upstream/,
    );
  });

  it('asks for an explicit mapping when no default fits', () => {
    const assets = [
      fact('raw.ny', { partitions: daily({ start: '2026-01-01', timezone: 'America/New_York' }) }),
      fact('core.d', { partitions: daily({ start: '2026-01-01' }), deps: ['raw.ny'] }),
    ];
    expect(messages({ assets })).toEqual([
      'asset "core.d": no default partition mapping from "raw.ny" (daily in America/New_York) to daily in UTC; pass one: deps: [{ key: \'raw.ny\', mapping: ... }]',
    ]);
  });

  it('asks to align starts for identity deps starting before their upstream, but not for lookbacks', () => {
    const up = fact('raw.e', { partitions: daily({ start: '2026-02-01' }) });
    const early = { partitions: daily({ start: '2026-01-01' }) };
    expect(messages({ assets: [up, fact('core.f', { ...early, deps: ['raw.e'] })] })).toEqual([
      'asset "core.f": starts at partition 2026-01-01 but its upstream "raw.e" starts at 2026-02-01; align the starts (start: \'2026-02-01\') so every partition has its input',
    ]);
    expect(
      problems({
        assets: [up, fact('core.f', { ...early, deps: [{ key: 'raw.e', mapping: lookback(7) }] })],
      }),
    ).toEqual([]);
    const late = { partitions: daily({ start: '2026-03-01' }) };
    expect(problems({ assets: [up, fact('core.f', { ...late, deps: ['raw.e'] })] })).toEqual([]);
  });

  it('checks publish groups: members must be known marts; asset groups must be defined', () => {
    const assets = [
      fact('core.f'),
      mart('marts.rev', { publishGroup: 'revenu' }),
      fact('core.g', { publishGroup: 'revenue' }),
    ];
    const publishGroups = [{ name: 'revenue', assets: ['marts.rev', 'core.f', 'marts.roas'] }];
    expect(messages({ assets, publishGroups })).toEqual([
      'publish group "revenue": "core.f" is a fact; only marts are published',
      'publish group "revenue": unknown asset "marts.roas"; did you mean "marts.rev"?',
      'asset "marts.rev": publishGroup "revenu" is not defined; did you mean "revenue"? (add it to publishGroups)',
      'asset "core.g": only marts can be in a publish group, this is a fact',
    ]);
  });

  it('checks schedules: shape, selection and publish groups', () => {
    const assets = [fact('core.f', { tags: ['daily'] })];
    const schedules = [
      { name: 'ok', cron: '0 6 * * *', selection: 'tag:daily' },
      { name: 'bad_cron', cron: 'daily', selection: 'core.f' },
      { name: 'bad_tz', cron: '0 6 * * *', timezone: 'Mars/Olympus', selection: 'core.f' },
      { name: 'typo', cron: '0 6 * * *', selection: '+core.ff' },
      { name: 'empty', cron: '0 6 * * *', selection: 'kind:metric' },
      { name: 'syntax', cron: '0 6 * * *', selection: 'core.f and' },
      { name: 'groups', cron: '0 6 * * *', selection: 'core.f', publishGroups: ['nope'] },
      { name: 'ok', cron: '0 7 * * *', selection: 'core.f' },
    ];
    const got = messages({ assets, schedules });
    expect(got).toHaveLength(7);
    expect(got[0]).toBe(
      'schedule "bad_cron": cron must be a cron expression with 5 fields, e.g. "0 6 * * *"',
    );
    expect(got[1]).toBe('schedule "bad_tz": timezone must be an IANA timezone, e.g. "Asia/Kolkata"');
    expect(got[2]).toContain(
      'schedule "typo": selection "+core.ff": unknown asset "core.ff"; did you mean "core.f"?',
    );
    expect(got[3]).toBe('schedule "empty": selection "kind:metric" matches no asset');
    expect(got[4]).toContain('schedule "syntax": selection "core.f and": expected a key');
    expect(got[5]).toBe('schedule "groups": unknown publish group "nope"');
    expect(got[6]).toBe('schedule "ok" is defined twice');
  });

  it('checks that relationship checks point at existing assets', () => {
    const assets = [
      fact('core.dim_users'),
      fact('core.f', { checks: [relationship('user_id', 'core.dim_user', 'user_id')] }),
    ];
    expect(messages({ assets })).toEqual([
      'asset "core.f": check "relationship(user_id->core.dim_user.user_id)" refers to unknown asset "core.dim_user"; did you mean "core.dim_users"?',
    ]);
  });

  it('checks alert routes', () => {
    const alertRoutes = [
      { name: 'ops', type: 'slack' as const },
      { name: 'hook', type: 'webhook' as const, url: 'not a url' },
      { name: 'log', type: 'log' as const, match: { owners: ['x'] } },
      { name: 'log', type: 'log' as const },
    ];
    expect(messages({ assets: [], alertRoutes })).toEqual([
      'alert route "ops": url is required for webhook and slack routes',
      'alert route "hook": url must be a URL',
      'alert route "log" is defined twice',
    ]);
  });

  it('defineDefinitions throws one ValidationError listing every problem', () => {
    const assets = [fact('core.a', { deps: ['core.b', 'raw.zzz'] }), fact('core.b', { deps: ['core.a'] })];
    try {
      defineDefinitions({ assets, schedules: [{ name: 's', cron: 'x', selection: '*' }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const error = e as ValidationError;
      expect(error.problems.map((p) => p.code)).toEqual(['unknown_dep', 'cycle', 'schedule']);
      expect(
        error.message.startsWith('3 problems in definitions:\n  - asset "core.a": depends on unknown asset'),
      ).toBe(true);
    }
  });
});
