/**
 * Engines: where SQL runs. Each engine implements the primitives of `Engine` (types.ts): run SQL,
 * replace a partition atomically, merge SCD2, snapshot as of a time, versioned tables and publish-group
 * flips, schema introspection/evolution, checks.
 *
 * Layout (Kysely/Malloy style):
 * - dialect/   pure SQL rendering over a SqlDialect (flags, spellings, type mapper); no I/O, no clock.
 * - core/      SqlEngine: drives a client with rendered SQL (transactions, staging, locks).
 * - <engine>/  one folder per engine: <engine>-dialect.ts, <engine>-types.ts, <engine>-client.ts and a
 *              short <engine>-engine.ts wiring them; registry.ts lists them.
 * May import: src/dsl (types and pure helpers), luxon, zod, the engines' drivers. Not: workflows,
 * activities, ledger, sources.
 */
export type * from './types.js';
export * from './errors.js';
export { ENGINES, DIALECTS, createEngine, availableTestEngines, engineConfigSchema } from './registry.js';
export type { EngineConfig, EngineType, EngineRegistration, DialectName } from './registry.js';
export type { EngineHooks } from './core/context.js';
export { SqlEngine } from './core/sql-engine.js';
export { SqlDialect, SAFE_DEFAULT_FEATURES } from './dialect/dialect.js';
export type { DialectFeatures, Spellings, TableRef } from './dialect/dialect.js';
export { renderTemplate, type TemplateContext } from './dialect/template.js';
export { SCD2_COLUMNS, scd2Columns, type Scd2Columns } from './dialect/scd2-names.js';
export { publicationId, storeRef } from './dialect/publish.js';
export { createDuckDbEngine, duckdbConfigSchema, type DuckDbConfig } from './duckdb/duckdb-engine.js';
export { withJobScope, currentJobScope, type JobScope } from './core/job-scope.js';
export {
  BigQueryEngine,
  bigqueryConfigSchema,
  createBigQueryEngine,
  type BigQueryConfig,
} from './bigquery/bigquery-engine.js';
