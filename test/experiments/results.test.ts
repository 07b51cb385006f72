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
  type ExperimentDefinitionInput,
} from '../../src/experiments/index.js';
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
});
