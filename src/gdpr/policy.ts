import { buildTable, PARTITION_COLUMN } from '../activities/tables.js';
import type { AssetDefinition, Definitions } from '../dsl/index.js';

/**
 * The erasure policy: per table, which columns identify the data subject and what erasure does to its rows.
 * Declared once per catalog (BookMyEvent's is src/assets/gdpr.ts), like dbt's column `meta` or a Dagster asset's
 * metadata, but kept beside the catalog so declaring it changes no asset's code version.
 *
 * - `identifiers`: the kinds of value that lead to the person. `subject` is the id the command is given
 *   (`--user 42`); a linked kind is found from it before anything is erased (the cookie ids a user was seen
 *   logged in with), so anonymous events of the same browser go too.
 * - `tables`: one rule per table. `delete` removes the matching rows (a profile, clickstream, features);
 *   `anonymise` keeps the row and sets the identifying and personal columns to NULL (a purchase keeps its amount
 *   so revenue still reconciles; only the link to the person goes). `none` says, with a reason, that a table
 *   holds nothing personal (aggregates): every asset of the catalog must have a rule, so a new asset cannot
 *   hold personal data by omission.
 */

export type ErasureAction = 'delete' | 'anonymise';

export interface ErasureRule {
  /** Column → the identifier kind it holds; a row matches when any of them holds one of the person's values. */
  readonly match: Readonly<Record<string, string>>;
  /**
   * `equals` (default) compares the column's text with each value; `contains` finds a value inside free text
   * (a quarantined input line). Not allowed for the subject kind: a short number is found inside unrelated text.
   */
  readonly how?: 'equals' | 'contains';
  readonly action: ErasureAction;
  /** anonymise: further personal columns set to NULL (the matching columns always are). */
  readonly personal?: readonly string[];
  /**
   * The source whose landing writes this table, for tables no asset declares (a change log landed beside the
   * catalog's): the ingest guard re-applies the erasure list to it after each landing of that source.
   */
  readonly source?: string;
}

export interface LinkedIdentifier {
  /** Table (asset key) where the link is seen. */
  readonly table: string;
  /** Column holding the linked value. */
  readonly column: string;
  /** Column of the same rows holding the subject id. */
  readonly subjectColumn: string;
}

export interface ErasurePolicySpec {
  /** What a subject is, for messages and the audit: 'user'. */
  readonly subject: string;
  /** Linked identifier kinds, by name; `subject` is implied. */
  readonly linked?: Readonly<Record<string, LinkedIdentifier>>;
  readonly tables: Readonly<Record<string, ErasureRule | { readonly none: string }>>;
}

export const SUBJECT = 'subject';

export interface ErasurePolicy extends ErasurePolicySpec {
  readonly linked: Readonly<Record<string, LinkedIdentifier>>;
}

export class ErasurePolicyError extends Error {
  override readonly name = 'ErasurePolicyError';
}

export function defineErasurePolicy(spec: ErasurePolicySpec): ErasurePolicy {
  const linked = spec.linked ?? {};
  if (Object.hasOwn(linked, SUBJECT))
    throw new ErasurePolicyError(`linked identifier kinds cannot be named "${SUBJECT}"`);
  const kinds = new Set([SUBJECT, ...Object.keys(linked)]);
  for (const [table, rule] of Object.entries(spec.tables)) {
    if ('none' in rule) {
      if (rule.none.trim() === '') throw new ErasurePolicyError(`${table}: 'none' needs a reason`);
      continue;
    }
    const columns = Object.entries(rule.match);
    if (columns.length === 0) throw new ErasurePolicyError(`${table}: a rule matches on at least one column`);
    for (const [column, kind] of columns) {
      if (!kinds.has(kind))
        throw new ErasurePolicyError(
          `${table}.${column}: unknown identifier kind "${kind}" (kinds: ${[...kinds].join(', ')})`,
        );
      if (rule.how === 'contains' && kind === SUBJECT)
        throw new ErasurePolicyError(
          `${table}.${column}: 'contains' cannot look for the ${SUBJECT} id (a short value is found inside unrelated text)`,
        );
    }
    if (rule.action !== 'delete' && rule.action !== 'anonymise')
      throw new ErasurePolicyError(`${table}: action must be 'delete' or 'anonymise'`);
    if (rule.action === 'delete' && rule.personal?.length)
      throw new ErasurePolicyError(`${table}: 'personal' columns only apply to 'anonymise'`);
  }
  for (const [kind, link] of Object.entries(linked)) {
    if (!spec.tables[link.table])
      throw new ErasurePolicyError(`linked identifier ${kind}: ${link.table} has no rule`);
  }
  return { ...spec, linked };
}

/** One physical table erasure touches, resolved against the definitions. */
export interface ErasureTarget {
  /** The policy's table name (asset key or landed table). */
  readonly name: string;
  /** The physical table: an asset's build table, its published store, or the landed table. */
  readonly table: string;
  readonly rule: ErasureRule;
  readonly asset?: AssetDefinition;
  /** The table is a mart's append-only published store (`<schema>.__p_<name>`). */
  readonly store: boolean;
  /** Column holding each row's partition key, when the ledger records partitions of it. */
  readonly partitionColumn?: string;
  /** Source whose landing writes the table (raw tables), for the ingest guard. */
  readonly source?: string;
  /** SCD2 shape (own or, for a snapshot, its history's) when a version's row_hash covers anonymised columns. */
  readonly scd2?: { readonly businessKey: readonly string[]; readonly tracked: readonly string[] };
}

function storeName(asset: AssetDefinition): string {
  return `${asset.schema}.__p_${asset.name}`;
}

/**
 * The policy against a catalog: every asset has a rule (or `none`), every rule names an asset or declares the
 * source that lands its table, and SCD2 business keys are never anonymised (a version would lose its entity).
 */
export function resolveTargets(
  definitions: Definitions,
  policy: ErasurePolicy,
  opts: {
    /**
     * Default true: refuse a catalog with an asset the policy does not declare, or a rule naming no asset (what
     * `gdpr erase` and the catalog's tests need). The ingest guard resolves leniently: a worker must not stop
     * landing because a new asset lacks a rule; it applies the rules that resolve.
     */
    readonly strict?: boolean;
  } = {},
): ErasureTarget[] {
  const strict = opts.strict ?? true;
  const missing = definitions.assets.filter((a) => !policy.tables[a.key]).map((a) => a.key);
  if (strict && missing.length > 0)
    throw new ErasurePolicyError(
      `the erasure policy has no rule for ${missing.join(', ')}: declare one, or { none: '<why nothing personal>' }`,
    );
  const byKey = new Map(definitions.assets.map((a) => [a.key, a]));
  const targets: ErasureTarget[] = [];
  for (const [name, rule] of Object.entries(policy.tables).sort(([a], [b]) => a.localeCompare(b))) {
    if ('none' in rule) continue;
    const asset = byKey.get(name);
    if (!asset) {
      if (!rule.source && !strict) continue;
      if (!rule.source)
        throw new ErasurePolicyError(
          `${name} is not an asset of the catalog: name the source that lands it ({ source: '…' })`,
        );
      targets.push({ name, table: name, rule, store: false, source: rule.source });
      continue;
    }
    const scd2Of = asset.kind === 'snapshot' && asset.snapshot ? byKey.get(asset.snapshot.from) : asset;
    const scd2 = scd2Of?.scd2
      ? { businessKey: scd2Of.scd2.businessKey, tracked: scd2Of.scd2.tracked }
      : undefined;
    if (rule.action === 'anonymise' && scd2) {
      const cleared = new Set([...Object.keys(rule.match), ...(rule.personal ?? [])]);
      const key = scd2.businessKey.find((k) => cleared.has(k));
      if (key)
        throw new ErasurePolicyError(
          `${name}: anonymising ${key} would erase the business key of its SCD2 versions; delete the rows instead`,
        );
    }
    const base = {
      name,
      rule,
      asset,
      ...(asset.ingest ? { source: asset.ingest.source } : {}),
      ...(scd2 ? { scd2 } : {}),
    };
    // Ingested tables are partitioned by time windows the loader reports; the others carry the key column.
    const partitionColumn = asset.partitions && !asset.ingest ? PARTITION_COLUMN : undefined;
    targets.push({
      ...base,
      table: buildTable(asset),
      store: false,
      ...(partitionColumn ? { partitionColumn } : {}),
    });
    if (asset.publishGroup || definitions.publishGroups.some((g) => g.assets.includes(asset.key)))
      targets.push({ ...base, table: storeName(asset), store: true });
  }
  return targets;
}
