/**
 * CUPED (regression adjustment with a pre-exposure covariate) with one pooled θ for both variants,
 * as gbstats `models/statistics.py::compute_theta` and `models/tests.py::BaseABTest.__init__`.
 */
import { componentAsStatistic, componentVariance, crossCovariance } from './moments.js';
import type { RegressionAdjustedStatistic, StatisticComponent, TestStatistic } from './schemas.js';

/** gbstats create_joint_statistic: sums (and Σx²) of both variants over n = nA + nB. */
function joint(a: StatisticComponent, b: StatisticComponent): StatisticComponent {
  if (a.type === 'proportion' && b.type === 'proportion') return { type: 'proportion', sum: a.sum + b.sum };
  if (a.type === 'mean' && b.type === 'mean') {
    return { type: 'mean', sum: a.sum + b.sum, sumSquares: a.sumSquares + b.sumSquares };
  }
  throw new Error('Statistic types for a metric must not be different types across variations.');
}

/**
 * Pooled θ = Cov(post, pre) / Var(pre) over both variants together. 0 when the pooled pre or post
 * variance is 0. For a binomial metric both are population moments (p(1 − p) and Σxy/n − p_x p_y).
 */
export function computeTheta(a: RegressionAdjustedStatistic, b: RegressionAdjustedStatistic): number {
  const n = a.n + b.n;
  const post = joint(a.post, b.post);
  const pre = joint(a.pre, b.pre);
  const preVar = componentVariance(pre, n);
  if (preVar === 0 || componentVariance(post, n) === 0) return 0;
  return crossCovariance(post, pre, a.postPreCrossProd + b.postPreCrossProd, n) / preVar;
}

/**
 * What every test does first (gbstats BaseABTest.__init__): for a CUPED pair, set the pooled θ on both;
 * when θ = 0 fall back to the unadjusted (post-exposure) statistics. Other pairs pass through.
 */
export function prepareStatistics(a: TestStatistic, b: TestStatistic): [TestStatistic, TestStatistic] {
  if (a.type !== 'cuped' || b.type !== 'cuped') return [a, b];
  const theta = computeTheta(a, b);
  if (theta === 0) return [componentAsStatistic(a.post, a.n), componentAsStatistic(b.post, b.n)];
  return [
    { ...a, theta },
    { ...b, theta },
  ];
}
