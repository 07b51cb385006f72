import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { createActivities } from '../activities/index.js';
import type { TesseraActivities } from '../activities/types.js';
import type { TesseraConfig } from '../config/index.js';
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
 * Opens the engines this machine can run (DuckDB files are created on demand) and the ledger. Engines whose
 * type has no implementation here yet are left out; an asset routed to one fails with a clear error.
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
  const engines: Record<string, Engine> = {};
  for (const [name, engineConfig] of Object.entries(config.engines)) {
    if (engineConfig.type !== 'duckdb') continue;
    if (engineConfig.path !== ':memory:') mkdirSync(dirname(engineConfig.path), { recursive: true });
    engines[name] = await createEngine(engineConfig);
  }
  if (config.ledger.type === 'sqlite') mkdirSync(dirname(config.ledger.path), { recursive: true });
  const ledger = await openLedger(config.ledger);
  const activities = createActivities({
    definitions: opts.definitions,
    engines,
    defaultEngine: config.defaultEngine,
    ledger,
    loaders: { ...opts.loaders, ...opts.loadersFor?.(engines) },
    alertRoutes: config.alerts.routes,
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
    },
  };
}
