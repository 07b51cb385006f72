/**
 * Experiment metrics declared in code. The engine turns each declaration into SQL that produces
 * per-variant sufficient statistics (see sufficient-stats.ts); the statistics then run in TypeScript.
 * Modelled on GrowthBook's metric settings (binomial, mean, ratio; capping; CUPED; Bayesian prior).
 */
import { z } from 'zod';

const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case identifier');

/**
 * Where a metric's events come from: one fact table (an asset key), joined to the assignments on the
 * unit column, counted from first exposure.
 */
export const metricSourceSchema = z
  .object({
    /** Asset key of the fact table, e.g. `core.fact_orders`. */
    table: z.string().min(1),
    unitColumn: identifier.default('user_id'),
    timestampColumn: identifier.default('event_ts'),
    /** Per-event value summed per unit; absent counts events. */
    valueColumn: identifier.optional(),
    /** Extra SQL predicate on the fact table (engine-neutral SQL). */
    filter: z.string().min(1).optional(),
  })
  .strict();
export type MetricSource = z.infer<typeof metricSourceSchema>;

/**
 * Capping (winsorization) of each unit's aggregated value before the sums are taken:
 * `absolute` clips at a fixed value; `percentile` clips at that quantile of the unit values pooled over
 * all variants (optionally computed over non-zero values only).
 */
export const cappingSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('absolute'), value: z.number().positive() }).strict(),
  z
    .object({
      type: z.literal('percentile'),
      percentile: z.number().gt(0).lt(1),
      ignoreZeros: z.boolean().default(false),
    })
    .strict(),
]);
export type Capping = z.infer<typeof cappingSchema>;

/** CUPED: the same metric measured over a window before each unit's first exposure. */
export const cupedSchema = z
  .object({ enabled: z.boolean().default(true), lookbackDays: z.number().int().positive().default(14) })
  .strict();

/** Gaussian prior on the relative lift for the Bayesian engine (GrowthBook metric prior settings). */
export const metricPriorSchema = z
  .object({
    proper: z.boolean().default(false),
    mean: z.number().default(0),
    stddev: z.number().positive().default(0.1),
  })
  .strict();

/** Whether `x` units of `minutesPerUnit` minutes are a whole number of minutes. */
const wholeMinutes =
  (minutesPerUnit: number) =>
  (x: number): boolean =>
    Math.abs(x * minutesPerUnit - Math.round(x * minutesPerUnit)) < 1e-9;
const minutesMessage = { message: 'must be a whole number of minutes' };

const common = {
  id: identifier,
  name: z.string().min(1),
  description: z.string().optional(),
  /** Lower is better (e.g. latency, refunds). */
  inverse: z.boolean().default(false),
  /**
   * Only events within this many days after a unit's first exposure count (absent: until the end). A
   * whole number of minutes (0.5 is fine), as every engine can add minutes to a timestamp.
   */
  conversionWindowDays: z.number().positive().refine(wholeMinutes(1_440), minutesMessage).optional(),
  /** Events in the first hours after exposure are ignored (e.g. to skip the exposure event itself). */
  conversionDelayHours: z.number().nonnegative().refine(wholeMinutes(60), minutesMessage).default(0),
  prior: metricPriorSchema.optional(),
};

export const binomialMetricSchema = z
  .object({
    ...common,
    type: z.literal('binomial'),
    /** A unit converts when it has at least one matching event in the window. */
    source: metricSourceSchema,
    cuped: cupedSchema.optional(),
  })
  .strict();

export const meanMetricSchema = z
  .object({
    ...common,
    type: z.literal('mean'),
    /** Per-unit total (e.g. revenue per user), averaged over all exposed units (0 for no events). */
    source: metricSourceSchema,
    capping: cappingSchema.optional(),
    cuped: cupedSchema.optional(),
  })
  .strict();

export const ratioMetricSchema = z
  .object({
    ...common,
    type: z.literal('ratio'),
    /** Σ numerator / Σ denominator over units (e.g. revenue per session), variance by the delta method. */
    numerator: metricSourceSchema,
    denominator: metricSourceSchema,
    /** Applied to each unit's numerator and denominator values. */
    capping: cappingSchema.optional(),
  })
  .strict();

export const metricDefinitionSchema = z.discriminatedUnion('type', [
  binomialMetricSchema,
  meanMetricSchema,
  ratioMetricSchema,
]);
export type MetricDefinition = z.infer<typeof metricDefinitionSchema>;
export type MetricDefinitionInput = z.input<typeof metricDefinitionSchema>;

/** Validates a metric declared in code. */
export function defineMetric(input: MetricDefinitionInput): MetricDefinition {
  return metricDefinitionSchema.parse(input);
}

/** Whether the metric's statistics use a pre-exposure covariate. */
export function usesCuped(metric: MetricDefinition): boolean {
  return metric.type !== 'ratio' && metric.cuped !== undefined && metric.cuped.enabled;
}
