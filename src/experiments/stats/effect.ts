/**
 * What the frequentist and Bayesian tests share: the lift (absolute, relative or scaled), its variance
 * (delta method for relative lift), the Welch–Satterthwaite degrees of freedom and the uninformative
 * default result. Matches gbstats' `models/tests.py` (EffectMoments, frequentist_variance_all_cases,
 * BaseConfig) and `frequentist/tests.py` (TTest.dof, scale_result) at the commit pinned in
 * test/experiments/fixtures/gbstats-reference.json; scaled impact keeps gbstats 0.8.0's factor (see
 * docs/experiments.md).
 */
import { z } from 'zod';
import {
  componentMean,
  componentVariance,
  crossCovariance,
  statMean,
  statUnadjustedMean,
  statVariance,
} from './moments.js';
import type { RegressionAdjustedStatistic, StatsErrorCode, TestStatistic } from './schemas.js';

/** relative: (B − A)/A; absolute: B − A; scaled: absolute × n_B / trafficProportionB / phaseLengthDays. */
export const differenceTypeSchema = z.enum(['relative', 'absolute', 'scaled']);
export type DifferenceType = z.infer<typeof differenceTypeSchema>;

/** gbstats BaseConfig. */
export const baseConfigShape = {
  differenceType: differenceTypeSchema.default('relative'),
  /** Share of traffic assigned to variant B (only for `scaled`). */
  trafficProportionB: z.number().nonnegative().default(1),
  /** Phase length in days (only for `scaled`). */
  phaseLengthDays: z.number().positive().default(1),
};

export interface Uplift {
  readonly dist: 'normal';
  readonly mean: number;
  readonly stddev: number;
}

/** Fields common to every test result (gbstats TestResult). */
export interface EffectResult {
  /** Point estimate of the lift (posterior mean for the Bayesian test). */
  readonly expected: number;
  readonly ci: readonly [number, number];
  readonly uplift: Uplift;
  readonly errorMessage: StatsErrorCode | null;
}

/**
 * Point estimate: gbstats frequentist_diff. Relative lift divides by the baseline's unadjusted mean in
 * absolute value, so a negative baseline keeps the sign of the change (growthbook#6658).
 */
export function liftEstimate(a: TestStatistic, b: TestStatistic, relative: boolean): number {
  const meanA = statMean(a);
  const meanB = statMean(b);
  if (!relative) return meanB - meanA;
  const unadjusted = statUnadjustedMean(a);
  return (meanB - meanA) / Math.abs(unadjusted === 0 ? meanA : unadjusted);
}

/**
 * Variance of the lift estimate: gbstats frequentist_variance_all_cases. Absolute: σB²/nB + σA²/nA.
 * Relative (delta method on unadjusted means μ): σB²/(μA² nB) + σA² μB²/(μA⁴ nA), except CUPED (below).
 */
export function liftVariance(a: TestStatistic, b: TestStatistic, relative: boolean): number {
  if (relative && a.type === 'cuped' && b.type === 'cuped') return relativeCupedVariance(a, b);
  const varA = statVariance(a);
  const varB = statVariance(b);
  if (!relative) return varB / b.n + varA / a.n;
  const muA = statUnadjustedMean(a);
  if (muA === 0) return 0;
  const muB = statUnadjustedMean(b);
  return varB / b.n / Math.pow(muA, 2) + ((varA / a.n) * Math.pow(muB, 2)) / Math.pow(muA, 4);
}

/**
 * Relative CUPED lift ((μB − θ preB) − (μA − θ preA)) / μA, delta method with the control's post mean
 * in both numerator and denominator (gbstats frequentist_variance_relative_cuped; 0.8.0 instead scaled
 * the whole adjusted control variance by μB²/μA², which is off when θ ≠ 0):
 *   [Var(postB) + θ² Var(preB) − 2θ Cov_B] / (nB μA²)
 * + [Var(postA) μB²/μA² − 2θ Cov_A μB/μA + θ² Var(preA)] / (nA μA²).
 */
function relativeCupedVariance(a: RegressionAdjustedStatistic, b: RegressionAdjustedStatistic): number {
  const muA = componentMean(a.post, a.n);
  const muB = componentMean(b.post, b.n);
  const denB = b.n * Math.pow(muA, 2);
  const denA = a.n * Math.pow(muA, 2);
  if (denB === 0 || denA === 0) return 0;
  const theta = a.theta ?? 0;
  const covA = crossCovariance(a.post, a.pre, a.postPreCrossProd, a.n);
  const covB = crossCovariance(b.post, b.pre, b.postPreCrossProd, b.n);
  const varB =
    componentVariance(b.post, b.n) + Math.pow(theta, 2) * componentVariance(b.pre, b.n) - 2 * theta * covB;
  const k = -muB;
  const varA =
    (componentVariance(a.post, a.n) * Math.pow(k, 2)) / Math.pow(muA, 2) +
    (2 * theta * covA * k) / muA +
    Math.pow(theta, 2) * componentVariance(a.pre, a.n);
  return varB / denB + varA / denA;
}

/** Welch–Satterthwaite degrees of freedom on the per-unit (absolute) variances: gbstats TTest.dof. */
export function welchDof(a: TestStatistic, b: TestStatistic): number {
  const va = statVariance(a);
  const vb = statVariance(b);
  return (
    Math.pow(vb / b.n + va / a.n, 2) /
    (Math.pow(vb, 2) / (Math.pow(b.n, 2) * (b.n - 1)) + Math.pow(va, 2) / (Math.pow(a.n, 2) * (a.n - 1)))
  );
}

/** gbstats scale_result's factor: n_B / trafficProportionB / phaseLengthDays (applied to absolute lift). */
export function scaleFactor(b: TestStatistic, trafficProportionB: number, phaseLengthDays: number): number {
  return b.n / trafficProportionB / phaseLengthDays;
}

/** Multiplies estimate, interval and uplift by the scaled-impact factor. */
export function scaleEffect<T extends EffectResult>(result: T, factor: number): T {
  return {
    ...result,
    expected: result.expected * factor,
    ci: [result.ci[0] * factor, result.ci[1] * factor],
    uplift: { dist: 'normal', mean: result.uplift.mean * factor, stddev: result.uplift.stddev * factor },
  };
}
