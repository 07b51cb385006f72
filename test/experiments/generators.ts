/**
 * Seeded random sufficient statistics for the oracle comparison. Each variant's sums are built from a
 * chosen mean, standard deviation and correlation, so they are internally consistent (Σx² ≥ (Σx)²/n);
 * a share of cases is degenerate on purpose (n ≤ 1, zero variance, zero baseline) to exercise the
 * default outputs.
 */
import type { StatisticComponent, TestStatistic } from '../../src/experiments/stats/index.js';

export type Rng = () => number;

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const uniform = (r: Rng, lo: number, hi: number): number => lo + (hi - lo) * r();
export const logUniform = (r: Rng, lo: number, hi: number): number =>
  Math.exp(uniform(r, Math.log(lo), Math.log(hi)));
export const int = (r: Rng, lo: number, hi: number): number => Math.floor(uniform(r, lo, hi + 1));
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
export function gauss(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export type StatKind = TestStatistic['type'];

interface Moments {
  mean: number;
  sd: number;
}

/** A component with given per-unit mean and sd (sd = 0 → exactly zero variance for integer means). */
function comp(type: 'mean' | 'proportion', n: number, m: Moments): StatisticComponent {
  if (n === 0) return type === 'mean' ? { type, sum: 0, sumSquares: 0 } : { type, sum: 0 };
  if (type === 'proportion') {
    const p = Math.min(1, Math.max(0, m.mean));
    return { type, sum: Math.round(n * p) };
  }
  const sum = n * m.mean;
  return { type, sum, sumSquares: (n - 1) * m.sd * m.sd + (sum * sum) / n };
}

/** Σxy for a pair of components with correlation rho. */
function cross(x: StatisticComponent, y: StatisticComponent, n: number, rho: number): number {
  const sd = (c: StatisticComponent): number => {
    if (c.type === 'proportion') {
      const p = n === 0 ? 0 : c.sum / n;
      return Math.sqrt(p * (1 - p));
    }
    return Math.sqrt(Math.max(0, (c.sumSquares - (c.sum * c.sum) / n) / Math.max(1, n - 1)));
  };
  return n === 0 ? 0 : (n - 1) * rho * sd(x) * sd(y) + (x.sum * y.sum) / n;
}

interface VariantPlan {
  n: number;
  main: Moments;
  other: Moments;
  rho: number;
  mainType: 'mean' | 'proportion';
  otherType: 'mean' | 'proportion';
}

function build(kind: StatKind, v: VariantPlan): TestStatistic {
  switch (kind) {
    case 'mean':
      return { type: 'mean', n: v.n, ...(comp('mean', v.n, v.main) as { sum: number; sumSquares: number }) };
    case 'proportion':
      return { type: 'proportion', n: v.n, sum: comp('proportion', v.n, v.main).sum };
    case 'ratio': {
      const m = comp(v.mainType, v.n, v.main);
      const d = comp(v.otherType, v.n, v.other);
      return { type: 'ratio', n: v.n, m, d, mdCrossProd: cross(m, d, v.n, v.rho) };
    }
    case 'cuped': {
      const post = comp(v.mainType, v.n, v.main);
      const pre = comp(v.otherType, v.n, v.other);
      return { type: 'cuped', n: v.n, post, pre, postPreCrossProd: cross(post, pre, v.n, v.rho) };
    }
  }
}

/** A random pair (control A, treatment B) of statistics of one kind. */
export function statisticPair(r: Rng, kind: StatKind): [TestStatistic, TestStatistic] {
  const degenerate = r() < 0.08 ? pick(r, ['tinyN', 'zeroVar', 'zeroBaseline'] as const) : null;
  const nA = degenerate === 'tinyN' ? int(r, 0, 2) : Math.round(logUniform(r, 20, 200_000));
  const nB = degenerate === 'tinyN' ? int(r, 0, 3) : Math.max(2, Math.round(nA * uniform(r, 0.7, 1.3)));
  const binary = kind === 'proportion' || r() < 0.3;
  const mainType = binary ? 'proportion' : 'mean';
  const otherType = kind === 'cuped' ? mainType : r() < 0.2 ? 'proportion' : 'mean';
  const scale = logUniform(r, 0.01, 1000);
  const baseMean = binary ? uniform(r, 0.01, 0.9) : scale * uniform(r, 0.2, 5) * (r() < 0.1 ? -1 : 1);
  const lift = gauss(r) * pick(r, [0.001, 0.01, 0.05, 0.2]);
  const sdMain = degenerate === 'zeroVar' ? 0 : scale * uniform(r, 0.1, 10);
  const otherMean = otherType === 'proportion' ? uniform(r, 0.05, 0.95) : uniform(r, 0.5, 20) * scale;
  const plan = (n: number, mean: number): VariantPlan => ({
    n,
    main: { mean: degenerate === 'zeroVar' ? Math.round(mean) : mean, sd: sdMain },
    other: { mean: otherMean * uniform(r, 0.95, 1.05), sd: otherMean * uniform(r, 0.1, 2) },
    rho: uniform(r, -0.95, 0.95),
    mainType,
    otherType,
  });
  const meanA = degenerate === 'zeroBaseline' ? 0 : baseMean;
  const a = build(kind, plan(nA, meanA));
  const b = build(kind, plan(nB, baseMean * (1 + lift)));
  return [a, b];
}
