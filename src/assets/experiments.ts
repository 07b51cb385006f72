import { asset, rollup } from '../dsl/index.js';
import { byDay } from './partitions.js';

/**
 * Experiments: first exposure per user and experiment (users seen in two variants are excluded), and per-user
 * metric values from which the experiment engine computes its sufficient statistics.
 */
export const experimentAssets = [
  asset({
    key: 'experiments.assignments',
    kind: 'metric',
    description: 'First exposure per user and experiment from the exposure context on page views',
    partitions: byDay,
    deps: [{ key: 'raw.snowplow_events', mapping: rollup() }],
    primaryKey: ['experiment_key', 'domain_userid'],
    sql: `
      select experiment_key, domain_userid, max(user_id) as user_id, min(derived_tstamp) as first_exposed_at,
             min(experiment_variant) as variant, count(distinct experiment_variant) > 1 as multiple_variants
      from raw.snowplow_events
      where experiment_key is not null
        and derived_tstamp >= {{ partition_start }} and derived_tstamp < {{ partition_end }}
      group by experiment_key, domain_userid`,
    owners: ['experimentation'],
    tags: ['experiments'],
    group: 'experiments',
  }),
  asset({
    key: 'experiments.mart_experiment_results',
    kind: 'mart',
    description: 'Per experiment, variant and metric: users and the sums the statistics are computed from',
    partitions: byDay,
    deps: ['experiments.assignments', 'core.fct_purchases'],
    primaryKey: ['experiment_key', 'variant', 'metric'],
    sql: `
      with users as (
        select experiment_key, variant, user_id from experiments.assignments where not multiple_variants
      ), per_user as (
        select u.experiment_key, u.variant, u.user_id,
               count(p.purchase_id) > 0 as converted, coalesce(sum(p.amount_cents), 0) / 100.0 as revenue
        from users u left join core.fct_purchases p on p.user_id = u.user_id and p.status = 'confirmed'
        group by all
      )
      select experiment_key, variant, 'conversion' as metric, count(*) as n,
             sum(converted::int) as sum_value, sum(converted::int) as sum_squares from per_user group by all
      union all
      select experiment_key, variant, 'revenue_per_user', count(*), sum(revenue), sum(revenue * revenue)
      from per_user group by all`,
    owners: ['experimentation'],
    tags: ['experiments', 'mart'],
    group: 'experiments',
    publishGroup: 'experiments',
  }),
];
