import type { ComputeFn } from './compute.js';
import type { PartitionMapping } from './mappings/types.js';
import type { PartitionsDefinition } from './partitions/types.js';

export const ASSET_KINDS = ['raw_cdc', 'snapshot', 'scd2', 'fact', 'metric', 'mart', 'custom'] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];

/** An upstream dependency: the asset key, and which of its partitions each partition of ours reads. */
export interface DepSpec {
  readonly key: string;
  /** Default: see `defaultMapping` in definitions.ts (identity when both sides share partitions, ...). */
  readonly mapping?: PartitionMapping;
}

export type CheckType =
  | 'unique'
  | 'not_null'
  | 'row_count'
  | 'relationship'
  | 'accepted_values'
  | 'scd2_intervals'
  | 'freshness'
  | 'quarantine_rate'
  | 'sql';

/** An assertion on one materialized partition. `blocking` (default true) stops downstream and publication. */
export type CheckSpec = {
  readonly name?: string;
  readonly blocking?: boolean;
} & (
  | { readonly type: 'unique'; readonly columns: readonly string[] }
  | { readonly type: 'not_null'; readonly columns: readonly string[] }
  | { readonly type: 'row_count'; readonly min?: number; readonly max?: number }
  | {
      readonly type: 'relationship';
      readonly column: string;
      readonly to: string;
      readonly toColumn: string;
    }
  | { readonly type: 'accepted_values'; readonly column: string; readonly values: readonly string[] }
  | { readonly type: 'scd2_intervals' }
  | { readonly type: 'freshness'; readonly column: string; readonly maxLagMinutes: number }
  | { readonly type: 'quarantine_rate'; readonly max: number }
  /** Custom SQL returning the failing rows; passes when it returns none. */
  | { readonly type: 'sql'; readonly sql: string }
);

export type CheckDefinition = CheckSpec & { readonly name: string; readonly blocking: boolean };

/** SCD type-2 options: versions of `businessKey` rows built from a change log or from consecutive snapshots. */
export interface Scd2Options {
  /** Asset key of the change log (strategy 'log') or of the snapshot source (strategy 'check'). */
  readonly source: string;
  readonly businessKey: readonly string[];
  /** Columns whose change makes a new version. */
  readonly tracked: readonly string[];
  /** 'log' (default): versions from a CDC log; 'check': compare tracked columns between snapshots. */
  readonly strategy?: 'log' | 'check';
  /** 'tessera' (default) or 'dbt' column names (dbt_valid_from, dbt_valid_to, dbt_scd_id, ...). */
  readonly columnNames?: 'tessera' | 'dbt';
}

export interface SnapshotOptions {
  /** SCD2 asset the snapshot is cut from. */
  readonly from: string;
}

/** Rows of this asset are landed by a source loader (CDC, clickstream, ads) rather than computed by SQL. */
export interface IngestOptions {
  /** Source name in config (e.g. 'user_db', 'snowplow', 'google_ads'). */
  readonly source: string;
  /** What inside the source: a table for CDC, a report or event stream otherwise. */
  readonly stream: string;
}

/**
 * The asset is built by a PySpark job of `jobs/` (run through spark-submit by the materializeStep activity)
 * instead of SQL. The job writes the asset's own table (its `--target`); the step's data version and checks
 * then read that table on the asset's engine (Trino or Spark over the same Iceberg catalog).
 */
export interface SparkJobOptions {
  /** The job's file name without `.py`, e.g. 'scd2_merge', 'sessionize' (jobs/README.md lists them). */
  readonly job: string;
  /**
   * The job's --flags without the dashes. A string equal to the key of one of the asset's deps becomes that
   * dep's table; {{ partition_key }}, {{ partition_date }}, {{ partition_start }}, {{ partition_end }} and
   * {{ partition.<dimension> }} become the step's partition. Kind scd2 with job 'scd2_merge' needs none: the
   * changes, key, tracked columns and the change log's ordering come from the scd2 options.
   */
  readonly args?: Readonly<Record<string, string | number>>;
  /**
   * Time-partitioned assets: the timestamp column whose [start, end) holds a partition's rows (its data
   * version and checks read those). Default: rows whose _partition_key is the partition key.
   */
  readonly timeColumn?: string;
}

export interface FreshnessPolicy {
  /** Maximum minutes between a partition's window end and its materialization before it is a breach. */
  readonly maxLagMinutes: number;
}

/** What a user writes. */
export interface AssetSpec {
  readonly key: string;
  readonly kind: AssetKind;
  readonly description?: string;
  readonly deps?: readonly (string | DepSpec)[];
  readonly partitions?: PartitionsDefinition;
  /** Engine name from config; default: the environment's default engine. */
  readonly engine?: string;
  /**
   * SELECT producing the partition (fact, metric, mart, custom). Placeholders rendered by the engine's dialect:
   * {{ partition_start }}, {{ partition_end }} (timestamps), {{ partition_date }}, {{ partition_key }},
   * {{ partition.<dimension> }}; portable SQL macros such as {{ arg_max(x, y) }} and {{ t.text }}
   * (src/engines/dialect/portable-macros.ts, docs/engines.md "Portable SQL").
   * Upstream assets are referenced by their key (schema.name).
   */
  readonly sql?: string;
  /**
   * custom and mart: a function producing the partition's rows instead of `sql` (see compute.ts). Its source
   * text is part of the code version; values it closes over are not, so put those in `version`.
   */
  readonly compute?: ComputeFn;
  readonly scd2?: Scd2Options;
  readonly snapshot?: SnapshotOptions;
  /** A PySpark job builds the asset instead of SQL (kinds scd2, fact, custom, mart): see SparkJobOptions. */
  readonly spark?: SparkJobOptions;
  /** raw_cdc needs it; fact and custom assets use it instead of sql when a source loader lands them. */
  readonly ingest?: IngestOptions;
  /** Columns forming the natural key of a row; used for unique checks and dedupe. */
  readonly primaryKey?: readonly string[];
  readonly checks?: readonly CheckSpec[];
  readonly owners?: readonly string[];
  readonly tags?: readonly string[];
  readonly group?: string;
  readonly freshness?: FreshnessPolicy;
  readonly publishGroup?: string;
  /** Free-form metadata included in the code version (e.g. a compute function's version). */
  readonly version?: string;
}

export interface ResolvedDep {
  readonly key: string;
  readonly mapping: PartitionMapping;
}

/**
 * What `asset()` returns: validated, with defaults, implied deps and built-in checks, and its code version.
 * Dep mappings stay as written (undefined = default) until `defineDefinitions` sees the upstream partitions.
 */
export interface AssetDeclaration extends Omit<AssetDefinition, 'deps'> {
  readonly deps: readonly DepSpec[];
}

/** Resolved, validated form of an AssetSpec, as found in Definitions: every dep has its final mapping. */
export interface AssetDefinition extends Omit<AssetSpec, 'deps' | 'checks' | 'owners' | 'tags'> {
  readonly schema: string;
  readonly name: string;
  readonly deps: readonly ResolvedDep[];
  readonly checks: readonly CheckDefinition[];
  readonly owners: readonly string[];
  readonly tags: readonly string[];
  /** Stable hash of everything that changes the asset's output. */
  readonly codeVersion: string;
}

export interface ScheduleSpec {
  readonly name: string;
  readonly cron: string;
  readonly timezone?: string;
  readonly selection: string;
  /** Publish groups flipped after each tick's materializations. */
  readonly publishGroups?: readonly string[];
}

/** A schedule as found in Definitions: timezone defaulted to UTC. */
export interface ScheduleDefinition extends ScheduleSpec {
  readonly timezone: string;
  readonly publishGroups: readonly string[];
}

export interface PublishGroupSpec {
  readonly name: string;
  readonly description?: string;
  /** Asset keys (marts) that flip together. */
  /** Extra members; marts that name the group in `publishGroup` belong to it anyway. */
  readonly assets?: readonly string[];
  /** Minutes a barrier waits for late data before alerting (default from config). */
  readonly barrierTimeoutMinutes?: number;
}

/** A publish group as found in Definitions: members from its `assets` plus assets naming it in `publishGroup`. */
export interface PublishGroupDefinition extends PublishGroupSpec {
  readonly assets: readonly string[];
}

/** Where alerts go. `match` narrows a route to assets with one of the owners or tags; no match = everything. */
export interface AlertRouteSpec {
  readonly name: string;
  readonly type: 'webhook' | 'slack' | 'log';
  /** Required for webhook and slack. */
  readonly url?: string;
  readonly match?: { readonly owners?: readonly string[]; readonly tags?: readonly string[] };
}
