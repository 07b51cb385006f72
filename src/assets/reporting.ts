import { allUpstream, asset, relationship, rowCount, sqlCheck } from '../dsl/index.js';
import { byDay } from './partitions.js';

/**
 * Finance reporting marts: revenue is recognized on confirmation and reversed on refund, in USD cents.
 * Reversals are written `0 - amount_cents`: the BigQuery emulator the tests run has no unary minus.
 */
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
      select {{ partition_date }} as day,
             {{ count_if(status = 'confirmed') }} as bookings_confirmed,
             {{ count_if(status = 'refunded') }} as bookings_refunded,
             coalesce({{ sum_if(amount_cents, status = 'confirmed') }}, 0) as gross_revenue_cents,
             coalesce({{ sum_if(amount_cents, status = 'refunded') }}, 0) as refunded_cents,
             coalesce(sum(case when status = 'confirmed' then amount_cents else 0 - amount_cents end), 0) as net_revenue_cents
      from moves`,
    checks: [
      rowCount({ min: 1, max: 1 }),
      // The source of truth's own totals at the cut-off: each purchase's last image committed before the day's
      // end in the Inventory DB's change log, summed by its confirmed_at / refunded_at. A mismatch blocks the
      // finance group, which keeps serving the previous version.
      sqlCheck(
        'revenue_reconciles_with_inventory_db',
        `with latest as (
           select *, row_number() over (partition by purchase_id order by _lsn desc, _seq desc) as rn
           from raw.inventory_db_purchases_changes where _commit_time < {{ partition_end }}
         ), oltp as (
           select coalesce({{ sum_if(amount_cents, confirmed_at >= {{ partition_start }}
                                                   and confirmed_at < {{ partition_end }}) }}, 0) as gross,
                  coalesce({{ sum_if(amount_cents, refunded_at >= {{ partition_start }}
                                                   and refunded_at < {{ partition_end }}) }}, 0) as refunded
           from latest where rn = 1 and _op <> 'd'
         )
         select m.gross_revenue_cents, o.gross, m.refunded_cents, o.refunded
         from {{ this }} m cross join oltp o
         where m._partition_key = {{ partition_key }}
           and (m.gross_revenue_cents <> o.gross or m.refunded_cents <> o.refunded)`,
      ),
    ],
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
      select {{ partition_date }} as day, p.vendor_id, v.name as vendor_name,
             count(*) as bookings, {{ count_if(p.status in ('cancelled', 'refunded')) }} as lost_bookings,
             coalesce({{ sum_if(p.amount_cents, p.status = 'confirmed') }}, 0) as confirmed_cents
      from core.fct_purchases p
      left join core.dim_vendors v on v.vendor_id = p.vendor_id and v.is_current
      where p.created_at >= {{ partition_start }} and p.created_at < {{ partition_end }}
      group by p.vendor_id, v.name`,
    checks: [relationship('vendor_id', 'core.dim_vendors', 'vendor_id')],
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
        select p.user_id, case when status = 'confirmed' then amount_cents else 0 - amount_cents end as cents
        from core.dim_purchases p
        where p.valid_from < {{ partition_end }} and p.status in ('confirmed', 'refunded')
      )
      select {{ partition_date }} as day, u.user_id, u.country,
             coalesce(sum(m.cents), 0) as ltv_cents, count(m.cents) as revenue_events
      from core.users_daily u left join moves m on m.user_id = u.user_id
      where u._partition_key = {{ partition_key }}
      group by u.user_id, u.country`,
    owners: ['finance-analytics'],
    tags: ['finance', 'mart'],
    group: 'reporting',
    publishGroup: 'finance',
  }),
];
