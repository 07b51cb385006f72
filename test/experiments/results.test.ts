/**
 * The results mart's rows (results.ts) carry what analyzeExperiment computes from the same statistics rows, for
 * both engines, with the correction from the declaration; experiments without exposures give no rows.
 */
import { describe, expect, it } from 'vitest';
import {
  adjustPValues,
  analyzeExperiment,
  defineExperiment,
  defineMetric,
  EXPERIMENT_RESULT_COLUMNS,
  experimentResults,
  sufficientStatsFromSqlRow,
  statisticFromRow,
  welchTTest,
  type ExperimentDefinitionInput,
} from '../../src/experiments/index.js';
import { reportLines } from '../../src/cli/commands/experiments.js';
import type { Row } from '../../src/engines/index.js';
import { rng, uniform } from './generators.js';

const conversion = defineMetric({
  id: 'conversion',
  name: 'Conversion',
  type: 'binomial',
  source: { table: 'a.b' },
});
const revenue = defineMetric({
  id: 'revenue',
  name: 'Revenue',
  type: 'mean',
  source: { table: 'a.b', valueColumn: 'v' },
});
const base = (analysis: ExperimentDefinitionInput['analysis']): ExperimentDefinitionInput => ({
  key: 'exp',
  name: 'Exp',
  exposures: { table: 'raw.e' },
  variations: [
    { id: 'a', weight: 1 },
    { id: 'b', weight: 1 },
    { id: 'c', weight: 1 },
  ],
  metrics: [
    { metric: conversion, role: 'goal' },
    { metric: revenue, role: 'goal' },
  ],
  analysis,
});

function statsRows(seed: number): Record<string, unknown>[] {
  const r = rng(seed);
  return ['a', 'b', 'c'].flatMap((variation) => {
    const users = Math.round(uniform(r, 400, 600));
    const mean = uniform(r, 5, 7);
    return [
      {
        experiment_key: 'exp',
        metric_id: 'conversion',
        variation,
        users,
        main_sum: Math.round(users * uniform(r, 0.4, 0.5)),
        main_sum_squares: 0,
        multiple_variation_users: 3,
      },
      {
        experiment_key: 'exp',
        metric_id: 'revenue',
        variation,
        users,
        main_sum: users * mean,
        main_sum_squares: users * (mean * mean + 4),
        multiple_variation_users: 3,
      },
      {
        experiment_key: 'other',
        metric_id: 'revenue',
        variation,
        users: 1,
        main_sum: 1,
        main_sum_squares: 1,
        multiple_variation_users: 0,
      },
    ].map((x) => (x.metric_id === 'conversion' ? { ...x, main_sum_squares: x.main_sum } : x));
  });
}

describe('experiment results rows', () => {
  it('frequentist with Benjamini-Hochberg: lifts, CIs and adjusted p-values as analyzeExperiment gives them', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const e = defineExperiment(base({ correction: 'benjamini-hochberg', alpha: 0.1 }));
      const stats = statsRows(seed);
      const { columns, rows } = experimentResults([e], stats);
      expect(columns).toBe(EXPERIMENT_RESULT_COLUMNS);
      expect(rows).toHaveLength(6);
      const mine = stats.filter((s) => s.experiment_key === 'exp');
      const analysis = analyzeExperiment({
        settings: { variations: e.variations, correction: 'benjamini-hochberg', alpha: 0.1 },
        units: Object.fromEntries(
          mine.filter((s) => s.metric_id === 'conversion').map((s) => [s.variation, s.users as number]),
        ),
        metrics: e.metrics.map(({ metric, role }) => ({
          metric,
          role,
          rows: mine.filter((s) => s.metric_id === metric.id).map(sufficientStatsFromSqlRow),
        })),
      });
      const raw: number[] = [];
      for (const m of analysis.metrics)
        for (const v of m.variations) {
          const row = rows.find((x) => x.metric_id === m.metricId && x.variation === v.id);
          expect(row?.users).toBe(v.users);
          expect(row?.is_baseline).toBe(v.id === 'a');
          expect(row?.multiple_variation_users).toBe(3);
          expect(row?.srm_p_value).toBe(analysis.srm.pValue);
          if (!v.result || !('pValue' in v.result)) continue;
          raw.push(v.result.pValue);
          expect(row?.lift).toBe(v.result.expected);
          expect(row?.ci_low).toBe(v.result.ci[0]);
          expect(row?.p_value).toBe(v.result.pValue);
          expect(row?.p_value_adjusted).toBe(v.result.pValueAdjusted);
          expect(row?.significant).toBe((v.result.pValueAdjusted ?? 1) < 0.1);
          expect(row?.absolute_lift).toBeCloseTo(v.mean - (m.variations[0]?.mean ?? NaN), 12);
        }
      expect(rows.filter((x) => !x.is_baseline).map((x) => x.p_value_adjusted)).toEqual(
        adjustPValues(raw, 'benjamini-hochberg'),
      );
    }
  });

  it('bayesian: chance to win and no p-values; no exposures, no rows', () => {
    const e = defineExperiment(base({ engine: 'bayesian' }));
    const { rows } = experimentResults([e], statsRows(3));
    const b = rows.find((x) => x.metric_id === 'revenue' && x.variation === 'b');
    expect(b?.p_value).toBeNull();
    expect(b?.chance_to_win).toBeGreaterThan(0);
    expect(b?.significant).toBe((b?.chance_to_win as number) > 0.95 || (b?.chance_to_win as number) < 0.05);
    expect(rows.find((x) => x.is_baseline)?.chance_to_win).toBeNull();
    expect(experimentResults([e], []).rows).toEqual([]);
  });

  it('one-sided tests: the declared alternative reaches the test, the mart and the adjusted interval', () => {
    const stats = statsRows(5);
    const rowOf = (rows: readonly Readonly<Record<string, unknown>>[], variation: string) =>
      rows.find((x) => x.metric_id === 'revenue' && x.variation === variation);
    const two = experimentResults([defineExperiment(base({ correction: 'holm-bonferroni' }))], stats).rows;
    for (const alternative of ['greater', 'less'] as const) {
      const e = defineExperiment(base({ correction: 'holm-bonferroni', alternative }));
      const rows = experimentResults([e], stats).rows;
      const b = rowOf(rows, 'b');
      const stat = (v: string) =>
        statisticFromRow(
          revenue,
          sufficientStatsFromSqlRow(
            stats.find((x) => x.experiment_key === 'exp' && x.metric_id === 'revenue' && x.variation === v) ??
              {},
          ),
        );
      const direct = welchTTest(stat('a'), stat('b'), { alternative });
      expect(b?.alternative).toBe(alternative);
      expect(b?.p_value).toBe(direct.pValue);
      // The one-sided p-value is half the two-sided one on the side of the estimate, 1 − that on the other.
      const twoSided = rowOf(two, 'b')?.p_value as number;
      const towards = (alternative === 'greater') === direct.expected > 0;
      expect(direct.pValue).toBeCloseTo(towards ? twoSided / 2 : 1 - twoSided / 2, 12);
      // The open side is NULL in the mart, and stays open after the correction.
      expect(alternative === 'greater' ? b?.ci_high : b?.ci_low).toBeNull();
      expect(alternative === 'greater' ? b?.ci_low : b?.ci_high).toBe(
        alternative === 'greater' ? direct.ci[0] : direct.ci[1],
      );
      expect(alternative === 'greater' ? b?.ci_high_adjusted : b?.ci_low_adjusted).toBeNull();
      // The finite side is adjusted unless the adjusted p-value is ~1 (then the interval is all of ℝ).
      const finite = alternative === 'greater' ? b?.ci_low_adjusted : b?.ci_high_adjusted;
      if ((b?.p_value_adjusted as number) > 0.999999) expect(finite).toBeNull();
      else expect(finite).toEqual(expect.any(Number));
    }
    expect(rowOf(two, 'b')?.alternative).toBe('two-sided');
    // The report prints a one-sided interval open on its side.
    const greater = experimentResults([defineExperiment(base({ alternative: 'greater' }))], stats).rows;
    const less = experimentResults([defineExperiment(base({ alternative: 'less' }))], stats).rows;
    const printed = (rows: readonly Readonly<Record<string, unknown>>[]) =>
      // As read back from the mart: JSON values.
      reportLines(
        rows.filter((r) => r.variation === 'b').map((r) => JSON.parse(JSON.stringify(r)) as Row),
      )[0]?.['95% CI'];
    expect(printed(greater)).toMatch(/^\[[+-]\d+\.\d%, \+∞\)$/);
    expect(printed(less)).toMatch(/^\(−∞, [+-]\d+\.\d%\]$/);
    expect(printed(two)).toMatch(/^\[[+-]\d+\.\d%, [+-]\d+\.\d%\]$/);
    // Refused at declaration: one-sided Bayesian, one-sided sequential with alpha >= 0.5.
    expect(() => defineExperiment(base({ engine: 'bayesian', alternative: 'greater' }))).toThrow(
      /frequentist engine/,
    );
    expect(() =>
      defineExperiment(
        base({ alternative: 'less', alpha: 0.6, sequential: { enabled: true, tuningParameter: 5000 } }),
      ),
    ).toThrow(/alpha < 0.5/);
  });
});
