import { DateTime } from 'luxon';
import type { MappingContext, PartitionMapping } from '../dsl/mappings/types.js';
import type { PartitionsDefinition } from '../dsl/partitions/types.js';
import { stepId, type LedgerView, type PartitionHead } from '../ledger/types.js';
import { batchOf } from './batch.js';
import { partitionKeysFor, requestEnd } from './partition-scope.js';
import type { Plan, PlanReason, PlanRequest, PlanStep } from './types.js';

/**
 * The lane of every step that lands source data: one such batch at a time per run. The worker serializes each
 * source's loader, and loaders of different sources landing at once (the first landing of a source can take a
 * while) clash on DuckDB's catalog (creating the shared raw schema in concurrent transactions).
 */
export const INGEST_LANE = 'ingest';

/** What the planner needs of the definitions: selection, lookup and order. Plain reads, no I/O. */
export interface PlannableAsset {
  readonly key: string;
  readonly codeVersion: string;
  readonly partitions?: PartitionsDefinition;
  readonly deps: readonly { readonly key: string; readonly mapping: PartitionMapping }[];
  /** Assets a source loader lands: their steps share the ingest lane. */
  readonly ingest?: { readonly source: string };
}

export interface PlannableDefinitions {
  select(selection: string): readonly string[];
  asset(key: string): PlannableAsset;
  /** `topologicalOrder`: every asset key, upstream before downstream. */
  readonly graph: { readonly topologicalOrder: readonly string[] };
}

/** One dep of the asset being planned, with the upstream keys each of our partitions reads. */
interface DepReads {
  readonly key: string;
  /** Our partition key → upstream partition keys (shared between assets with equal definitions). */
  readonly keys: (partitionKey: string) => readonly string[];
  /** Upstream partition keys planned so far (undefined when the upstream is not selected). */
  readonly planned: ReadonlySet<string> | undefined;
  /** Step id of an upstream partition, built once per upstream partition and shared by all its readers. */
  readonly idOf: (upKey: string) => string;
  /** What the ledger holds of the upstream asset, by partition key. */
  readonly heads: ReadonlyMap<string, PartitionHead>;
  /**
   * `"<step id>":"<data version>"` of an upstream partition's latest success, exactly as `JSON.stringify` writes
   * that entry of a step's `inputDataVersions`; null when it never succeeded. Built once per upstream partition.
   */
  readonly entryOf: (upKey: string) => string | null;
}

const OPEN_BRACE = 123;
const COMMA = 44;

/**
 * Whether a fresh-looking step read exactly the versions its inputs have now: its recorded inputs' text (a JSON
 * object) must begin with the entries of its inputs that have a success, in the order the plan lists them (the
 * order the step read them in). Entries after those name inputs the step no longer reads, which the rule ignores
 * too. Compares in place, building no string. False proves nothing (another key order, PostgreSQL's normalized
 * JSON): the caller then compares version by version.
 */
function readCurrentVersions(recorded: string, partitionKey: string, deps: readonly DepReads[]): boolean {
  if (recorded.charCodeAt(0) !== OPEN_BRACE) return false;
  let pos = 1;
  for (const dep of deps) {
    for (const upKey of dep.keys(partitionKey)) {
      const entry = dep.entryOf(upKey);
      if (entry === null) continue;
      if (pos > 1 && recorded.charCodeAt(pos++) !== COMMA) return false;
      if (!recorded.startsWith(entry, pos)) return false;
      pos += entry.length;
    }
  }
  // A recorded text is a JSON object: after a whole entry comes `,` or `}`, so each match ended on an entry's end.
  return true;
}

/** Why (asset, partition) must run, or undefined when it is fresh. First matching reason wins. */
function reasonFor(
  asset: PlannableAsset,
  partitionKey: string,
  deps: readonly DepReads[],
  own: ReadonlyMap<string, PartitionHead>,
  force: boolean,
): PlanReason | undefined {
  if (force) return 'forced';
  const latest = own.get(partitionKey);
  if (latest === undefined) return 'missing';
  if (latest.status === 'failed') return 'failed_before';
  if (latest.codeVersion !== asset.codeVersion) return 'code_changed';
  for (const dep of deps) {
    if (dep.planned === undefined || dep.planned.size === 0) continue;
    for (const upKey of dep.keys(partitionKey)) if (dep.planned.has(upKey)) return 'upstream_changed';
  }
  if (readCurrentVersions(latest.inputsText, partitionKey, deps)) return undefined;
  const recorded = latest.latest.inputDataVersions;
  for (const dep of deps) {
    for (const upKey of dep.keys(partitionKey)) {
      const current = dep.heads.get(upKey)?.successDataVersion;
      // An input never materialized leaves us as we are: it plans itself when selected.
      if (current !== undefined && recorded[dep.idOf(upKey)] !== current) return 'upstream_changed';
    }
  }
  return undefined;
}

/** Memoizes pure computations by the fingerprints of the definitions they depend on. */
function memo<V>(): (id: string, make: () => V) => V {
  const cache = new Map<string, V>();
  return (id, make) => {
    let v = cache.get(id);
    if (v === undefined) cache.set(id, (v = make()));
    return v;
  };
}

/**
 * (selection × partitions × ledger) → an ordered plan. Pure and deterministic: steps come in topological
 * asset order, then partition key order; each carries the reason it runs and the planned steps it waits for.
 */
export function plan(defs: PlannableDefinitions, request: PlanRequest, ledger: LedgerView): Plan {
  const selected = new Set(defs.select(request.selection));
  const force = request.force ?? false;
  // Unpartitioned readers of time partitions read every upstream partition closed by the request's end.
  const end = request.now
    ? DateTime.fromISO(request.now, { zone: 'utc' })
    : requestEnd(request.range, request.partitionKeys);
  const context: MappingContext = end ? { now: end } : {};
  const readsUntil = end?.toISO() ?? undefined;
  // Partition lists and mappings are pure in the definitions' fingerprints: assets that share partition
  // definitions share answers, which keeps big plans off luxon's hot path.
  const keysOf = memo<readonly string[]>();
  const readsOf = memo<Map<string, readonly string[]>>();
  const plannedByAsset = new Map<string, Set<string>>();
  const ids = new Map<string, Map<string, string>>();
  const idsOf = (assetKey: string) => {
    let byKey = ids.get(assetKey);
    if (byKey === undefined) ids.set(assetKey, (byKey = new Map()));
    const m = byKey;
    return (pk: string): string => {
      let id = m.get(pk);
      if (id === undefined) m.set(pk, (id = stepId(assetKey, pk)));
      return id;
    };
  };
  const entries = new Map<string, Map<string, string | null>>();
  const entriesOf = (assetKey: string, heads: ReadonlyMap<string, PartitionHead>) => {
    let byKey = entries.get(assetKey);
    if (byKey === undefined) entries.set(assetKey, (byKey = new Map()));
    const m = byKey;
    return (pk: string): string | null => {
      let entry = m.get(pk);
      if (entry === undefined) {
        const version = heads.get(pk)?.successDataVersion;
        entry =
          version === undefined ? null : `${JSON.stringify(stepId(assetKey, pk))}:${JSON.stringify(version)}`;
        m.set(pk, entry);
      }
      return entry;
    };
  };
  const steps: PlanStep[] = [];
  let skippedFresh = 0;

  for (const key of defs.graph.topologicalOrder) {
    if (!selected.has(key)) continue;
    const asset = defs.asset(key);
    const down = asset.partitions;
    const deps: DepReads[] = asset.deps.map((d) => {
      const up = defs.asset(d.key).partitions;
      const reads = readsOf(
        `${d.mapping.fingerprint}\u0000${down?.fingerprint}\u0000${up?.fingerprint}`,
        () => new Map(),
      );
      const keys = (pk: string): readonly string[] => {
        let k = reads.get(pk);
        if (k === undefined) reads.set(pk, (k = d.mapping.upstreamKeys(pk, down, up, context)));
        return k;
      };
      const heads = ledger.heads(d.key);
      return {
        key: d.key,
        keys,
        planned: plannedByAsset.get(d.key),
        idOf: idsOf(d.key),
        heads,
        entryOf: entriesOf(d.key, heads),
      };
    });
    const own = ledger.heads(key);
    const planned = new Set<string>();
    plannedByAsset.set(key, planned);
    const partitionKeys = keysOf(`${down?.fingerprint}\u0000${request.partitionKeys?.join(',') ?? ''}`, () =>
      partitionKeysFor(down, request.range, request.partitionKeys),
    );
    for (const partitionKey of partitionKeys) {
      const reason = reasonFor(asset, partitionKey, deps, own, force);
      if (reason === undefined) {
        skippedFresh++;
        continue;
      }
      const inputs: string[] = [];
      const upstream: string[] = [];
      for (const dep of deps) {
        for (const upKey of dep.keys(partitionKey)) {
          const id = dep.idOf(upKey);
          inputs.push(id);
          if (dep.planned?.has(upKey)) upstream.push(id);
        }
      }
      planned.add(partitionKey);
      // In a backfill every input is usually planned: share the array rather than hold two equal ones.
      const waitsFor = upstream.length === inputs.length ? inputs : upstream;
      const batch = batchOf(down, partitionKey, { week: asset.ingest !== undefined });
      steps.push({
        id: stepId(key, partitionKey),
        assetKey: key,
        partitionKey,
        reason,
        upstream: waitsFor,
        inputs,
        ...(readsUntil !== undefined ? { readsUntil } : {}),
        ...(batch !== undefined ? { batch } : {}),
        ...(asset.ingest ? { lane: INGEST_LANE } : {}),
      });
    }
  }
  return { selection: request.selection, range: request.range, steps, skippedFresh };
}

/** The inputs `plan` gives a step (same mappings, same bound), for a step whose plan crossed Temporal without them. */
export function stepInputs(
  defs: PlannableDefinitions,
  step: Pick<PlanStep, 'assetKey' | 'partitionKey' | 'readsUntil'>,
): string[] {
  const asset = defs.asset(step.assetKey);
  const context: MappingContext =
    step.readsUntil !== undefined ? { now: DateTime.fromISO(step.readsUntil, { zone: 'utc' }) } : {};
  return asset.deps.flatMap((d) =>
    d.mapping
      .upstreamKeys(step.partitionKey, asset.partitions, defs.asset(d.key).partitions, context)
      .map((k) => stepId(d.key, k)),
  );
}

/** The plan without step inputs (see PlanStep.inputs): what the planRun activity returns to workflows. */
export function withoutInputs(p: Plan): Plan {
  return { ...p, steps: p.steps.map((s) => ({ ...s, inputs: [] })) };
}
