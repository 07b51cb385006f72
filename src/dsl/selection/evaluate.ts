import { nearest } from '../errors.js';
import { ASSET_KINDS, type AssetKind } from '../types.js';
import type { SelectionAttribute, SelectionDepth, SelectionNode } from './ast.js';
import { SelectionError } from './error.js';
import { parseSelection } from './parser.js';

/** What a selection can see of an asset. */
export interface SelectableAsset {
  readonly key: string;
  readonly kind: AssetKind;
  readonly schema: string;
  readonly tags: readonly string[];
  readonly owners: readonly string[];
  readonly group?: string;
}

export interface SelectionUniverse {
  readonly assets: readonly SelectableAsset[];
  upstreamOf(key: string, depth?: number): string[];
  downstreamOf(key: string, depth?: number): string[];
}

/** Parses and evaluates a selection into sorted asset keys. Throws SelectionError. */
export function selectKeys(selection: string, universe: SelectionUniverse): string[] {
  return evaluateSelection(parseSelection(selection), universe, selection);
}

/**
 * Evaluates an AST into sorted keys. A key or value that matches nothing is an error (a typo should not
 * silently select nothing); a valid kind with no assets is an empty set.
 */
export function evaluateSelection(
  node: SelectionNode,
  universe: SelectionUniverse,
  selection: string,
): string[] {
  const all = universe.assets.map((a) => a.key);
  const evaluate = (n: SelectionNode): Set<string> => {
    switch (n.type) {
      case 'key':
        return matchKey(n.pattern, n.position);
      case 'attribute':
        return matchAttribute(n.attribute, n.value, n.position);
      case 'graph': {
        const base = evaluate(n.of);
        const out = new Set(base);
        for (const key of base) {
          if (n.upstream !== undefined)
            for (const k of universe.upstreamOf(key, depth(n.upstream))) out.add(k);
          if (n.downstream !== undefined)
            for (const k of universe.downstreamOf(key, depth(n.downstream))) out.add(k);
        }
        return out;
      }
      case 'and': {
        const right = evaluate(n.right);
        return new Set([...evaluate(n.left)].filter((k) => right.has(k)));
      }
      case 'or':
        return new Set([...evaluate(n.left), ...evaluate(n.right)]);
      case 'not': {
        const excluded = evaluate(n.operand);
        return new Set(all.filter((k) => !excluded.has(k)));
      }
    }
  };

  const matchKey = (pattern: string, position: number): Set<string> => {
    if (!pattern.includes('*')) {
      if (all.includes(pattern)) return new Set([pattern]);
      const hint = nearest(pattern, all);
      const problem = `unknown asset "${pattern}"${hint ? `; did you mean "${hint}"?` : ''}`;
      throw new SelectionError(selection, position, problem);
    }
    const re = globToRegExp(pattern);
    const hits = all.filter((k) => re.test(k));
    if (hits.length === 0) throw new SelectionError(selection, position, `"${pattern}" matches no asset`);
    return new Set(hits);
  };

  const matchAttribute = (attribute: SelectionAttribute, value: string, position: number): Set<string> => {
    if (attribute === 'kind' && !(ASSET_KINDS as readonly string[]).includes(value)) {
      throw new SelectionError(
        selection,
        position,
        `unknown kind "${value}"; kinds are ${ASSET_KINDS.join(', ')}`,
      );
    }
    const valuesOf = (a: SelectableAsset): readonly string[] => {
      switch (attribute) {
        case 'tag':
          return a.tags;
        case 'owner':
          return a.owners;
        case 'kind':
          return [a.kind];
        case 'schema':
          return [a.schema];
        case 'group':
          return a.group === undefined ? [] : [a.group];
      }
    };
    const re = globToRegExp(value);
    const hits = universe.assets.filter((a) => valuesOf(a).some((v) => re.test(v))).map((a) => a.key);
    if (hits.length === 0 && attribute !== 'kind') {
      const known = [...new Set(universe.assets.flatMap(valuesOf))].sort();
      const hint = value.includes('*') ? undefined : nearest(value, known);
      const list =
        known.length > 0 ? `known ${attribute} values: ${known.join(', ')}` : `no asset has any ${attribute}`;
      const problem = `no asset has ${attribute} "${value}"${hint ? `; did you mean "${hint}"?` : ''} (${list})`;
      throw new SelectionError(selection, position, problem);
    }
    return new Set(hits);
  };

  return [...evaluate(node)].sort();
}

const depth = (d: SelectionDepth): number => (d === 'all' ? Number.POSITIVE_INFINITY : d);

/** `*` matches any run of characters (dots included); everything else is literal. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}
