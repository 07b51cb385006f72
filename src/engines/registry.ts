import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { EngineHooks } from './core/context.js';
import type { SqlDialect } from './dialect/dialect.js';
import { createDuckDbEngine, duckdbConfigSchema } from './duckdb/duckdb-engine.js';
import { duckdbDialect } from './duckdb/duckdb-dialect.js';
import { bigqueryDialect } from './bigquery/bigquery-dialect.js';
import { bigqueryConfigSchema, createBigQueryEngine } from './bigquery/bigquery-engine.js';
import { postgresDialect } from './postgres/postgres-dialect.js';
import { sparkDialect } from './spark/spark-dialect.js';
import { createSparkEngine, sparkConfigSchema } from './spark/spark-engine.js';
import { trinoDialect } from './trino/trino-dialect.js';
import { createTrinoEngine, trinoConfigSchema } from './trino/trino-engine.js';
import type { Engine } from './types.js';

/**
 * Every engine Tessera knows: its config schema, dialect, how to create it, and how the conformance
 * suite gets a throwaway instance when its server is up. Adding an engine = one entry here.
 */

export const engineConfigSchema = z.discriminatedUnion('type', [
  duckdbConfigSchema,
  sparkConfigSchema,
  bigqueryConfigSchema,
  trinoConfigSchema,
]);
export type EngineConfig = z.infer<typeof engineConfigSchema>;
export type EngineType = EngineConfig['type'];

export interface EngineRegistration<C extends EngineConfig = EngineConfig> {
  readonly type: C['type'];
  readonly dialect: SqlDialect;
  create(config: C, hooks?: EngineHooks): Promise<Engine>;
  /** A config for a scratch instance, or undefined when the engine's server is not available here. */
  testConfig(): Promise<C | undefined>;
}

/**
 * A server the test setup announced (its URL is in the environment) must answer: a busy machine gets two minutes,
 * then the engine's tests fail with the reason instead of being skipped as if the server had never been started.
 */
async function serverAnswers(variable: string, url: string, healthy: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (await healthy().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${variable}=${url} is set, but the server does not answer`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const duckdb: EngineRegistration<Extract<EngineConfig, { type: 'duckdb' }>> = {
  type: 'duckdb',
  dialect: duckdbDialect,
  create: (config, hooks) => createDuckDbEngine(config, hooks),
  // Embedded: always available.
  testConfig: async () => ({ type: 'duckdb', path: ':memory:' }),
};

const spark: EngineRegistration<Extract<EngineConfig, { type: 'spark' }>> = {
  type: 'spark',
  dialect: sparkDialect,
  create: (config, hooks) => createSparkEngine(config, hooks),
  // The SQL server of scripts/services/spark.sh, when it answers; each test engine gets its own catalog.
  testConfig: async () => {
    const url = process.env['TESSERA_SPARK_URL'];
    if (!url) return undefined;
    await serverAnswers('TESSERA_SPARK_URL', url, () =>
      fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok),
    );
    return { type: 'spark', url, isolated: true };
  },
};

const bigquery: EngineRegistration<Extract<EngineConfig, { type: 'bigquery' }>> = {
  type: 'bigquery',
  dialect: bigqueryDialect,
  create: (config, hooks) => createBigQueryEngine(config, hooks),
  // The emulator binary scripts/services/bigquery.sh built: each test engine runs a private, empty one.
  testConfig: async () => {
    const binary = process.env['TESSERA_BQ_EMULATOR_BIN'];
    if (!binary || !existsSync(binary)) return undefined;
    return bigqueryConfigSchema.parse({ type: 'bigquery', projectId: 'test', emulatorBinary: binary });
  },
};

const trino: EngineRegistration<Extract<EngineConfig, { type: 'trino' }>> = {
  type: 'trino',
  dialect: trinoDialect,
  create: (config, hooks) => createTrinoEngine(config, hooks),
  // The server of scripts/services/trino.sh, when it has started; each test engine gets its own Iceberg catalog.
  testConfig: async () => {
    const url = process.env['TESSERA_TRINO_URL'];
    const jdbcUrl = process.env['TESSERA_LAKEHOUSE_JDBC_URL'];
    const warehouse = process.env['TESSERA_LAKEHOUSE_WAREHOUSE'];
    if (!url || !jdbcUrl || !warehouse) return undefined;
    await serverAnswers('TESSERA_TRINO_URL', url, () =>
      fetch(`${url}/v1/info`, { signal: AbortSignal.timeout(5000) }).then(
        async (r) => r.ok && (((await r.json()) as { starting?: boolean }).starting ?? true) === false,
      ),
    );
    return trinoConfigSchema.parse({ type: 'trino', url, isolated: { jdbcUrl, warehouse } });
  },
};

export const ENGINES: { readonly [T in EngineType]: EngineRegistration<Extract<EngineConfig, { type: T }>> } =
  {
    duckdb,
    spark,
    bigquery,
    trino,
  };

/** Dialects rendered in the SQL snapshot tests, including render-only ones without an engine yet. */
export const DIALECTS = { duckdb: duckdbDialect, postgres: postgresDialect } as const;
export type DialectName = keyof typeof DIALECTS;

export async function createEngine(config: unknown, hooks?: EngineHooks): Promise<Engine> {
  const parsed = engineConfigSchema.parse(config);
  // Dispatch through the registry: the parsed config is the config of the registration its `type` names.
  const registration = ENGINES[parsed.type] as EngineRegistration;
  return registration.create(parsed, hooks);
}

/** Registered engines that can run here, each with a factory for scratch instances (conformance suite). */
export async function availableTestEngines(): Promise<
  { readonly type: EngineType; create(hooks?: EngineHooks): Promise<Engine> }[]
> {
  const out: { readonly type: EngineType; create(hooks?: EngineHooks): Promise<Engine> }[] = [];
  // Each registration's create takes its own config; viewed through the union type, testConfig's result fits.
  for (const registration of Object.values(ENGINES) as EngineRegistration[]) {
    const config = await registration.testConfig();
    if (config) out.push({ type: registration.type, create: (hooks) => registration.create(config, hooks) });
  }
  return out;
}
