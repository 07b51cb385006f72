/**
 * Sequential testing with asymptotic confidence sequences (Waudby-Smith et al., "Time-uniform central
 * limit theory and asymptotic confidence sequences", arXiv:2103.06476v7): gbstats
 * `frequentist/tests.py` SequentialTwoSidedTTest, SequentialOneSidedTreatmentGreaterTTest and
 * SequentialOneSidedTreatmentLesserTTest. Valid at any peeking time; wider than the fixed-horizon
 * interval.
 */
import { z } from 'zod';
import {
  frequentistConfigSchema,
  runFrequentist,
  type FrequentistResult,
  type IntervalFn,
} from './frequentist.js';
import { parseStatisticPair } from './schemas.js';

export const sequentialConfigSchema = frequentistConfigSchema
  .extend({
    /**
     * Tuning parameter: the total sample size at which the confidence sequence is tightest (gbstats'
     * `sequential_tuning_parameter`, default 5000).
     */
    sequentialTuningParameter: z.number().positive().default(5000),
  })
  .strict()
  // gbstats returns no result for these (ALPHA_GREATER_THAN_0.5_FOR_SEQUENTIAL_ONE_SIDED_TEST).
  .refine((c) => c.alternative === 'two-sided' || c.alpha < 0.5, {
    message: 'a one-sided sequential test needs alpha < 0.5',
    path: ['alpha'],
  });
export type SequentialConfig = z.infer<typeof sequentialConfigSchema>;
export type SequentialConfigInput = z.input<typeof sequentialConfigSchema>;

/**
 * ρ from eq. 161: ρ = √((−2 ln a + ln(−2 ln a + 1)) / tuning) with a = α (two-sided) or 2α
 * (one-sided).
 */
export function sequentialRho(alpha: number, tuning: number, twoSided = true): number {
  const a = twoSided ? alpha : 2 * alpha;
  return Math.sqrt((-2 * Math.log(a) + Math.log(-2 * Math.log(a) + 1)) / tuning);
}

/** Eq. 9, two-sided half-width: √s2·√(2(Nρ²+1) ln(√(Nρ²+1)/α) / (Nρ)²). */
function twoSidedHalfwidth(s2: number, n: number, rho: number, alpha: number): number {
  const nRho2p1 = n * Math.pow(rho, 2) + 1;
  return (
    Math.sqrt(s2) * Math.sqrt((2 * nRho2p1 * Math.log(Math.sqrt(nRho2p1) / alpha)) / Math.pow(n * rho, 2))
  );
}

/** Eq. 134, one-sided half-width: √(s2 · 2(Nρ²+1)/(Nρ)² · ln(1 + √(Nρ²+1)/(2α))). */
function oneSidedHalfwidth(s2: number, n: number, rho: number, alpha: number): number {
  const nRho2p1 = n * Math.pow(rho, 2) + 1;
  const part2 = (2 * nRho2p1) / Math.pow(n * rho, 2);
  const part3 = Math.log(1 + Math.sqrt(nRho2p1) / (2 * alpha));
  return Math.sqrt(s2 * part2 * part3);
}

/**
 * gbstats' p-value of a one-sided sequential test (SequentialOneSidedTreatmentLesserTTest
 * .compute_p_value): the α at which the interval's finite bound crosses 0, found by bisection on
 * [1e-5, 0.4999] with ρ fixed at the test's, stopping when the bound is within 1e-6 of 0. Reproduced
 * step for step (including returning the next midpoint and clamping to the bracket) so the numbers are
 * GrowthBook's; it compares with 0, not with the test value.
 */
function oneSidedSequentialPValue(
  bound: (alpha: number) => number,
  lesser: boolean,
): { pValue: number; pValueError: FrequentistResult['pValueError'] } {
  const tol = 1e-6;
  let minAlpha = 1e-5;
  let maxAlpha = 0.4999;
  // Whether the finite bound excludes 0 (significant) or lies strictly on the wrong side of it.
  const excludesZero = (x: number): boolean => (lesser ? x < 0 : x > 0);
  const wrongSide = (x: number): boolean => (lesser ? x > 0 : x < 0);
  if (excludesZero(bound(minAlpha))) return { pValue: minAlpha, pValueError: null };
  if (wrongSide(bound(maxAlpha))) return { pValue: maxAlpha, pValueError: null };
  let alpha = 0.5 * (minAlpha + maxAlpha);
  let diff = 0;
  for (let i = 0; i < 100; i++) {
    diff = bound(alpha);
    if (wrongSide(diff)) minAlpha = alpha;
    else maxAlpha = alpha;
    alpha = 0.5 * (minAlpha + maxAlpha);
    if (Math.abs(diff) < tol) break;
  }
  return Math.abs(diff) < tol
    ? { pValue: alpha, pValueError: null }
    : { pValue: Number.NaN, pValueError: 'NUMERICAL_PVALUE_NOT_CONVERGED' };
}

function sequentialInterval(tuning: number): IntervalFn {
  return ({ estimate, variance, totalN, config }) => {
    const twoSided = config.alternative === 'two-sided';
    const rho = sequentialRho(config.alpha, tuning, twoSided);
    const s2 = variance * totalN;
    if (twoSided) {
      const width = twoSidedHalfwidth(s2, totalN, rho, config.alpha);
      // eq. 155: e-value exp(ρ² S²/(2(Nρ²+1)))/√(Nρ²+1) with S² = (estimate − testValue)²·N/variance; p = min(1/e, 1)
      const nRho2p1 = totalN * Math.pow(rho, 2) + 1;
      const st2 = (Math.pow(estimate - config.testValue, 2) * totalN) / variance;
      const evalue = Math.exp((Math.pow(rho, 2) * st2) / (2 * nRho2p1)) / Math.sqrt(nRho2p1);
      return { ci: [estimate - width, estimate + width], pValue: Math.min(1 / evalue, 1) };
    }
    const lesser = config.alternative === 'less';
    const bound = (alpha: number): number => {
      const w = oneSidedHalfwidth(s2, totalN, rho, alpha);
      return lesser ? estimate + w : estimate - w;
    };
    const finite = bound(config.alpha);
    return {
      ci: lesser ? [-Infinity, finite] : [finite, Infinity],
      ...oneSidedSequentialPValue(bound, lesser),
    };
  };
}

/** Sequential test of B against A with an always-valid confidence sequence (two- or one-sided). */
export function sequentialTest(
  statA: unknown,
  statB: unknown,
  config: SequentialConfigInput = {},
): FrequentistResult {
  const parsed = sequentialConfigSchema.parse(config);
  return runFrequentist(
    parseStatisticPair(statA, statB),
    parsed,
    sequentialInterval(parsed.sequentialTuningParameter),
  );
}
