import { existsSync } from 'node:fs';
import { it, expect } from 'vitest';
import { availableTestEngines, ENGINES } from '../../src/engines/registry.js';
import { conformanceSuite } from './conformance/suite.js';

/**
 * The engine conformance suite on the embedded engine; each server engine runs the same suite in its own
 * file (conformance-<engine>.test.ts), so two engines run side by side.
 */
it('runs at least the embedded engine, and every registered engine has a suite file', async () => {
  const engines = await availableTestEngines();
  expect(engines.map((e) => e.type)).toContain('duckdb');
  const missing = Object.keys(ENGINES).filter(
    (type) => type !== 'duckdb' && !existsSync(new URL(`./conformance-${type}.test.ts`, import.meta.url)),
  );
  expect(missing).toEqual([]);
});

await conformanceSuite('duckdb');
