import { asset, allUpstream } from '../dsl/index.js';
import { byDay } from './partitions.js';

/**
 * ML features, point-in-time correct: the features of day D read only versions valid at the end of D (a version
 * is known at D when it starts before D's end; it still holds then when it ends at or after D's end), so
 * rebuilding D later, after the histories have grown, gives the same rows (test/assets/ml-features.test.ts).
 */
export const mlAssets = [
  asset({
    key: 'ml.ml_user_features',
    kind: 'custom',
    description:
      'Per active user and day: tenure, country, consent, bookings and spend so far, as known at the end of the day',
    partitions: byDay,
    deps: [
      'core.users_daily',
      { key: 'core.dim_users', mapping: allUpstream() },
      { key: 'core.dim_purchases', mapping: allUpstream() },
    ],
    primaryKey: ['user_id'],
    sql: `
      with signed_up as (
        -- A user's first version starts at the sign-up's commit.
        select user_id, min(valid_from) as signed_up_at from core.dim_users
        where valid_from < {{ partition_end }}
        group by user_id
      ), known as (
        select user_id, purchase_id, status, amount_cents from core.dim_purchases
        where valid_from < {{ partition_end }} and (valid_to is null or valid_to >= {{ partition_end }})
          and not is_deleted
      )
      select {{ partition_date }} as feature_date, u.user_id, u.country, u.marketing_consent,
             {{ date_diff_days(cast(s.signed_up_at as date), {{ partition_date }}) }} as tenure_days,
             count(k.purchase_id) as purchases_to_date,
             {{ count_if(k.status = 'confirmed') }} as confirmed_purchases_to_date,
             coalesce({{ sum_if(k.amount_cents, k.status = 'confirmed') }}, 0) as confirmed_cents_to_date
      from core.users_daily u
      join signed_up s on s.user_id = u.user_id
      left join known k on k.user_id = u.user_id
      where u._partition_key = {{ partition_key }} and u.status = 'active'
      group by u.user_id, u.country, u.marketing_consent, s.signed_up_at`,
    owners: ['ml-platform'],
    tags: ['ml', 'features'],
    group: 'ml',
  }),
];
