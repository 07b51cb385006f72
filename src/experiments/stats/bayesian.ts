/**
 * Bayesian test on the lift with a Gaussian prior on the effect (flat/improper by default): gbstats
 * 0.8.0 `bayesian/tests.py::EffectBayesianABTest`. The data likelihood is normal with the frequentist
 * lift and variance (delta method for relative lift); the posterior is normal.
 */
import { z } from 'zod';
import { prepareStatistics } from './cuped.js';
import { normalPpf, stdNormalCdf, stdNormalPdf } from './distributions.js';
import {
  baseConfigShape,
  liftEstimate,
  liftVariance,
  scaleEffect,
  scaleFactor,
  type EffectResult,
} from './effect.js';
import { hasZeroVariance, statMean, statUnadjustedMean } from './moments.js';
import { parseStatisticPair, type StatsErrorCode } from './schemas.js';

export const gaussianPriorSchema = z
  .object({
    mean: z.number().default(0),
    variance: z.number().positive().default(1),
    /** false: improper flat prior (the posterior is the likelihood). */
    proper: z.boolean().default(false),
  })
  .strict();

export const bayesianConfigSchema = z
  .object({
    ...baseConfigShape,
    /** Credible interval level 1 − alpha. */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** Lower is better (chance to win and risk flip). */
    inverse: z.boolean().default(false),
    prior: gaussianPriorSchema.default({ mean: 0, variance: 1, proper: false }),
    /** Scale the prior is stated in; rescaled by the baseline mean when it differs from the lift's. */
    priorType: z.enum(['relative', 'absolute']).default('relative'),
  })
  .strict();
export type BayesianConfigInput = z.input<typeof bayesianConfigSchema>;

export interface BayesianResult extends EffectResult {
  /** Posterior P(lift > 0), or P(lift < 0) for inverse metrics. */
  readonly chanceToWin: number;
  /** Expected loss [choosing control, choosing treatment] (swapped for inverse metrics). */
  readonly risk: readonly [number, number];
  readonly riskType: 'relative' | 'absolute';
}

/** gbstats EffectBayesianABTest.get_risk, via the closed forms of the truncated-normal means:
 *  (1 − P(X<0))·E[X | X>0] = μΦ(μ/σ) + σφ(μ/σ) and −P(X<0)·E[X | X<0] = σφ(μ/σ) − μΦ(−μ/σ). */
export function posteriorRisk(mu: number, sigma: number): [number, number] {
  const z = mu / sigma;
  const tail = sigma * stdNormalPdf(z);
  return [mu * stdNormalCdf(z) + tail, tail - mu * stdNormalCdf(-z)];
}

export function bayesianTest(
  statA: unknown,
  statB: unknown,
  config: BayesianConfigInput = {},
): BayesianResult {
  const cfg = bayesianConfigSchema.parse(config);
  const relative = cfg.differenceType === 'relative';
  const riskType = relative ? 'relative' : 'absolute';
  const fallback = (errorMessage: StatsErrorCode): BayesianResult => ({
    chanceToWin: 0.5,
    expected: 0,
    ci: [0, 0],
    uplift: { dist: 'normal', mean: 0, stddev: 0 },
    risk: [0, 0],
    riskType,
    errorMessage,
  });

  const [a, b] = prepareStatistics(...parseStatisticPair(statA, statB));
  const baseline = statUnadjustedMean(a);

  if (relative && (statMean(a) === 0 || baseline === 0)) return fallback('ZERO_NEGATIVE_BASELINE_VARIATION');
  if (a.n === 0 || b.n === 0) return fallback('NO_UNITS_IN_VARIATION');
  if (hasZeroVariance(a) || hasZeroVariance(b)) return fallback('ZERO_NEGATIVE_VARIANCE');

  // Prior rescaling to the lift's scale (gbstats EffectBayesianABTest.__init__). With a zero baseline
  // mean gbstats raises ZeroDivisionError; we return the baseline-zero default instead.
  let prior = cfg.prior;
  if (relative !== (cfg.priorType === 'relative')) {
    if (baseline === 0) return fallback('ZERO_NEGATIVE_BASELINE_VARIATION');
    prior = relative
      ? { ...prior, mean: prior.mean / Math.abs(baseline), variance: prior.variance / Math.pow(baseline, 2) }
      : { ...prior, mean: prior.mean * Math.abs(baseline), variance: prior.variance * Math.pow(baseline, 2) };
  }

  const dataVariance = liftVariance(a, b, relative);
  const dataMean = liftEstimate(a, b, relative);
  const postPrecision = 1 / dataVariance + (prior.proper ? 1 / prior.variance : 0);
  const mu = prior.proper
    ? (dataMean / dataVariance + prior.mean / prior.variance) / postPrecision
    : dataMean;
  const sigma = Math.sqrt(1 / postPrecision);

  // gbstats chance_to_win: norm.sf(0, μ, σ) = Φ(μ/σ); inverse: 1 − that = Φ(−μ/σ).
  const chanceToWin = stdNormalCdf(cfg.inverse ? -mu / sigma : mu / sigma);
  const ci: [number, number] = [normalPpf(cfg.alpha / 2, mu, sigma), normalPpf(1 - cfg.alpha / 2, mu, sigma)];
  const [riskCtrl, riskTrt] = posteriorRisk(mu, sigma);

  const result: BayesianResult = {
    chanceToWin,
    expected: mu,
    ci,
    uplift: { dist: 'normal', mean: mu, stddev: sigma },
    risk: cfg.inverse ? [riskTrt, riskCtrl] : [riskCtrl, riskTrt],
    riskType,
    errorMessage: null,
  };
  if (cfg.differenceType !== 'scaled') return result;
  if (cfg.trafficProportionB === 0) return fallback('ZERO_SCALED_VARIATION_WEIGHT');
  // gbstats BayesianABTest.scale_result: risk and chance to win are not scaled.
  return scaleEffect(result, scaleFactor(b, cfg.trafficProportionB, cfg.phaseLengthDays));
}
