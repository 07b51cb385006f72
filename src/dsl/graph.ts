import { DslError } from './errors.js';

/**
 * The asset graph: who reads whom. Built from anything with a key and dep keys, so validation can use it on
 * unresolved assets; deps naming unknown keys are left out (validation reports them).
 */

export interface GraphNode {
  readonly key: string;
  readonly deps: readonly { readonly key: string }[];
}

export interface AssetGraph {
  /** All keys, sorted. */
  readonly keys: readonly string[];
  /** key → sorted keys it reads. */
  readonly upstream: ReadonlyMap<string, readonly string[]>;
  /** key → sorted keys that read it. */
  readonly downstream: ReadonlyMap<string, readonly string[]>;
  /** Upstream before downstream, ties broken by key. Throws when the graph has a cycle. */
  readonly topologicalOrder: readonly string[];
  /** key → 0 for roots, else 1 + the highest level of its upstream. Throws like topologicalOrder. */
  readonly levels: ReadonlyMap<string, number>;
  /** Keys upstream of `key` (not itself), at most `depth` hops away (default: all), sorted. */
  upstreamOf(key: string, depth?: number): string[];
  downstreamOf(key: string, depth?: number): string[];
  /** Each cycle once, as a path that starts and ends at its smallest key: [a, b, a]. */
  cycles(): string[][];
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function buildGraph(nodes: readonly GraphNode[]): AssetGraph {
  const keys = [...new Set(nodes.map((n) => n.key))].sort(byKey);
  const known = new Set(keys);
  const up = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
  const down = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
  for (const node of nodes) {
    for (const dep of node.deps) {
      if (!known.has(dep.key)) continue;
      up.get(node.key)?.add(dep.key);
      down.get(dep.key)?.add(node.key);
    }
  }
  const sorted = (m: Map<string, Set<string>>): Map<string, readonly string[]> =>
    new Map([...m].map(([k, v]) => [k, [...v].sort(byKey)]));
  const upstream = sorted(up);
  const downstream = sorted(down);

  const walk = (adj: ReadonlyMap<string, readonly string[]>, start: string, depth: number): string[] => {
    const seen = new Set<string>([start]);
    let frontier = [start];
    for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
      const next: string[] = [];
      for (const k of frontier) {
        for (const n of adj.get(k) ?? []) {
          if (!seen.has(n)) {
            seen.add(n);
            next.push(n);
          }
        }
      }
      frontier = next;
    }
    seen.delete(start);
    return [...seen].sort(byKey);
  };

  let order: { readonly keys: string[]; readonly levels: Map<string, number> } | undefined;
  const topo = (): NonNullable<typeof order> => {
    if (order) return order;
    // Kahn's algorithm; the ready set is kept sorted so equal-rank keys come out alphabetically.
    const indegree = new Map(keys.map((k) => [k, upstream.get(k)?.length ?? 0]));
    const ready = keys.filter((k) => indegree.get(k) === 0);
    const out: string[] = [];
    const levels = new Map<string, number>();
    while (ready.length > 0) {
      const k = ready.shift() as string;
      out.push(k);
      levels.set(k, Math.max(-1, ...(upstream.get(k) ?? []).map((u) => levels.get(u) ?? 0)) + 1);
      for (const d of downstream.get(k) ?? []) {
        const left = (indegree.get(d) ?? 0) - 1;
        indegree.set(d, left);
        if (left === 0) {
          ready.push(d);
          ready.sort(byKey);
        }
      }
    }
    if (out.length < keys.length) {
      const path = findCycles(keys, upstream)[0] ?? [];
      throw new DslError(`the asset graph has a cycle: ${path.join(' -> ')}`);
    }
    order = { keys: out, levels };
    return order;
  };

  return {
    keys,
    upstream,
    downstream,
    get topologicalOrder() {
      return topo().keys;
    },
    get levels() {
      return topo().levels;
    },
    upstreamOf: (key, depth = Number.POSITIVE_INFINITY) => walk(upstream, key, depth),
    downstreamOf: (key, depth = Number.POSITIVE_INFINITY) => walk(downstream, key, depth),
    cycles: () => findCycles(keys, upstream),
  };
}

/**
 * Elementary cycles found by a depth-first search in key order, each reported once (rotated to start at its
 * smallest key). Enough to print actionable paths; not an exhaustive enumeration of every cycle.
 */
function findCycles(keys: readonly string[], upstream: ReadonlyMap<string, readonly string[]>): string[][] {
  const found = new Map<string, string[]>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (k: string): void => {
    state.set(k, 'active');
    stack.push(k);
    // Follow deps downstream→upstream, then reverse so the path reads in data-flow order.
    for (const u of upstream.get(k) ?? []) {
      if (state.get(u) === 'active') {
        const cycle = stack.slice(stack.indexOf(u)).reverse();
        const min = cycle.reduce((a, b) => (b < a ? b : a));
        const i = cycle.indexOf(min);
        const rotated = [...cycle.slice(i), ...cycle.slice(0, i)];
        found.set(rotated.join('>'), [...rotated, min]);
      } else if (!state.has(u)) visit(u);
    }
    stack.pop();
    state.set(k, 'done');
  };
  for (const k of keys) if (!state.has(k)) visit(k);
  return [...found.values()].sort((a, b) => byKey(a.join('>'), b.join('>')));
}
