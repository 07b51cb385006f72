/**
 * Per-variant sufficient statistics: what the engine computes in SQL and the statistics consume.
 * Shapes follow gbstats 0.8.0 `gbstats/models/statistics.py` (SampleMeanStatistic, ProportionStatistic,
 * RatioStatistic, RegressionAdjustedStatistic), with one shared `n` per variant (gbstats' `count`
 * equals `users` for the metrics we compute).
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const count = z.number().int().nonnegative();

/** Σx and Σx² of a unit-level value (revenue per user, sessions per user, ...). */
export const sampleMeanStatisticSchema = z
  .object({ type: z.literal('mean'), n: count, sum: finite, sumSquares: finite })
  .strict();
/** Number of units with a 0/1 outcome equal to 1 (converted within the window). */
export const proportionStatisticSchema = z
  .object({ type: z.literal('proportion'), n: count, sum: finite })
  .strict();

/** A component of a ratio or CUPED statistic; it shares the parent's `n`. */
export const componentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('mean'), sum: finite, sumSquares: finite }).strict(),
  z.object({ type: z.literal('proportion'), sum: finite }).strict(),
]);

/** Ratio metric (e.g. revenue per session): numerator m, denominator d and Σ m·d per unit. */
export const ratioStatisticSchema = z
  .object({
    type: z.literal('ratio'),
    n: count,
    m: componentSchema,
    d: componentSchema,
    mdCrossProd: finite,
  })
  .strict();

/** CUPED: the metric (post-exposure), its pre-exposure covariate and Σ post·pre per unit. */
export const regressionAdjustedStatisticSchema = z
  .object({
    type: z.literal('cuped'),
    n: count,
    post: componentSchema,
    pre: componentSchema,
    postPreCrossProd: finite,
    /** Set by `prepareStatistics` from both variants (pooled); leave unset on input. */
    theta: finite.optional(),
  })
  .strict();

export const testStatisticSchema = z.discriminatedUnion('type', [
  sampleMeanStatisticSchema,
  proportionStatisticSchema,
  ratioStatisticSchema,
  regressionAdjustedStatisticSchema,
]);

export type SampleMeanStatistic = z.infer<typeof sampleMeanStatisticSchema>;
export type ProportionStatistic = z.infer<typeof proportionStatisticSchema>;
export type StatisticComponent = z.infer<typeof componentSchema>;
export type RatioStatistic = z.infer<typeof ratioStatisticSchema>;
export type RegressionAdjustedStatistic = z.infer<typeof regressionAdjustedStatisticSchema>;
export type BaseStatistic = SampleMeanStatistic | ProportionStatistic;
export type TestStatistic = z.infer<typeof testStatisticSchema>;

/** Why a test returned its uninformative default output (gbstats' message codes). */
export type StatsErrorCode =
  | 'ZERO_NEGATIVE_BASELINE_VARIATION'
  | 'ZERO_NEGATIVE_VARIANCE'
  | 'ZERO_SCALED_VARIATION_WEIGHT'
  | 'NO_UNITS_IN_VARIATION';

/** Parses both variants' statistics and checks they are comparable (same shape). */
export function parseStatisticPair(a: unknown, b: unknown): [TestStatistic, TestStatistic] {
  const sa = testStatisticSchema.parse(a);
  const sb = testStatisticSchema.parse(b);
  if (shapeOf(sa) !== shapeOf(sb)) {
    throw new Error(`statistics must have the same shape across variants: ${shapeOf(sa)} vs ${shapeOf(sb)}`);
  }
  return [sa, sb];
}

function shapeOf(s: TestStatistic): string {
  switch (s.type) {
    case 'mean':
    case 'proportion':
      return s.type;
    case 'ratio':
      return `ratio(${s.m.type},${s.d.type})`;
    case 'cuped':
      return `cuped(${s.post.type},${s.pre.type})`;
  }
}
