/** A parsed selection: plain data, so it can be logged, compared in tests and sent into workflows. */

export const SELECTION_ATTRIBUTES = ['tag', 'kind', 'owner', 'group', 'schema'] as const;
export type SelectionAttribute = (typeof SELECTION_ATTRIBUTES)[number];

/** Graph-walk depth: a number of hops, or 'all' for a bare `+`. */
export type SelectionDepth = number | 'all';

export type SelectionNode =
  /** An exact key `core.dim_users` or a glob `core.*`, `*`. */
  | { readonly type: 'key'; readonly pattern: string; readonly position: number }
  | {
      readonly type: 'attribute';
      readonly attribute: SelectionAttribute;
      readonly value: string;
      readonly position: number;
    }
  /** `2+x+` : x plus its upstream (2 hops) and downstream (all). */
  | {
      readonly type: 'graph';
      readonly of: SelectionNode;
      readonly upstream?: SelectionDepth;
      readonly downstream?: SelectionDepth;
    }
  | { readonly type: 'and' | 'or'; readonly left: SelectionNode; readonly right: SelectionNode }
  | { readonly type: 'not'; readonly operand: SelectionNode };
