import { z } from 'zod';
import type { EngineHooks } from './core/context.js';
import type { SqlDialect } from './dialect/dialect.js';
import { createDuckDbEngine, duckdbConfigSchema } from './duckdb/duckdb-engine.js';
import { duckdbDialect } from './duckdb/duckdb-dialect.js';
import { postgresDialect } from './postgres/postgres-dialect.js';
import type { Engine } from './types.js';

/**
 * Every engine Tessera knows: its config schema, dialect, how to create it, and how the conformance
 * suite gets a throwaway instance when its server is up. Adding an engine = one entry here.
 */

export const engineConfigSchema = z.discriminatedUnion('type', [duckdbConfigSchema]);
export type EngineConfig = z.infer<typeof engineConfigSchema>;
export type EngineType = EngineConfig['type'];

export interface EngineRegistration<C extends EngineConfig = EngineConfig> {
  readonly type: C['type'];
  readonly dialect: SqlDialect;
  create(config: C, hooks?: EngineHooks): Promise<Engine>;
  /** A config for a scratch instance, or undefined when the engine's server is not available here. */
  testConfig(): Promise<C | undefined>;
}

const duckdb: EngineRegistration<Extract<EngineConfig, { type: 'duckdb' }>> = {
  type: 'duckdb',
  dialect: duckdbDialect,
  create: (config, hooks) => createDuckDbEngine(config, hooks),
  // Embedded: always available.
  testConfig: async () => ({ type: 'duckdb', path: ':memory:' }),
};

export const ENGINES: { readonly [T in EngineType]: EngineRegistration<Extract<EngineConfig, { type: T }>> } =
  {
    duckdb,
  };

/** Dialects rendered in the SQL snapshot tests, including render-only ones without an engine yet. */
export const DIALECTS = { duckdb: duckdbDialect, postgres: postgresDialect } as const;
export type DialectName = keyof typeof DIALECTS;

export async function createEngine(config: unknown, hooks?: EngineHooks): Promise<Engine> {
  const parsed = engineConfigSchema.parse(config);
  switch (parsed.type) {
    case 'duckdb':
      return ENGINES.duckdb.create(parsed, hooks);
  }
}

/** Registered engines that can run here, each with a factory for scratch instances (conformance suite). */
export async function availableTestEngines(): Promise<
  { readonly type: EngineType; create(hooks?: EngineHooks): Promise<Engine> }[]
> {
  const out: { readonly type: EngineType; create(hooks?: EngineHooks): Promise<Engine> }[] = [];
  for (const registration of Object.values(ENGINES)) {
    const config = await registration.testConfig();
    if (config) out.push({ type: registration.type, create: (hooks) => registration.create(config, hooks) });
  }
  return out;
}
