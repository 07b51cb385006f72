import { allUpstream, asset, rowCount } from '../dsl/index.js';
import { byDay } from './partitions.js';

/** Finance reporting marts: revenue is recognized on confirmation and reversed on refund, in USD cents. */
export const reportingAssets = [
  asset({
    key: 'reporting.mart_daily_revenue',
    kind: 'mart',
    description: 'Bookings confirmed, refunded and net revenue per day (from the purchase status history)',
    partitions: byDay,
    deps: ['core.dim_purchases'],
    primaryKey: ['day'],
    sql: `
      with moves as (
        select purchase_id, status, amount_cents, valid_from from core.dim_purchases
        where valid_from >= {{ partition_start }} and valid_from < {{ partition_end }}
          and status in ('confirmed', 'refunded') and not is_deleted
      )
      select cast({{ partition_start }} as date) as day,
             count(*) filter (where status = 'confirmed') as bookings_confirmed,
             count(*) filter (where status = 'refunded') as bookings_refunded,
             coalesce(sum(amount_cents) filter (where status = 'confirmed'), 0) as gross_revenue_cents,
             coalesce(sum(amount_cents) filter (where status = 'refunded'), 0) as refunded_cents,
             coalesce(sum(case when status = 'confirmed' then amount_cents else -amount_cents end), 0) as net_revenue_cents
      from moves`,
    checks: [rowCount({ min: 1, max: 1 })],
    owners: ['finance-analytics'],
    tags: ['finance', 'mart'],
    group: 'reporting',
    publishGroup: 'finance',
  }),
  asset({
    key: 'reporting.mart_vendor_performance',
    kind: 'mart',
    description: 'Per vendor and day: bookings created, confirmed revenue, and the share cancelled',
    partitions: byDay,
    deps: ['core.fct_purchases', 'core.dim_vendors'],
    primaryKey: ['vendor_id'],
    sql: `
      select cast({{ partition_start }} as date) as day, p.vendor_id, v.name as vendor_name,
             count(*) as bookings, count(*) filter (where p.status in ('cancelled', 'refunded')) as lost_bookings,
             coalesce(sum(p.amount_cents) filter (where p.status = 'confirmed'), 0) as confirmed_cents
      from core.fct_purchases p
      left join core.dim_vendors v on v.vendor_id = p.vendor_id and v.is_current
      where p.created_at >= {{ partition_start }} and p.created_at < {{ partition_end }}
      group by all`,
    owners: ['finance-analytics'],
    tags: ['finance', 'mart'],
    group: 'reporting',
    publishGroup: 'finance',
  }),
  asset({
    key: 'reporting.mart_customer_ltv',
    kind: 'mart',
    description: 'Lifetime value per customer up to each day: confirmed minus refunded revenue since sign-up',
    partitions: byDay,
    deps: [{ key: 'core.dim_purchases', mapping: allUpstream() }, 'core.users_daily'],
    primaryKey: ['user_id'],
    sql: `
      with moves as (
        select p.user_id, case when status = 'confirmed' then amount_cents else -amount_cents end as cents
        from core.dim_purchases p
        where p.valid_from < {{ partition_end }} and p.status in ('confirmed', 'refunded')
      )
      select cast({{ partition_start }} as date) as day, u.user_id, u.country,
             coalesce(sum(m.cents), 0) as ltv_cents, count(m.cents) as revenue_events
      from core.users_daily u left join moves m using (user_id)
      where u._partition = {{ partition_key }}
      group by all`,
    owners: ['finance-analytics'],
    tags: ['finance', 'mart'],
    group: 'reporting',
    publishGroup: 'finance',
  }),
];
