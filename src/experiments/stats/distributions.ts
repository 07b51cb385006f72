/**
 * Thin, typed wrappers over the @stdlib distribution functions (they ship their own typings), so the
 * rest of the statistics code never hand-writes a special function.
 */
import gammainc from '@stdlib/math-base-special-gammainc';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** Standard normal CDF Φ(x). */
export function stdNormalCdf(x: number): number {
  return normalCdf(x, 0, 1);
}

/** Quantile of N(mean, sd²). */
export function normalPpf(p: number, mean: number, sd: number): number {
  return normalQuantile(p, mean, sd);
}

/** Standard normal density φ(x) (an elementary function, not a special one). */
export function stdNormalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Student t CDF with (possibly fractional) degrees of freedom. */
export function studentTCdf(x: number, dof: number): number {
  return tCdf(x, dof);
}

/** Student t quantile with (possibly fractional) degrees of freedom. */
export function studentTPpf(p: number, dof: number): number {
  return tQuantile(p, dof);
}

/**
 * Survival function of the chi-square distribution, P(X > x) for X ~ χ²(dof), computed directly as the
 * upper regularized incomplete gamma Q(dof/2, x/2), never as 1 - cdf, so tiny p-values keep their
 * precision (down to subnormal doubles) instead of rounding to 0.
 */
export function chiSquareSf(x: number, dof: number): number {
  if (x <= 0) return 1;
  return gammainc(x / 2, dof / 2, true, true);
}
