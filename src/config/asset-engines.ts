import { z } from 'zod';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import { parseSelection } from '../dsl/selection/index.js';

/**
 * Which engine builds which assets, chosen by the environment rather than the catalog's code:
 * `assetEngines: { 'core.dim_*': spark, '*': trino }`. Keys are selections in the CLI's syntax
 * (`-s`/`--select`), values engine names of `engines`. The first rule (in file order) that selects an asset
 * wins; an asset no rule selects, or whose code names an `engine` itself, keeps what it had (the code's
 * `engine`, else `defaultEngine`): the code states a requirement (e.g. a Spark job), config only a placement.
 */
export const assetEnginesSchema = z
  .record(z.string().min(1), z.string().min(1))
  .default({})
  .superRefine((rules, ctx) => {
    for (const selection of Object.keys(rules)) {
      try {
        parseSelection(selection);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [selection], message: (e as Error).message });
      }
    }
  });
export type AssetEngines = z.infer<typeof assetEnginesSchema>;

/** Engine names the rules name that `engines` does not configure (a start-up error, see schema.ts). */
export function unknownAssetEngines(rules: AssetEngines, engines: readonly string[]): [string, string][] {
  return Object.entries(rules).filter(([, engine]) => !engines.includes(engine));
}

/**
 * Resolves every asset's engine once, against the loaded catalog: a selection that matches no asset (a typo)
 * throws the selection's own error, naming the nearest key, at start-up rather than at the first step.
 */
export function assetEngineResolver(
  config: { readonly defaultEngine: string; readonly assetEngines?: AssetEngines },
  definitions: Pick<Definitions, 'select'>,
): (asset: Pick<AssetDefinition, 'key' | 'engine'>) => string {
  const placed = new Map<string, string>();
  for (const [selection, engine] of Object.entries(config.assetEngines ?? {})) {
    let keys: string[];
    try {
      keys = definitions.select(selection);
    } catch (e) {
      throw new Error(`config "assetEngines": ${(e as Error).message}`, { cause: e });
    }
    for (const key of keys) if (!placed.has(key)) placed.set(key, engine);
  }
  return (asset) => asset.engine ?? placed.get(asset.key) ?? config.defaultEngine;
}
