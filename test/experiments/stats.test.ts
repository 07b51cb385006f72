/** Unit tests of the statistics that do not need the gbstats oracle. */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { describe, expect, it } from 'vitest';
import {
  adjustedConfidenceInterval,
  benjaminiHochberg,
  holmBonferroni,
  prepareStatistics,
  sampleRatioMismatch,
  sequentialRho,
  sequentialTest,
  statVariance,
  welchTTest,
  type RegressionAdjustedStatistic,
} from '../../src/experiments/stats/index.js';

const mean = (n: number, mu: number, sd: number) => ({
  type: 'mean' as const,
  n,
  sum: n * mu,
  sumSquares: (n - 1) * sd * sd + n * mu * mu,
});

const component = (s: ReturnType<typeof mean>) => ({
  type: 'mean' as const,
  sum: s.sum,
  sumSquares: s.sumSquares,
});

describe('sample ratio mismatch', () => {
  it('balanced traffic is no mismatch', () => {
    const r = sampleRatioMismatch({ users: [5000, 5010], weights: [0.5, 0.5] });
    expect(r.pValue).toBeGreaterThan(0.9);
    expect(r.mismatch).toBe(false);
    expect(r.dof).toBe(1);
  });

  it('keeps tiny p-values that 1 - cdf rounds to 0', () => {
    const r = sampleRatioMismatch({ users: [100_000, 96_000], weights: [1, 1] });
    expect(1 - chisquareCdf(r.chiSquare, 1)).toBe(0);
    expect(r.pValue).toBeGreaterThan(1e-19);
    expect(r.pValue).toBeLessThan(1e-18);
    expect(r.mismatch).toBe(true);
  });

  it('follows gbstats on edge cases: no units → 1; a zero-weight variant adds no term but counts in dof and total', () => {
    expect(sampleRatioMismatch({ users: [0, 0], weights: [1, 1] }).pValue).toBe(1);
    const r = sampleRatioMismatch({ users: [500, 500, 0], weights: [1, 1, 0] });
    expect(r.chiSquare).toBe(0);
    expect(r.dof).toBe(2);
    expect(r.pValue).toBe(1);
    // units seen in a zero-weight variant still count in the total the expectations are taken from
    expect(sampleRatioMismatch({ users: [500, 500, 100], weights: [1, 1, 0] }).chiSquare).toBeCloseTo(
      100 / 11,
      12,
    );
  });

  it('rejects malformed input', () => {
    expect(() => sampleRatioMismatch({ users: [1, 2], weights: [1] })).toThrow();
    expect(() => sampleRatioMismatch({ users: [1.5, 2], weights: [1, 1] })).toThrow();
  });
});

describe('multiple-comparison corrections', () => {
  const p = [0.01, 0.04, 0.03, 0.2];
  it('Holm step-down (statsmodels holm)', () => {
    expect(holmBonferroni(p)).toEqual([0.04, 0.09, 0.09, 0.2]);
  });
  it('Benjamini-Hochberg step-up (statsmodels fdr_bh)', () => {
    const bh = benjaminiHochberg(p);
    [0.04, 0.16 / 3, 0.16 / 3, 0.2].forEach((x, i) => expect(bh[i]).toBeCloseTo(x, 15));
  });
  it('handles empty input and rejects p-values outside [0, 1]', () => {
    expect(holmBonferroni([])).toEqual([]);
    expect(() => benjaminiHochberg([1.5])).toThrow();
  });
  it('adjusted CI widens to the adjusted p-value and never narrows', () => {
    const ci: [number, number] = [0.01, 0.09];
    const adj = adjustedConfidenceInterval(0.2, 0.05, ci);
    expect(adj[0]).toBeLessThan(ci[0]);
    expect(adj[1]).toBeGreaterThan(ci[1]);
    expect(adjustedConfidenceInterval(0.0001, 0.05, ci)).toEqual(ci);
    expect(adjustedConfidenceInterval(1, 0.05, ci)).toEqual([-Infinity, Infinity]);
  });
});

describe('tests on sufficient statistics', () => {
  it('CUPED with a correlated covariate narrows the interval', () => {
    const n = 10_000;
    const cuped = (mu: number): RegressionAdjustedStatistic => {
      const post = mean(n, mu, 10);
      const pre = mean(n, 20, 10);
      // correlation 0.8 between post and pre
      const cross = (n - 1) * 0.8 * 10 * 10 + (post.sum * pre.sum) / n;
      return { type: 'cuped', n, post: component(post), pre: component(pre), postPreCrossProd: cross };
    };
    const a = cuped(20);
    const b = cuped(20.3);
    const [pa] = prepareStatistics(a, b);
    expect(pa.type === 'cuped' && pa.theta).toBeCloseTo(0.8, 6);
    expect(statVariance(pa)).toBeCloseTo(100 * (1 - 0.64), 6);
    const adjusted = welchTTest(a, b);
    const plain = welchTTest(mean(n, 20, 10), mean(n, 20.3, 10));
    expect(adjusted.ci[1] - adjusted.ci[0]).toBeLessThan(0.7 * (plain.ci[1] - plain.ci[0]));
  });

  it('sequential interval is wider than the fixed-horizon one and uses gbstats rho', () => {
    const a = mean(20_000, 10, 4);
    const b = mean(20_000, 10.1, 4);
    const fixed = welchTTest(a, b, { differenceType: 'absolute' });
    const seq = sequentialTest(a, b, { differenceType: 'absolute', sequentialTuningParameter: 5000 });
    expect(seq.ci[1] - seq.ci[0]).toBeGreaterThan(fixed.ci[1] - fixed.ci[0]);
    expect(seq.pValue).toBeGreaterThan(fixed.pValue);
    const alpha = 0.05;
    expect(sequentialRho(alpha, 5000)).toBeCloseTo(
      Math.sqrt((-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / 5000),
      15,
    );
  });

  it('returns gbstats default outputs for a zero baseline or zero variance', () => {
    expect(welchTTest(mean(100, 0, 1), mean(100, 1, 1), { differenceType: 'absolute' }).errorMessage).toBe(
      'ZERO_NEGATIVE_BASELINE_VARIATION',
    );
    // Relative: the lift's variance is 0 over a zero baseline, which current gbstats checks first.
    expect(welchTTest(mean(100, 0, 1), mean(100, 1, 1)).errorMessage).toBe('ZERO_NEGATIVE_VARIANCE');
    const flat = welchTTest(mean(100, 3, 0), mean(100, 4, 1));
    expect(flat.errorMessage).toBe('ZERO_NEGATIVE_VARIANCE');
    expect(flat.pValue).toBe(1);
    expect(flat.ci).toEqual([0, 0]);
  });

  it('validates inputs at the boundary', () => {
    expect(() => welchTTest({ type: 'mean', n: -1, sum: 0, sumSquares: 0 }, mean(10, 1, 1))).toThrow();
    expect(() => welchTTest({ type: 'proportion', n: 10, sum: 3 }, mean(10, 1, 1))).toThrow(/same shape/);
    expect(() => welchTTest(mean(10, 1, 1), mean(10, 1, 1), { alpha: 2 })).toThrow();
    expect(() =>
      welchTTest({ type: 'mean', n: 10, sum: Number.NaN, sumSquares: 1 }, mean(10, 1, 1)),
    ).toThrow();
  });
});
