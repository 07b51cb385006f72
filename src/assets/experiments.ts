import { allUpstream, asset, rollup } from '../dsl/index.js';
import {
  defineExperiment,
  defineMetric,
  experimentResults,
  experimentsFingerprint,
  experimentsStatsSql,
} from '../experiments/index.js';
import { byDay } from './partitions.js';

/**
 * Experiments: declared in code (src/experiments), analysed the GrowthBook way. One SQL asset reduces every
 * experiment to per-variation sufficient statistics cumulative to the end of day D (first exposure per user,
 * users seen in two variations excluded); a mart computed in TypeScript runs the statistics on them and is
 * published in the `experiments` group. See docs/experiments.md.
 */

const purchases = { table: 'core.fct_purchases', unitColumn: 'user_id', timestampColumn: 'created_at' };
const confirmedRevenue = { ...purchases, valueColumn: 'amount_cents', filter: "status = 'confirmed'" };

export const conversion = defineMetric({
  id: 'conversion',
  name: 'Booked within 3 days of first checkout',
  type: 'binomial',
  source: purchases,
  conversionWindowDays: 3,
});
export const revenuePerUser = defineMetric({
  id: 'revenue_per_user',
  name: 'Confirmed revenue per user (cents, capped at p99)',
  type: 'mean',
  source: confirmedRevenue,
  capping: { type: 'percentile', percentile: 0.99 },
  // Pre-exposure purchases of the same user reduce the variance (CUPED).
  cuped: { lookbackDays: 14 },
});
export const revenuePerSession = defineMetric({
  id: 'revenue_per_session',
  name: 'Confirmed revenue per session (cents)',
  type: 'ratio',
  numerator: confirmedRevenue,
  denominator: { table: 'clickstream.fct_sessions', unitColumn: 'user_id', timestampColumn: 'started_at' },
});

export const checkoutV2 = defineExperiment({
  key: 'checkout_v2',
  name: 'Checkout v2',
  hypothesis: 'The new checkout page makes more visitors book',
  exposures: {
    table: 'experiments.exposures',
    unitColumn: 'user_id',
    experimentColumn: 'experiment_key',
    variationColumn: 'experiment_variant',
    timestampColumn: 'derived_tstamp',
  },
  variations: [
    { id: 'control', weight: 0.5 },
    { id: 'treatment', weight: 0.5 },
  ],
  metrics: [
    { metric: conversion, role: 'goal' },
    { metric: revenuePerUser, role: 'goal' },
    { metric: revenuePerSession, role: 'secondary' },
  ],
  analysis: { correction: 'holm-bonferroni', alpha: 0.05, differenceType: 'relative' },
});

export const EXPERIMENTS = [checkoutV2];

export const experimentAssets = [
  asset({
    key: 'experiments.exposures',
    kind: 'fact',
    description: "The day's experiment exposures: page views carrying the experiment_exposure context",
    partitions: byDay,
    deps: [{ key: 'raw.snowplow_events', mapping: rollup() }],
    sql: `
      select event_id, experiment_key, experiment_variant, user_id, domain_userid, derived_tstamp
      from raw.snowplow_events
      where experiment_key is not null
        and derived_tstamp >= {{ partition_start }} and derived_tstamp < {{ partition_end }}`,
    primaryKey: ['event_id'],
    owners: ['experimentation'],
    tags: ['experiments'],
    group: 'experiments',
  }),
  asset({
    key: 'experiments.experiment_sufficient_stats',
    kind: 'metric',
    description:
      'Per experiment, metric and variation: users and the sums the statistics need, cumulative to the end of the day',
    partitions: byDay,
    // Results are cumulative: day D reads every day up to D, and says so, so a backfill builds D after the
    // earlier days it plans and a rebuilt earlier day makes D stale. (Days before the data begins were never
    // materialized: the planner does not wait for inputs it is not asked to build.)
    deps: [
      { key: 'experiments.exposures', mapping: allUpstream() },
      { key: 'core.fct_purchases', mapping: allUpstream() },
      { key: 'clickstream.fct_sessions', mapping: allUpstream() },
    ],
    primaryKey: ['experiment_key', 'metric_id', 'variation'],
    // A portable template (src/experiments/sql.ts): the engine that runs the step renders it in its own
    // spelling; the sums are exact decimals, so a rerun writes the same data version.
    sql: experimentsStatsSql(EXPERIMENTS, '{{ partition_end }}'),
    owners: ['experimentation'],
    tags: ['experiments'],
    group: 'experiments',
  }),
  asset({
    key: 'experiments.mart_experiment_results',
    kind: 'mart',
    description:
      'Per experiment, metric and variation: lift with CI and p-value (Holm across goal metrics), SRM check, excluded users',
    partitions: byDay,
    deps: ['experiments.experiment_sufficient_stats'],
    primaryKey: ['experiment_key', 'metric_id', 'variation'],
    compute: async (ctx) =>
      experimentResults(
        EXPERIMENTS,
        await ctx.query(
          `select * from experiments.experiment_sufficient_stats where _partition_key = '${ctx.partitionKey}'`,
        ),
      ),
    // The function closes over the declarations: their hash is part of the code version.
    version: experimentsFingerprint(EXPERIMENTS),
    owners: ['experimentation'],
    tags: ['experiments', 'mart'],
    group: 'experiments',
    publishGroup: 'experiments',
  }),
];
