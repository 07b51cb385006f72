/**
 * Engines named in config: validated by the registry (an unimplemented type is a start-up error naming the
 * implemented ones, never skipped) and every one of them opened by openPlatform.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openPlatform } from '../../src/cli/platform.js';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { defineDefinitions } from '../../src/dsl/index.js';
import { ENGINES } from '../../src/engines/registry.js';

const base = {
  environment: 'test',
  defaultEngine: 'duckdb',
  ledger: { type: 'sqlite', path: ':memory:' },
};

const configError = (engines: Record<string, unknown>): string => {
  try {
    parseConfig({ ...base, engines }, {});
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('the config was accepted');
};

describe('engines in config', () => {
  const implemented = Object.keys(ENGINES).sort().join(', ');

  it('refuses an engine type without an implementation, naming the key and the implemented types', () => {
    const msg = configError({
      duckdb: { type: 'duckdb', path: ':memory:' },
      lake: { type: 'snowflake', account: 'x' },
    });
    expect(msg).toContain(
      `"engines.lake.type": engine type "snowflake" has no implementation in this build (implemented engines: ${implemented})`,
    );
  });

  it('needs a type, and names unknown or missing keys of a registered engine', () => {
    expect(configError({ duckdb: { path: ':memory:' } })).toContain(
      `"engines.duckdb": an engine needs a "type"; implemented engines: ${implemented}`,
    );
    expect(configError({ duckdb: { type: 'duckdb', path: ':memory:', thread: 2 } })).toContain(
      `"engines.duckdb": Unrecognized key: "thread"`,
    );
    expect(configError({ duckdb: { type: 'duckdb' } })).toMatch(/"engines\.duckdb\.path": /);
  });

  it("keeps the registered engine's own config, defaults included", () => {
    const cfg = parseConfig(
      { ...base, engines: { duckdb: { type: 'duckdb', path: 'w.duckdb', threads: 2 } } },
      {},
    );
    expect(cfg.engines['duckdb']).toEqual({ type: 'duckdb', path: 'w.duckdb', threads: 2 });
  });
});

describe('openPlatform', () => {
  const definitions = defineDefinitions({ assets: [] });
  const logger = pino({ level: 'silent' });

  it('opens every configured engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-engines-'));
    const config = parseConfig(
      {
        ...base,
        engines: {
          duckdb: { type: 'duckdb', path: join(dir, 'a', 'warehouse.duckdb') },
          scratch: { type: 'duckdb', path: ':memory:' },
        },
        ledger: { type: 'sqlite', path: join(dir, 'ledger.sqlite') },
      },
      {},
    );
    const platform = await openPlatform({ config, definitions, logger });
    try {
      expect(Object.keys(platform.engines).sort()).toEqual(['duckdb', 'scratch']);
      for (const engine of Object.values(platform.engines)) {
        expect(await engine.query('SELECT 41 + 1 AS n')).toEqual([{ n: 42 }]);
      }
    } finally {
      await platform.close();
    }
  });

  it('fails start-up naming an engine that cannot be opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-engines-'));
    // A file where the warehouse's folder should be: DuckDB cannot create its database there.
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const config = parseConfig(
      {
        ...base,
        engines: {
          duckdb: { type: 'duckdb', path: ':memory:' },
          broken: { type: 'duckdb', path: join(dir, 'not-a-folder', 'w.duckdb') },
        },
        ledger: { type: 'sqlite', path: join(dir, 'ledger.sqlite') },
      },
      {},
    );
    await expect(openPlatform({ config, definitions, logger })).rejects.toThrow(
      /engine "broken" \(duckdb\) could not be opened: /,
    );
  });
});
