import type { AssetDefinition } from '../dsl/index.js';
import { DIALECTS, ENGINES, type Engine, type SqlDialect } from '../engines/index.js';

/** An engine with the dialect that renders for it. */
export interface DialectEngine {
  readonly engine: Engine;
  readonly dialect: SqlDialect;
}

/** The registered dialect of an open engine (as the activities find it). */
export function dialectOf(engine: Engine): SqlDialect {
  const dialect =
    (ENGINES as Record<string, { readonly dialect: SqlDialect } | undefined>)[engine.name]?.dialect ??
    (DIALECTS as Record<string, SqlDialect | undefined>)[engine.name];
  if (!dialect) throw new Error(`engine "${engine.name}" has no registered dialect`);
  return dialect;
}

/** Where a table lives: its asset's engine, or the default engine (landed tables, the erasure list). */
export function engineOf(
  engines: Readonly<Record<string, Engine>>,
  defaultEngine: string,
  asset?: Pick<AssetDefinition, 'engine' | 'key'>,
  /** The config's placement (`assetEngines`); absent: the asset's own `engine`, else the default. */
  engineNameOf?: (asset: Pick<AssetDefinition, 'engine' | 'key'>) => string,
): DialectEngine {
  const name = asset ? (engineNameOf?.(asset) ?? asset.engine ?? defaultEngine) : defaultEngine;
  const engine = engines[name];
  if (!engine)
    throw new Error(
      `${asset ? `asset ${asset.key} runs on` : 'the default engine is'} engine "${name}", which is not open`,
    );
  return { engine, dialect: dialectOf(engine) };
}
