/**
 * Welch t-test on the absolute, relative or scaled lift of B over A, with confidence interval and
 * p-value, two-sided or one-sided: gbstats `frequentist/tests.py` TwoSidedTTest,
 * OneSidedTreatmentGreaterTTest and OneSidedTreatmentLesserTTest (via TTest.compute_result).
 */
import { z } from 'zod';
import { prepareStatistics } from './cuped.js';
import { studentTCdf, studentTPpf } from './distributions.js';
import {
  baseConfigShape,
  liftEstimate,
  liftVariance,
  scaleEffect,
  scaleFactor,
  welchDof,
  type EffectResult,
} from './effect.js';
import { hasZeroVariance, statMean, statUnadjustedMean } from './moments.js';
import { parseStatisticPair, type StatsErrorCode, type TestStatistic } from './schemas.js';

/**
 * The alternative hypothesis: `two-sided` (lift ≠ testValue), `greater` (treatment greater: lift >
 * testValue) or `less` (lift < testValue). One-sided tests give a one-sided interval, open (±∞) on
 * the other side, and a one-sided p-value.
 */
export const alternativeSchema = z.enum(['two-sided', 'greater', 'less']);
export type Alternative = z.infer<typeof alternativeSchema>;

export const frequentistConfigSchema = z
  .object({
    ...baseConfigShape,
    /** Significance level; the interval has 1 − alpha coverage. */
    alpha: z.number().gt(0).lt(1).default(0.05),
    alternative: alternativeSchema.default('two-sided'),
    /** Null-hypothesis lift (in the units of the difference type). */
    testValue: z.number().default(0),
  })
  .strict();
export type FrequentistConfig = z.infer<typeof frequentistConfigSchema>;
export type FrequentistConfigInput = z.input<typeof frequentistConfigSchema>;

export interface FrequentistResult extends EffectResult {
  /** NaN when it could not be computed (`pValueError` says why). */
  readonly pValue: number;
  /** gbstats' pValueErrorMessage: the sequential one-sided search did not converge. */
  readonly pValueError: 'NUMERICAL_PVALUE_NOT_CONVERGED' | null;
  /** Welch–Satterthwaite degrees of freedom (NaN in the default output). */
  readonly dof: number;
}

/** gbstats TTest._default_output: uninformative result when the test cannot be run. */
export function frequentistDefault(errorMessage: StatsErrorCode): FrequentistResult {
  return {
    expected: 0,
    ci: [0, 0],
    pValue: 1,
    pValueError: null,
    dof: Number.NaN,
    uplift: { dist: 'normal', mean: 0, stddev: 0 },
    errorMessage,
  };
}

/** Interval and p-value given the point estimate, its variance, dof and the total sample size. */
export type IntervalFn = (args: {
  estimate: number;
  variance: number;
  dof: number;
  totalN: number;
  config: FrequentistConfig;
}) => { ci: [number, number]; pValue: number; pValueError?: FrequentistResult['pValueError'] };

/** The shared flow of gbstats TTest.compute_result, parameterised by how intervals are built. */
export function runFrequentist(
  stats: [TestStatistic, TestStatistic],
  config: FrequentistConfig,
  interval: IntervalFn,
): FrequentistResult {
  const [a, b] = prepareStatistics(stats[0], stats[1]);
  const relative = config.differenceType === 'relative';
  const estimate = liftEstimate(a, b, relative);
  const variance = liftVariance(a, b, relative);
  // gbstats EffectMoments.compute_result: variances first, then the baseline.
  if (hasZeroVariance(a) || hasZeroVariance(b) || variance <= 0)
    return frequentistDefault('ZERO_NEGATIVE_VARIANCE');
  if (statMean(a) === 0 || statUnadjustedMean(a) === 0)
    return frequentistDefault('ZERO_NEGATIVE_BASELINE_VARIATION');

  const dof = welchDof(a, b);
  const { ci, pValue, pValueError = null } = interval({ estimate, variance, dof, totalN: a.n + b.n, config });
  const result: FrequentistResult = {
    expected: estimate,
    ci,
    pValue,
    pValueError,
    dof,
    uplift: { dist: 'normal', mean: estimate, stddev: Math.sqrt(variance) },
    errorMessage: null,
  };
  if (config.differenceType !== 'scaled') return result;
  if (config.trafficProportionB === 0) return frequentistDefault('ZERO_SCALED_VARIATION_WEIGHT');
  return scaleEffect(result, scaleFactor(b, config.trafficProportionB, config.phaseLengthDays));
}

/**
 * Fixed-horizon interval with z = (estimate − testValue)/√variance. Two-sided: estimate ± t(1 − α/2,
 * dof)·√variance, p = 2·P(T > |z|); greater: [estimate − t(1 − α)·√variance, +∞), p = P(T > z); less:
 * (−∞, estimate + t(1 − α)·√variance], p = P(T < z). gbstats computes upper tails as 1 − cdf; we use
 * cdf(−z), equal in value but without the cancellation, so very small p-values keep their digits.
 */
const welchInterval: IntervalFn = ({ estimate, variance, dof, config }) => {
  const se = Math.sqrt(variance);
  const z = (estimate - config.testValue) / se;
  if (config.alternative === 'two-sided') {
    const width = studentTPpf(1 - config.alpha / 2, dof) * se;
    return { ci: [estimate - width, estimate + width], pValue: 2 * studentTCdf(-Math.abs(z), dof) };
  }
  const width = studentTPpf(1 - config.alpha, dof) * se;
  return config.alternative === 'greater'
    ? { ci: [estimate - width, Infinity], pValue: studentTCdf(-z, dof) }
    : { ci: [-Infinity, estimate + width], pValue: studentTCdf(z, dof) };
};

/** Welch t-test of B (treatment) against A (control/baseline), two-sided unless `alternative` says. */
export function welchTTest(
  statA: unknown,
  statB: unknown,
  config: FrequentistConfigInput = {},
): FrequentistResult {
  return runFrequentist(
    parseStatisticPair(statA, statB),
    frequentistConfigSchema.parse(config),
    welchInterval,
  );
}
