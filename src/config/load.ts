import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type TesseraConfig } from './schema.js';
import { withSparkEnvDefaults } from './spark.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `${env:NAME}` or `${env:NAME:-default}`: secrets come from the environment, never from the file. */
const ENV_REF = /\$\{env:([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name] ?? fallback;
      if (v === undefined)
        throw new ConfigError(`config key "${path}": environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, path ? `${path}.${k}` : k)]),
    );
  }
  return value;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const key = i.path.map(String).join('.') || '(root)';
      return `  - "${key}": ${i.message}`;
    })
    .join('\n');
}

/** Validates a parsed config object; errors name every bad key. */
export function parseConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = process.env,
  source = 'config',
): TesseraConfig {
  const interpolated = interpolate(raw, env, '');
  // A `spark:` section takes the keys it leaves out from the TESSERA_SPARK_* environment (src/config/spark.ts).
  const withDefaults =
    interpolated !== null && typeof interpolated === 'object' && 'spark' in interpolated
      ? { ...interpolated, spark: withSparkEnvDefaults(interpolated.spark, env) }
      : interpolated;
  const result = configSchema.safeParse(withDefaults);
  if (!result.success) throw new ConfigError(`${source} is invalid:\n${describeIssues(result.error.issues)}`);
  return result.data;
}

/** Relative paths in a config are relative to the project root (the config folder's parent). */
function resolvePaths(cfg: TesseraConfig, root: string): TesseraConfig {
  const abs = (p: string) => (p === ':memory:' || isAbsolute(p) ? p : resolve(root, p));
  const engines = Object.fromEntries(
    Object.entries(cfg.engines).map(([name, e]) => [
      name,
      e.type === 'duckdb' ? { ...e, path: abs(e.path) } : e,
    ]),
  );
  const ledger = cfg.ledger.type === 'sqlite' ? { ...cfg.ledger, path: abs(cfg.ledger.path) } : cfg.ledger;
  // spark-submit may be a command on PATH; the files it is given are paths.
  const spark = cfg.spark && {
    ...cfg.spark,
    ...(cfg.spark.propertiesFile ? { propertiesFile: abs(cfg.spark.propertiesFile) } : {}),
    ...(cfg.spark.jobsDir ? { jobsDir: abs(cfg.spark.jobsDir) } : {}),
  };
  return { ...cfg, stateDir: abs(cfg.stateDir), engines, ledger, ...(spark ? { spark } : {}) };
}

/**
 * Loads `config/<environment>.yaml` (or an explicit file path). Environment from TESSERA_ENV, default `local`.
 */
export function loadConfig(
  opts: { file?: string; environment?: string; root?: string; env?: NodeJS.ProcessEnv } = {},
): TesseraConfig {
  const env = opts.env ?? process.env;
  const root = opts.root ?? process.cwd();
  const file = opts.file
    ? resolve(root, opts.file)
    : resolve(root, 'config', `${opts.environment ?? env.TESSERA_ENV ?? 'local'}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`config file not found: ${file} (set --config or TESSERA_ENV)`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${file} is not valid YAML: ${(e as Error).message}`);
  }
  return resolvePaths(parseConfig(raw, env, file), dirname(dirname(file)));
}
