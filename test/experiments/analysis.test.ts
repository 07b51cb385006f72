/**
 * End to end on simulated unit-level data: sufficient statistics summed as the engine's SQL will
 * (capping included), then our `analyzeExperiment` against gbstats' own whole-metric runner
 * (`process_single_metric`) on the same rows, for binomial, mean, ratio and CUPED metrics under the
 * frequentist, sequential and Bayesian engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  analyzeExperiment,
  defineMetric,
  statisticFromRow,
  type MetricDefinition,
  type VariantSufficientStats,
} from '../../src/experiments/index.js';
import { Agreement } from './compare.js';
import { gauss, int, logUniform, pick, rng, uniform, type Rng } from './generators.js';
import { ensureVenv, runOracle, type OracleValue } from './oracle.js';

let python = '';
beforeAll(() => {
  python = ensureVenv();
}, 15 * 60_000);

type Flavour = 'binomial' | 'mean' | 'ratio' | 'binomial_cuped' | 'mean_cuped';

function metricFor(flavour: Flavour, r: Rng): MetricDefinition {
  const source = { table: 'core.fact_orders', valueColumn: 'revenue' };
  const prior = { proper: r() < 0.5, mean: gauss(r) * 0.05, stddev: uniform(r, 0.05, 0.5) };
  const common = { id: `m_${flavour}`, name: flavour, inverse: r() < 0.3, prior, conversionWindowDays: 7 };
  if (flavour === 'ratio') {
    return defineMetric({
      ...common,
      type: 'ratio',
      numerator: source,
      denominator: { table: 'core.fact_sessions' },
      capping: { type: 'absolute', value: 400 },
    });
  }
  const cuped = flavour.endsWith('_cuped') ? { lookbackDays: 14 } : undefined;
  return flavour.startsWith('binomial')
    ? defineMetric({ ...common, type: 'binomial', source, cuped })
    : defineMetric({ ...common, type: 'mean', source, capping: { type: 'absolute', value: 300 }, cuped });
}

/** Sums over simulated units, as the SQL will compute them. */
function simulate(r: Rng, variation: string, n: number, lift: number, cap: number): VariantSufficientStats {
  const s = {
    variation,
    users: n,
    mainSum: 0,
    mainSumSquares: 0,
    denominatorSum: 0,
    denominatorSumSquares: 0,
  };
  const t = {
    mainDenominatorSumProduct: 0,
    covariateSum: 0,
    covariateSumSquares: 0,
    mainCovariateSumProduct: 0,
  };
  for (let i = 0; i < n; i++) {
    const propensity = gauss(r);
    const pre = Math.max(0, 50 + 40 * propensity + 20 * gauss(r));
    const converted = r() < 0.2 * (1 + lift) * (propensity > 0 ? 1.5 : 0.5);
    const value = converted
      ? Math.min(cap, Math.max(0, 60 + 40 * propensity + 30 * gauss(r)) * (1 + lift))
      : 0;
    const sessions = 1 + int(r, 0, 4);
    s.mainSum += value;
    s.mainSumSquares += value * value;
    s.denominatorSum += sessions;
    s.denominatorSumSquares += sessions * sessions;
    t.mainDenominatorSumProduct += value * sessions;
    t.covariateSum += pre;
    t.covariateSumSquares += pre * pre;
    t.mainCovariateSumProduct += value * pre;
  }
  return { ...s, ...t };
}

/** Binomial metrics: the per-unit value is the 0/1 conversion. */
function binarize(row: VariantSufficientStats, r: Rng): VariantSufficientStats {
  const conversions = Math.round(row.users * uniform(r, 0.05, 0.4));
  const preConversions = Math.round(row.users * uniform(r, 0.05, 0.4));
  const both = Math.min(conversions, preConversions, Math.round(conversions * uniform(r, 0.3, 0.9)));
  return {
    ...row,
    mainSum: conversions,
    mainSumSquares: conversions,
    covariateSum: preConversions,
    covariateSumSquares: preConversions,
    mainCovariateSumProduct: both,
  };
}

const gbRow = (row: VariantSufficientStats): Record<string, number | string> => ({
  dimension: 'All',
  variation: row.variation,
  users: row.users,
  count: row.users,
  main_sum: row.mainSum,
  main_sum_squares: row.mainSumSquares,
  denominator_sum: row.denominatorSum ?? 0,
  denominator_sum_squares: row.denominatorSumSquares ?? 0,
  main_denominator_sum_product: row.mainDenominatorSumProduct ?? 0,
  covariate_sum: row.covariateSum ?? 0,
  covariate_sum_squares: row.covariateSumSquares ?? 0,
  main_covariate_sum_product: row.mainCovariateSumProduct ?? 0,
});

describe('whole-experiment analysis against gbstats process_single_metric', () => {
  it('agrees on SRM, means and every variation result', () => {
    const r = rng(11);
    const flavours: Flavour[] = ['binomial', 'mean', 'ratio', 'binomial_cuped', 'mean_cuped'];
    const cases = Array.from({ length: 60 }, (_, i) => {
      const flavour = flavours[i % flavours.length] as Flavour;
      const metric = metricFor(flavour, r);
      const k = int(r, 2, 4);
      const ids = Array.from({ length: k }, (_, j) => `v${j}`);
      const weights = ids.map(() => 1 / k);
      const rows = ids.map((id, j) => {
        const row = simulate(r, id, Math.round(logUniform(r, 150, 2500)), j === 0 ? 0 : gauss(r) * 0.1, 300);
        return flavour.startsWith('binomial') ? binarize(row, r) : row;
      });
      const engine = pick(r, ['frequentist', 'sequential', 'bayesian'] as const);
      const settings = {
        variations: ids.map((id, j) => ({ id, weight: weights[j] as number })),
        engine: engine === 'bayesian' ? ('bayesian' as const) : ('frequentist' as const),
        sequential: { enabled: engine === 'sequential', tuningParameter: logUniform(r, 500, 50_000) },
        differenceType: pick(r, ['relative', 'absolute', 'scaled'] as const),
        alpha: pick(r, [0.05, 0.1]),
        phaseLengthDays: uniform(r, 1, 30),
      };
      const cuped = flavour.endsWith('_cuped');
      const mainType = flavour.startsWith('binomial') ? 'binomial' : 'count';
      const oracle = {
        rows: rows.map(gbRow),
        metric: {
          id: metric.id,
          name: metric.name,
          statistic_type: flavour === 'ratio' ? 'ratio' : cuped ? 'mean_ra' : 'mean',
          main_metric_type: mainType,
          denominator_metric_type: flavour === 'ratio' ? 'count' : null,
          covariate_metric_type: cuped ? mainType : null,
          inverse: metric.inverse,
          prior_proper: metric.prior?.proper ?? false,
          prior_mean: metric.prior?.mean ?? 0,
          prior_stddev: metric.prior?.stddev ?? 0.1,
        },
        analysis: {
          var_names: ids,
          var_ids: ids,
          weights,
          stats_engine: settings.engine,
          sequential_testing_enabled: settings.sequential.enabled,
          sequential_tuning_parameter: settings.sequential.tuningParameter,
          difference_type: settings.differenceType,
          alpha: settings.alpha,
          phase_length_days: settings.phaseLengthDays,
        },
      };
      const units = Object.fromEntries(rows.map((row) => [row.variation, row.users]));
      // Current gbstats supersedes 0.8.0 here (binary covariance by n; relative CUPED variance): these
      // results are compared with its numbers in gbstats-reference.test.ts, only counts and means here.
      const superseded = flavour === 'binomial_cuped' || (cuped && settings.differenceType === 'relative');
      return {
        ours: { settings, units, metrics: [{ metric, role: 'goal' as const, rows }] },
        oracle,
        cuped,
        superseded,
      };
    });

    const refs = runOracle(
      python,
      'experiment',
      cases.map((c) => c.oracle),
    );
    const ag = new Agreement();
    cases.forEach((c, i) => {
      const ours = analyzeExperiment(c.ours);
      const ref = refs[i] as { srm: number; variations: Record<string, OracleValue>[] };
      ag.check('srm', ours.srm.pValue, ref.srm, 1e-294, i);
      const variations = ours.metrics[0]?.variations ?? [];
      expect(variations).toHaveLength(ref.variations.length);
      variations.forEach((v, j) => {
        const rv = ref.variations[j] as Record<string, OracleValue>;
        ag.check('users', v.users, rv.users, 0, i);
        ag.check('mean', v.mean, rv.mean, 0, i);
        // gbstats reports the CUPED-adjusted stddev of the last comparison; we report the unadjusted one.
        if (!c.cuped) ag.check('stddev', v.stddev, rv.stddev, 0, i);
        const res = v.result;
        if (res === undefined || c.superseded) return;
        const se = typeof rv.upliftStddev === 'number' ? rv.upliftStddev : 0;
        const ci = rv.ci as number[];
        ag.check('ci.lower', res.ci[0], ci[0], se, i);
        ag.check('ci.upper', res.ci[1], ci[1], se, i);
        // gbstats' runner rewrites `expected` to 0 when the baseline mean is ≤ 0 (display quirk).
        if ((variations[0]?.mean ?? 0) > 0) ag.check('expected', res.expected, rv.expected, se, i);
        if ('pValue' in res) ag.check('pValue', res.pValue, rv.pValue, 1e-6, i);
        if ('chanceToWin' in res) {
          ag.check('chanceToWin', res.chanceToWin, rv.chanceToWin, 1e-6, i);
          const risk = rv.risk as number[];
          ag.check('risk[0]', res.risk[0], risk[0], se, i);
          ag.check('risk[1]', res.risk[1], risk[1], se, i);
        }
        expect(res.errorMessage).toBe(rv.errorMessage ?? null);
      });
    });
    console.info(ag.summary('experiment'), `(${cases.filter((c) => c.superseded).length} superseded)`);
    expect(cases.filter((c) => !c.superseded).length).toBeGreaterThan(40);
    for (const m of ag.mismatches.slice(0, 3))
      console.info(JSON.stringify(cases[m.caseIndex]?.oracle.analysis));
    expect(ag.mismatches.slice(0, 5)).toEqual([]);
  });

  it('applies the correction across goal metrics only, and flags SRM', () => {
    const r = rng(12);
    const ids = ['control', 'treatment'];
    const rows = (lift: number) => ids.map((id, j) => simulate(r, id, 4000, j === 0 ? 0 : lift, 300));
    const mean = (id: string) =>
      defineMetric({ id, name: id, type: 'mean', source: { table: 'core.fact_orders' } });
    const result = analyzeExperiment({
      settings: { variations: ids.map((id) => ({ id, weight: 0.5 })), correction: 'holm-bonferroni' },
      units: { control: 100_000, treatment: 96_000 },
      metrics: [
        { metric: mean('goal_a'), role: 'goal', rows: rows(0.05) },
        { metric: mean('goal_b'), role: 'goal', rows: rows(0) },
        { metric: mean('guard'), role: 'guardrail', rows: rows(0) },
      ],
    });
    expect(result.srm.mismatch).toBe(true);
    expect(result.srm.pValue).toBeGreaterThan(0);
    const [a, b, g] = result.metrics.map((m) => m.variations[1]?.result);
    const pa = a && 'pValue' in a ? a.pValue : NaN;
    const pb = b && 'pValue' in b ? b.pValue : NaN;
    // Holm over the two goal p-values: the smaller is doubled, the larger is max(larger, doubled smaller).
    const lo = Math.min(pa, pb);
    const holm = (p: number) => Math.min(1, p === lo ? 2 * lo : Math.max(p, 2 * lo));
    expect(a?.pValueAdjusted).toBeCloseTo(holm(pa), 12);
    expect(b?.pValueAdjusted).toBeCloseTo(holm(pb), 12);
    expect(g?.pValueAdjusted).toBeUndefined();
    expect(a?.ciAdjusted?.[0]).toBeLessThanOrEqual(a?.ci[0] ?? NaN);
  });
});

describe('metric declarations and the SQL contract', () => {
  it('validates metric declarations', () => {
    expect(() => defineMetric({ id: 'Bad Id', name: 'x', type: 'mean', source: { table: 't' } })).toThrow();
    const m = defineMetric({
      id: 'purchase',
      name: 'Purchased within 3 days',
      type: 'binomial',
      source: { table: 'core.fact_orders' },
      conversionWindowDays: 3,
      cuped: {},
    });
    expect(m.type === 'binomial' && m.cuped).toEqual({ enabled: true, lookbackDays: 14 });
  });

  it('maps rows to statistics and names the missing column', () => {
    const ratio = defineMetric({
      id: 'revenue_per_session',
      name: 'Revenue per session',
      type: 'ratio',
      numerator: { table: 'core.fact_orders', valueColumn: 'revenue' },
      denominator: { table: 'core.fact_sessions' },
    });
    const row = { variation: 'a', users: 10, mainSum: 5, mainSumSquares: 9 };
    expect(() => statisticFromRow(ratio, row)).toThrow(/denominator_sum/);
    expect(
      statisticFromRow(ratio, {
        ...row,
        denominatorSum: 20,
        denominatorSumSquares: 50,
        mainDenominatorSumProduct: 12,
      }),
    ).toEqual({
      type: 'ratio',
      n: 10,
      m: { type: 'mean', sum: 5, sumSquares: 9 },
      d: { type: 'mean', sum: 20, sumSquares: 50 },
      mdCrossProd: 12,
    });
  });
});
