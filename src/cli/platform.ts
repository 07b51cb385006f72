import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { createActivities } from '../activities/index.js';
import { openStepLeaseStore, type StepLeaseStore } from '../activities/lease-store.js';
import { assertSparkReady } from '../activities/spark-step.js';
import type { TesseraActivities } from '../activities/types.js';
import { assetEngineResolver, type TesseraConfig } from '../config/index.js';
import type { Definitions } from '../dsl/index.js';
import { createEngine, type Engine } from '../engines/index.js';
import { openLedger, type Ledger } from '../ledger/index.js';
import type { SourceLoader } from '../sources/types.js';

/** Everything a worker (or an in-process run) needs, opened from config; `close()` releases it all. */
export interface Platform {
  readonly config: TesseraConfig;
  readonly definitions: Definitions;
  readonly engines: Readonly<Record<string, Engine>>;
  readonly ledger: Ledger;
  readonly activities: TesseraActivities;
  close(): Promise<void>;
}

/**
 * Opens every configured engine (DuckDB files are created on demand) and the ledger. Config validation already
 * refused engine types without an implementation (src/config/schema.ts); an engine that cannot be opened fails
 * start-up naming it, after closing the ones already opened.
 */
export async function openPlatform(opts: {
  config: TesseraConfig;
  definitions: Definitions;
  logger: Logger;
  loaders?: Readonly<Record<string, SourceLoader>>;
  /** More loaders, built over the opened engines (landing folders land into the warehouse they read). */
  loadersFor?: (engines: Readonly<Record<string, Engine>>) => Readonly<Record<string, SourceLoader>>;
}): Promise<Platform> {
  const { config } = opts;
  // Before any engine opens: a selection in `assetEngines` that matches no asset is a start-up error.
  const engineOf = assetEngineResolver(config, opts.definitions);
  // Before any engine opens too: an asset built by a Spark job needs a `spark:` config that can run it.
  assertSparkReady(opts.definitions, config.spark);
  const engines: Record<string, Engine> = {};
  const closeOpened = () => Promise.allSettled(Object.values(engines).map((e) => e.close()));
  for (const [name, engineConfig] of Object.entries(config.engines)) {
    try {
      if (engineConfig.type === 'duckdb' && engineConfig.path !== ':memory:')
        mkdirSync(dirname(engineConfig.path), { recursive: true });
      engines[name] = await createEngine(engineConfig);
    } catch (err) {
      await closeOpened();
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`engine "${name}" (${engineConfig.type}) could not be opened: ${reason}`, {
        cause: err,
      });
    }
  }
  let ledger: Ledger;
  try {
    if (config.ledger.type === 'sqlite') mkdirSync(dirname(config.ledger.path), { recursive: true });
    ledger = await openLedger(config.ledger);
  } catch (err) {
    await closeOpened();
    throw err;
  }
  // Step leases live beside the ledger (same SQLite file or PostgreSQL schema): every worker of a deployment sees them.
  let leases: StepLeaseStore;
  try {
    leases = await openStepLeaseStore(config.ledger);
  } catch (err) {
    await closeOpened();
    await ledger.close();
    throw err;
  }
  const activities = createActivities({
    definitions: opts.definitions,
    engines,
    defaultEngine: config.defaultEngine,
    engineOf,
    ledger,
    leases,
    loaders: { ...opts.loaders, ...opts.loadersFor?.(engines) },
    alertRoutes: config.alerts.routes,
    ...(config.spark ? { spark: config.spark } : {}),
    latenessMs: config.lateness.defaultMinutes * 60_000,
    logger: opts.logger,
  });
  return {
    config,
    definitions: opts.definitions,
    engines,
    ledger,
    activities,
    async close() {
      await Promise.all(Object.values(engines).map((e) => e.close()));
      await ledger.close();
      await leases.close();
    },
  };
}
