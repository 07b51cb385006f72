import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assetEngineResolver, type TesseraConfig } from '../config/index.js';
import type { Definitions } from '../dsl/index.js';
import type { Engine } from '../engines/index.js';
import type { ErasurePolicy } from '../gdpr/policy.js';
import type { SourceLoader } from '../sources/types.js';
import { UsageError } from './errors.js';

/** What a loader factory gets: the worker's open engines (a loader lands rows in one of them) and the config. */
export interface LoaderDeps {
  readonly engines: Readonly<Record<string, Engine>>;
  readonly config: TesseraConfig;
}

/**
 * A definitions module: `export const definitions = defineDefinitions(...)` (or a default export) and, for
 * assets with `ingest`, `export const loaders = ({ engines }) => ({ user_db: myLoader(engines.duckdb) })`.
 */
export interface DefinitionsModule {
  readonly definitions: Definitions;
  readonly loaders?: (deps: LoaderDeps) => Readonly<Record<string, SourceLoader>>;
  /**
   * The GDPR erasure policy (`export const erasure = defineErasurePolicy(…)`, src/gdpr): what `tessera gdpr
   * erase` does per table. With one, every loader is guarded: each landing re-applies the erasure list.
   */
  readonly erasure?: ErasurePolicy;
}

/** The module's loaders, each followed by the erasure guard when the module declares a policy (src/gdpr/guard.ts). */
async function guarded(module: DefinitionsModule): Promise<DefinitionsModule> {
  const { loaders, erasure } = module;
  if (!loaders || !erasure) return module;
  const { ErasureGuard, guardLoaders } = await import('../gdpr/guard.js');
  return {
    ...module,
    loaders: (deps) =>
      guardLoaders(
        loaders(deps),
        new ErasureGuard({
          definitions: module.definitions,
          policy: erasure,
          engines: deps.engines,
          defaultEngine: deps.config.defaultEngine,
          engineNameOf: assetEngineResolver(deps.config, module.definitions),
        }),
      ),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const isDefinitions = (v: unknown): v is Definitions =>
  isRecord(v) &&
  Array.isArray(v['assets']) &&
  Array.isArray(v['publishGroups']) &&
  typeof v['select'] === 'function' &&
  typeof v['asset'] === 'function';

/**
 * BookMyEvent's catalog with landing-folder loaders over `<stateDir>/landing` (where `tessera simulate` writes),
 * or the live transports (PostgreSQL slots, Kafka, ads APIs) when the config declares them; both land into the
 * default engine, with PII hashed by TESSERA_PII_KEY and credentials dropped (src/assets/pii.ts).
 */
async function bookMyEventModule(): Promise<DefinitionsModule> {
  const [{ bookMyEvent }, { BOOKMYEVENT_PII }, { landingLoaders }, { liveLoaders }, { BOOKMYEVENT_ERASURE }] =
    await Promise.all([
      import('../assets/index.js'),
      import('../assets/pii.js'),
      import('../sources/landing/landing-loaders.js'),
      import('../sources/live/live-loaders.js'),
      import('../assets/gdpr.js'),
    ]);
  return {
    definitions: bookMyEvent,
    erasure: BOOKMYEVENT_ERASURE,
    loaders: ({ engines, config }) => {
      const engine = engines[config.defaultEngine];
      if (!engine) return {};
      const landingDir = join(config.stateDir, 'landing');
      const piiKey = process.env.TESSERA_PII_KEY;
      // Live transports when the config names them (config/live.yaml, production); the landing folder otherwise.
      const live = Object.values(config.sources).some((s) => s.type === 'postgres' || s.type === 'kafka');
      if (live)
        return liveLoaders({ engine, sources: config.sources, landingDir, ...(piiKey ? { piiKey } : {}) })
          .loaders;
      return landingLoaders({
        engine,
        landingDir,
        pii: BOOKMYEVENT_PII,
        ...(piiKey ? { piiKey } : {}),
      });
    },
  };
}

/**
 * BookMyEvent's catalog (src/assets), or the module named by `--definitions` / TESSERA_DEFINITIONS (a path to a
 * .ts or .js file, relative to the working directory): another project, or a test catalog with its loaders.
 */
export async function loadDefinitionsModule(path: string | undefined): Promise<DefinitionsModule> {
  if (path === undefined || path === '') return guarded(await bookMyEventModule());
  const file = resolve(path);
  if (!existsSync(file)) throw new UsageError(`--definitions: no module at ${file}`);
  const mod: unknown = await import(pathToFileURL(file).href);
  const exported = isRecord(mod) ? (mod['definitions'] ?? mod['default']) : undefined;
  if (!isDefinitions(exported))
    throw new UsageError(
      `--definitions: ${file} exports no \`definitions\` (or default) made by defineDefinitions()`,
    );
  const loaders = isRecord(mod) ? mod['loaders'] : undefined;
  if (loaders !== undefined && typeof loaders !== 'function')
    throw new UsageError(
      `--definitions: \`loaders\` in ${file} must be a function ({ engines, config }) => loaders`,
    );
  const erasure = isRecord(mod) ? mod['erasure'] : undefined;
  if (erasure !== undefined && !(isRecord(erasure) && isRecord(erasure['tables'])))
    throw new UsageError(`--definitions: \`erasure\` in ${file} must be made by defineErasurePolicy()`);
  return guarded({
    definitions: exported,
    ...(loaders ? { loaders: loaders as NonNullable<DefinitionsModule['loaders']> } : {}),
    ...(erasure ? { erasure: erasure as unknown as ErasurePolicy } : {}),
  });
}
