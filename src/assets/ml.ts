import { asset, allUpstream } from '../dsl/index.js';
import { byDay } from './partitions.js';

/** ML features, point-in-time correct: features of day D read only versions valid at the end of D. */
export const mlAssets = [
  asset({
    key: 'ml.ml_user_features',
    kind: 'custom',
    description:
      'Per user and day: tenure, country, bookings and spend so far, as known at the end of the day',
    partitions: byDay,
    deps: ['core.users_daily', { key: 'core.dim_purchases', mapping: allUpstream() }],
    primaryKey: ['user_id'],
    sql: `
      with known as (
        select user_id, purchase_id, status, amount_cents from core.dim_purchases
        where valid_from < {{ partition_end }} and (valid_to is null or valid_to >= {{ partition_end }})
      )
      select cast({{ partition_start }} as date) as feature_date, u.user_id, u.country, u.marketing_consent,
             count(k.purchase_id) as purchases_to_date,
             coalesce(sum(k.amount_cents) filter (where k.status = 'confirmed'), 0) as confirmed_cents_to_date
      from core.users_daily u left join known k using (user_id)
      where u._partition = {{ partition_key }} and u.status = 'active'
      group by all`,
    owners: ['ml-platform'],
    tags: ['ml', 'features'],
    group: 'ml',
  }),
];
