import { asset, relationship } from '../dsl/index.js';
import { byDay } from './partitions.js';

/** Conformed entities: SCD2 history of every mutable OLTP row, daily snapshots cut from it, and facts. */
const dimension = (
  key: string,
  source: string,
  businessKey: string,
  tracked: string[],
  description: string,
) =>
  asset({
    key,
    kind: 'scd2',
    description,
    scd2: { source, businessKey: [businessKey], tracked },
    owners: ['data-platform'],
    tags: ['core', 'history'],
    group: 'core',
  });

/** The state of an SCD2 entity at the end of each day, cut from its history. */
const dailySnapshot = (key: string, from: string, description: string) =>
  asset({
    key,
    kind: 'snapshot',
    description,
    partitions: byDay,
    snapshot: { from },
    tags: ['core', 'snapshot'],
    group: 'core',
  });

export const coreAssets = [
  dimension(
    'core.dim_users',
    'raw.user_db_users_changes',
    'user_id',
    ['email_hash', 'country', 'marketing_consent', 'status'],
    'Users with the history of their profile (SCD2); PII arrives hashed',
  ),
  dimension(
    'core.dim_vendors',
    'raw.inventory_db_vendors_changes',
    'vendor_id',
    ['name', 'category', 'city', 'status'],
    'Vendors with history (SCD2)',
  ),
  dimension(
    'core.dim_listings',
    'raw.inventory_db_listings_changes',
    'listing_id',
    ['vendor_id', 'listing_type', 'title', 'city', 'price_cents', 'currency', 'capacity', 'status'],
    'Event spaces and vendor services with their price and capacity history (SCD2)',
  ),
  dimension(
    'core.dim_purchases',
    'raw.inventory_db_purchases_changes',
    'purchase_id',
    ['user_id', 'listing_id', 'status', 'amount_cents', 'currency'],
    'Purchases with their status history pending → confirmed → cancelled/refunded (SCD2)',
  ),
  dailySnapshot('core.users_daily', 'core.dim_users', 'The users table as it was at the end of each day'),
  dailySnapshot(
    'core.listings_daily',
    'core.dim_listings',
    'Listings as they were at the end of each day (prices, capacity)',
  ),
  asset({
    key: 'core.fct_purchases',
    kind: 'fact',
    description:
      'One row per purchase created that day, with its status at the cut-off and confirmation time',
    partitions: byDay,
    deps: ['core.dim_purchases', 'core.dim_listings'],
    primaryKey: ['purchase_id'],
    sql: `
      with versions as (
        select * from core.dim_purchases where valid_from < {{ partition_end }}
      ), created as (
        select purchase_id, min(valid_from) as created_at from versions group by purchase_id
      ), at_cut as (
        select * from versions
        where valid_to is null or valid_to >= {{ partition_end }}
      ), confirmed as (
        select purchase_id, min(valid_from) as confirmed_at from versions where status = 'confirmed' group by purchase_id
      )
      select c.purchase_id, p.user_id, p.listing_id, l.vendor_id, p.status, p.amount_cents, p.currency,
             c.created_at, f.confirmed_at, cast(c.created_at as date) as created_date
      from created c
      join at_cut p on p.purchase_id = c.purchase_id
      left join confirmed f on f.purchase_id = c.purchase_id
      left join core.dim_listings l
        on l.listing_id = p.listing_id and l.valid_from <= c.created_at and (l.valid_to is null or l.valid_to > c.created_at)
      where c.created_at >= {{ partition_start }} and c.created_at < {{ partition_end }}`,
    checks: [relationship('listing_id', 'core.dim_listings', 'listing_id')],
    owners: ['data-platform'],
    tags: ['core', 'finance'],
    group: 'core',
  }),
];
