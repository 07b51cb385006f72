/**
 * Means and variances of the sufficient statistics, formula for formula as the properties of gbstats'
 * `models/statistics.py` (the commit pinned in test/experiments/fixtures/gbstats-reference.json).
 * Variances are per-unit (not of the mean).
 */
import type { BaseStatistic, StatisticComponent, TestStatistic } from './schemas.js';

/** gbstats SampleMeanStatistic.mean / ProportionStatistic.mean: sum / n, 0 when n = 0. */
export function componentMean(c: StatisticComponent, n: number): number {
  return n === 0 ? 0 : c.sum / n;
}

/**
 * gbstats SampleMeanStatistic.variance: (Σx² − (Σx)²/n) / (n − 1), 0 when n ≤ 1.
 * gbstats ProportionStatistic.variance: p(1 − p) (no n − 1 correction).
 */
export function componentVariance(c: StatisticComponent, n: number): number {
  if (c.type === 'proportion') {
    const p = componentMean(c, n);
    return p * (1 - p);
  }
  if (n <= 1) return 0;
  return (c.sumSquares - (c.sum * c.sum) / n) / (n - 1);
}

/**
 * Covariance from Σxy (gbstats `compute_covariance`, used by RatioStatistic and
 * RegressionAdjustedStatistic): of two 0/1 components Σxy/n − ΣxΣy/n² (no n − 1, like their p(1 − p)
 * variances; current gbstats, since growthbook#4250), otherwise the sample covariance
 * (Σxy − ΣxΣy/n)/(n − 1). 0 when n ≤ 1.
 */
export function crossCovariance(
  a: StatisticComponent,
  b: StatisticComponent,
  crossProd: number,
  n: number,
): number {
  if (n <= 1) return 0;
  if (a.type === 'proportion' && b.type === 'proportion') return crossProd / n - (a.sum * b.sum) / (n * n);
  return (crossProd - (a.sum * b.sum) / n) / (n - 1);
}

/** The statistic's point estimate; for CUPED the adjusted mean post − θ·pre (θ = 0 when unset). */
export function statMean(s: TestStatistic): number {
  switch (s.type) {
    case 'mean':
    case 'proportion':
      return componentMean(s, s.n);
    case 'ratio':
      // gbstats RatioStatistic.mean: Σm / Σd, 0 when Σd = 0
      return s.d.sum === 0 ? 0 : s.m.sum / s.d.sum;
    case 'cuped':
      return componentMean(s.post, s.n) - (s.theta ?? 0) * componentMean(s.pre, s.n);
  }
}

/** gbstats Statistic.unadjusted_mean: the mean without the CUPED adjustment. */
export function statUnadjustedMean(s: TestStatistic): number {
  return s.type === 'cuped' ? componentMean(s.post, s.n) : statMean(s);
}

/** Per-unit variance; for ratios by the delta method, for CUPED of post − θ·pre. */
export function statVariance(s: TestStatistic): number {
  switch (s.type) {
    case 'mean':
    case 'proportion':
      return componentVariance(s, s.n);
    case 'ratio': {
      // gbstats RatioStatistic.variance: Var(m)/μd² − 2 Cov(m,d) μm/μd³ + μm² Var(d)/μd⁴
      const muD = componentMean(s.d, s.n);
      if (muD === 0 || s.n <= 1) return 0;
      const muM = componentMean(s.m, s.n);
      const cov = crossCovariance(s.m, s.d, s.mdCrossProd, s.n);
      return (
        componentVariance(s.m, s.n) / Math.pow(muD, 2) -
        (2 * cov * muM) / Math.pow(muD, 3) +
        (Math.pow(muM, 2) * componentVariance(s.d, s.n)) / Math.pow(muD, 4)
      );
    }
    case 'cuped': {
      // gbstats RegressionAdjustedStatistic.variance: Var(post) + θ² Var(pre) − 2θ Cov(post, pre)
      if (s.n <= 1) return 0;
      const theta = s.theta ?? 0;
      return (
        componentVariance(s.post, s.n) +
        Math.pow(theta, 2) * componentVariance(s.pre, s.n) -
        2 * theta * crossCovariance(s.post, s.pre, s.postPreCrossProd, s.n)
      );
    }
  }
}

/** gbstats Statistic.stddev: √variance, 0 when the variance is not positive. */
export function statStddev(s: TestStatistic): number {
  const v = statVariance(s);
  return v <= 0 ? 0 : Math.sqrt(v);
}

/** gbstats Statistic._has_zero_variance. */
export function hasZeroVariance(s: TestStatistic): boolean {
  return statVariance(s) <= 0;
}

/** A CUPED component as a standalone statistic with the parent's n (gbstats' post_statistic). */
export function componentAsStatistic(c: StatisticComponent, n: number): BaseStatistic {
  return c.type === 'mean'
    ? { type: 'mean', n, sum: c.sum, sumSquares: c.sumSquares }
    : { type: 'proportion', n, sum: c.sum };
}
