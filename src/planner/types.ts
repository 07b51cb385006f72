import type { PartitionRange } from '../dsl/partitions/types.js';

/** Why a step is in a plan. */
export type PlanReason = 'missing' | 'failed_before' | 'code_changed' | 'upstream_changed' | 'forced';

/** One materialization to run: one partition of one asset. Plain data (it crosses into Temporal workflows). */
export interface PlanStep {
  /** `${assetKey}@${partitionKey}` */
  readonly id: string;
  readonly assetKey: string;
  readonly partitionKey: string;
  readonly reason: PlanReason;
  /** Ids of steps in this plan that must succeed first. */
  readonly upstream: readonly string[];
  /**
   * Every upstream `${assetKey}@${partitionKey}` this step reads, in the plan or not. Plans that cross Temporal
   * (the planRun activity's result) carry none: a cumulative asset reads hundreds of partitions per step, so the
   * materialize activity recomputes them with `stepInputs` instead of shipping them in workflow history.
   */
  readonly inputs: readonly string[];
  /** The instant that bounded the mappings (unpartitioned readers of time partitions), for `stepInputs`. */
  readonly readsUntil?: string;
  /**
   * Steps of one asset with equal batch keys run (and are locked) together: the day of an hourly partition, the
   * day of a multi partition's time key. Absent: the step runs alone.
   */
  readonly batch?: string;
  /** Steps of one lane run one unit (step or batch) at a time: `ingest` for the steps that land source data. */
  readonly lane?: string;
}

/** An immutable, ordered (topological, then by asset key and partition) list of steps. */
export interface Plan {
  readonly selection: string;
  readonly range: PartitionRange | undefined;
  readonly steps: readonly PlanStep[];
  /** Steps considered and left out because they are fresh. */
  readonly skippedFresh: number;
}

export interface PlanRequest {
  readonly selection: string;
  /** Partition range of the selection's time dimension; undefined plans unpartitioned assets only / all static keys. */
  readonly range?: PartitionRange;
  /** Exact partition keys (overrides range). */
  readonly partitionKeys?: readonly string[];
  readonly force?: boolean;
  /** ISO instant bounding "all upstream" reads of unpartitioned assets over time partitions (default: the range). */
  readonly now?: string;
}
