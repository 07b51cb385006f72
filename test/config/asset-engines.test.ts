/**
 * `assetEngines`: the environment places assets on engines by selection (first rule wins), without touching the
 * catalog's code. Unknown engine names and bad selections fail at start-up; the activities build each asset on
 * the engine its rule names.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openPlatform } from '../../src/cli/platform.js';
import { assetEngineResolver, ConfigError, parseConfig } from '../../src/config/index.js';
import { asset, daily, defineDefinitions } from '../../src/dsl/index.js';
import type { PlanStep } from '../../src/planner/index.js';

const byDay = daily({ start: '2026-11-01' });
const definitions = defineDefinitions({
  assets: [
    asset({
      key: 'core.dim_a',
      kind: 'fact',
      partitions: byDay,
      sql: `select 1 as x`,
    }),
    asset({
      key: 'core.fct_b',
      kind: 'fact',
      partitions: byDay,
      deps: ['core.dim_a'],
      sql: `select 2 as x`,
    }),
    asset({
      key: 'marts.c',
      kind: 'mart',
      partitions: byDay,
      deps: ['core.fct_b'],
      sql: `select 3 as x`,
    }),
    asset({
      key: 'marts.pinned',
      kind: 'mart',
      partitions: byDay,
      engine: 'left',
      sql: `select 4 as x`,
    }),
  ],
});

const raw = (assetEngines: Record<string, string>) => ({
  environment: 'test',
  defaultEngine: 'left',
  engines: {
    left: { type: 'duckdb', path: ':memory:' },
    right: { type: 'duckdb', path: ':memory:' },
  },
  assetEngines,
  ledger: { type: 'sqlite', path: ':memory:' },
});

const configError = (assetEngines: Record<string, string>): string => {
  try {
    parseConfig(raw(assetEngines), {});
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('the config was accepted');
};

describe('assetEngines', () => {
  it('places assets by the first rule that selects them; code-pinned engines and the default stay', () => {
    const config = parseConfig(raw({ 'core.dim_*': 'right', 'marts.*': 'right', '*': 'left' }), {});
    const engineOf = assetEngineResolver(config, definitions);
    const placed = Object.fromEntries(definitions.assets.map((a) => [a.key, engineOf(a)]));
    expect(placed).toEqual({
      'core.dim_a': 'right',
      'core.fct_b': 'left',
      'marts.c': 'right',
      'marts.pinned': 'left',
    });
    // Rule order decides: the catch-all first takes everything it selects.
    const first = assetEngineResolver(parseConfig(raw({ '*': 'right', 'core.*': 'left' }), {}), definitions);
    expect(first(definitions.asset('core.fct_b'))).toBe('right');
    // No rules: the defaultEngine, as before.
    const none = assetEngineResolver(parseConfig(raw({}), {}), definitions);
    expect(none(definitions.asset('core.fct_b'))).toBe('left');
  });

  it('refuses an engine name that is not configured, naming the rule and the configured engines', () => {
    expect(configError({ 'core.*': 'spark' })).toContain(
      '"assetEngines.core.*": names engine "spark", which is not configured; configured engines: left, right',
    );
  });

  it('refuses a selection that does not parse at config load, and one that selects nothing at start-up', async () => {
    expect(configError({ 'core.dim_a and': 'right' })).toMatch(/"assetEngines\.core\.dim_a and": .*expected/);
    const config = parseConfig(raw({ 'core.dim_x': 'right' }), {});
    await expect(openPlatform({ config, definitions, logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /config "assetEngines": .*unknown asset "core\.dim_x"; did you mean "core\.dim_a"/,
    );
  });

  it('builds each asset on the engine its rule names', async () => {
    const config = parseConfig(raw({ 'core.dim_*': 'right', '*': 'left' }), {});
    const platform = await openPlatform({ config, definitions, logger: pino({ level: 'silent' }) });
    try {
      const step = (assetKey: string): PlanStep => ({
        id: `${assetKey}@2026-11-01`,
        assetKey,
        partitionKey: '2026-11-01',
        reason: 'missing',
        upstream: [],
        inputs: [],
      });
      for (const key of ['core.dim_a', 'core.fct_b'])
        expect(
          (await platform.activities.materializeStep({ runId: 'r1', step: step(key), force: false })).status,
        ).toBe('success');
      const tables = async (name: 'left' | 'right') =>
        (
          await platform.engines[name]!.query<{ t: string }>(
            `select table_schema || '.' || table_name as t from information_schema.tables where table_schema = 'core' order by 1`,
          )
        ).map((r) => r.t);
      expect(await tables('right')).toEqual(['core.dim_a']);
      expect(await tables('left')).toEqual(['core.fct_b']);
    } finally {
      await platform.close();
    }
  });
});
