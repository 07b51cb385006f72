/**
 * What the frequentist and Bayesian tests share: the lift (absolute, relative or scaled), its variance
 * (delta method for relative lift), the Welch–Satterthwaite degrees of freedom and the uninformative
 * default result. Matches gbstats 0.8.0 `frequentist/tests.py` (frequentist_diff, frequentist_variance,
 * TTest.dof, TTest.scale_result) and `models/tests.py::BaseConfig`.
 */
import { z } from 'zod';
import { statMean, statUnadjustedMean, statVariance } from './moments.js';
import type { StatsErrorCode, TestStatistic } from './schemas.js';

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

/** Point estimate: gbstats frequentist_diff (relative divides by the baseline's unadjusted mean). */
export function liftEstimate(a: TestStatistic, b: TestStatistic, relative: boolean): number {
  const meanA = statMean(a);
  const meanB = statMean(b);
  if (!relative) return meanB - meanA;
  const unadjusted = statUnadjustedMean(a);
  return (meanB - meanA) / (unadjusted === 0 ? meanA : unadjusted);
}

/**
 * Variance of the lift estimate: gbstats frequentist_variance. Absolute: σB²/nB + σA²/nA. Relative
 * (delta method, on unadjusted means μ): σB²/(μA² nB) + σA² μB²/(μA⁴ nA).
 */
export function liftVariance(a: TestStatistic, b: TestStatistic, relative: boolean): number {
  const varA = statVariance(a);
  const varB = statVariance(b);
  if (!relative) return varB / b.n + varA / a.n;
  const muA = statUnadjustedMean(a);
  const muB = statUnadjustedMean(b);
  return varB / (Math.pow(muA, 2) * b.n) + (varA * Math.pow(muB, 2)) / (Math.pow(muA, 4) * a.n);
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
