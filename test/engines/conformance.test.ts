import { describe, it, expect } from 'vitest';
import { availableTestEngines, ENGINES } from '../../src/engines/registry.js';
import { checksSuite } from './conformance/checks.js';
import { publishSuite } from './conformance/publish.js';
import { replaceSuite } from './conformance/replace.js';
import { scd2Suite } from './conformance/scd2.js';

/**
 * The engine conformance suite: every registered engine whose server is available here runs the same
 * behavioural tests (DuckDB always; Trino/BigQuery/Spark when their registration finds a server).
 */
const engines = await availableTestEngines();

it('runs at least the embedded engine', () => {
  expect(engines.map((e) => e.type)).toContain('duckdb');
  expect(Object.keys(ENGINES).length).toBeGreaterThanOrEqual(engines.length);
});

for (const factory of engines) {
  describe(`engine ${factory.type}`, () => {
    replaceSuite(factory);
    scd2Suite(factory);
    publishSuite(factory);
    checksSuite(factory);
  });
}
