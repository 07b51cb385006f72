import { DslError, nearest } from './errors.js';
import { buildGraph, type AssetGraph } from './graph.js';
import { allUpstream, containing, dimension, identity, rollup } from './mappings/index.js';
import type { PartitionMapping } from './mappings/types.js';
import type { PartitionsDefinition } from './partitions/types.js';
import { selectKeys } from './selection/index.js';
import type {
  AlertRouteSpec,
  AssetDeclaration,
  AssetDefinition,
  PublishGroupDefinition,
  PublishGroupSpec,
  ScheduleDefinition,
  ScheduleSpec,
} from './types.js';
import { ValidationError, validateDefinitions } from './validate.js';

/** Everything a Tessera project defines; what the planner, workers and CLI load. */
export interface DefinitionsSpec {
  readonly assets: readonly AssetDeclaration[];
  readonly schedules?: readonly ScheduleSpec[];
  readonly publishGroups?: readonly PublishGroupSpec[];
  readonly alertRoutes?: readonly AlertRouteSpec[];
}

export interface Definitions {
  /** Sorted by key. */
  readonly assets: readonly AssetDefinition[];
  /** Upstream before downstream, ties by key: the order to materialize in. */
  readonly assetsInOrder: readonly AssetDefinition[];
  readonly graph: AssetGraph;
  readonly schedules: readonly ScheduleDefinition[];
  readonly publishGroups: readonly PublishGroupDefinition[];
  readonly alertRoutes: readonly AlertRouteSpec[];
  /** Throws a DslError naming the key and the nearest existing one. */
  asset(key: string): AssetDefinition;
  hasAsset(key: string): boolean;
  /** Sorted keys matched by a selection (`+marts.daily_revenue`, `tag:x and not kind:scd2`); throws SelectionError. */
  select(selection: string): string[];
}

type Def = PartitionsDefinition | undefined;

/** The mappings that pair partitions "in step", most specific first. */
const inStep = (): PartitionMapping[] => [identity(), rollup(), containing()];
const fits = (m: PartitionMapping, down: Def, up: Def): boolean => m.incompatibility(down, up) === undefined;
const shape = (p: Def): 'none' | 'time' | 'static' | 'multi' => p?.type ?? 'none';

/**
 * The mapping a dep gets when it names none. Explicit mappings always win; the defaults are:
 * - both unpartitioned → identity; exactly one side unpartitioned → allUpstream (the whole other side);
 * - same grid (cadence and timezone; static values present upstream) → identity;
 * - time → time at another cadence that nests → rollup (finer upstream) or containing (coarser upstream);
 * - multi on one side only → dimension(name, in-step mapping) through the first dimension that fits
 *   (a daily asset over date × platform reads every platform of its day);
 * - time vs static (nothing in common) → allUpstream.
 * Otherwise (e.g. different timezones, weeks vs months) undefined: the user must choose, validation says so.
 */
export function defaultMapping(down: Def, up: Def): PartitionMapping | undefined {
  if (down === undefined && up === undefined) return identity();
  if (down === undefined || up === undefined) return allUpstream();
  const direct = inStep().find((m) => fits(m, down, up));
  if (direct) return direct;
  const multi = down.type === 'multi' ? down : up.type === 'multi' ? up : undefined;
  if (multi && down.type !== up.type) {
    for (const d of multi.dimensions) {
      const through = inStep()
        .map((inner) => dimension(d.name, inner))
        .find((m) => fits(m, down, up));
      if (through) return through;
    }
  }
  const unrelated = new Set([shape(down), shape(up)]);
  if (unrelated.has('time') && unrelated.has('static')) return allUpstream();
  return undefined;
}

const freeze = <T>(items: T[]): readonly T[] => Object.freeze(items);

/**
 * Validates the whole project (throws one ValidationError listing every problem), resolves dep mappings
 * and builds the graph. The result is immutable.
 */
export function defineDefinitions(spec: DefinitionsSpec): Definitions {
  const problems = validateDefinitions({ ...spec, defaultMapping });
  if (problems.length > 0) throw new ValidationError(problems);

  const declared = new Map(spec.assets.map((a) => [a.key, a]));
  const resolve = (a: AssetDeclaration): AssetDefinition => {
    const deps = a.deps.map((dep) => {
      const upstream = declared.get(dep.key)?.partitions;
      // Validation guarantees a mapping exists for every dep.
      const mapping = dep.mapping ?? (defaultMapping(a.partitions, upstream) as PartitionMapping);
      return Object.freeze({ key: dep.key, mapping });
    });
    return Object.freeze({ ...a, deps: freeze(deps) });
  };
  const byKey = new Map([...declared.values()].map((a) => [a.key, resolve(a)]));
  const graph = buildGraph([...byKey.values()]);
  const get = (key: string): AssetDefinition => byKey.get(key) as AssetDefinition;
  const keys = graph.keys;

  const members = (group: PublishGroupSpec): readonly string[] => {
    const named = [...byKey.values()].filter((a) => a.publishGroup === group.name).map((a) => a.key);
    return freeze([...new Set([...(group.assets ?? []), ...named])].sort());
  };
  const universe = {
    assets: [...byKey.values()],
    upstreamOf: graph.upstreamOf,
    downstreamOf: graph.downstreamOf,
  };

  return Object.freeze({
    assets: freeze(keys.map(get)),
    assetsInOrder: freeze(graph.topologicalOrder.map(get)),
    graph,
    schedules: freeze(
      (spec.schedules ?? []).map((s) =>
        Object.freeze({
          ...s,
          timezone: s.timezone ?? 'UTC',
          publishGroups: freeze([...(s.publishGroups ?? [])]),
        }),
      ),
    ),
    publishGroups: freeze((spec.publishGroups ?? []).map((g) => Object.freeze({ ...g, assets: members(g) }))),
    alertRoutes: freeze([...(spec.alertRoutes ?? [])]),
    asset(key: string): AssetDefinition {
      const found = byKey.get(key);
      if (found) return found;
      const hint = nearest(key, keys);
      throw new DslError(`unknown asset "${key}"${hint ? `; did you mean "${hint}"?` : ''}`);
    },
    hasAsset: (key: string) => byKey.has(key),
    select: (selection: string) => selectKeys(selection, universe),
  });
}
