import { asset, relationship, dimension, identity } from '../dsl/index.js';
import { byDay } from './partitions.js';

/** Marketing: spend across the four platforms in USD, last-touch attribution of bookings, ROAS. */
export const marketingAssets = [
  asset({
    key: 'marketing.fct_ad_spend',
    kind: 'fact',
    description: 'Daily spend, impressions and clicks per platform, account and campaign, in USD',
    partitions: byDay,
    deps: [{ key: 'raw.ad_reports', mapping: dimension('date', identity()) }, 'raw.fx_rates'],
    primaryKey: ['platform', 'account_id', 'campaign_id'],
    sql: `
      select r.date, r.platform, r.account_id, r.campaign_id, r.campaign_name, r.impressions, r.clicks,
             r.spend_micros / 1e6 * fx.usd_rate as spend_usd
      from raw.ad_reports r join raw.fx_rates fx on fx.date = r.date and fx.currency = r.currency
      where r.date = {{ partition_date }}`,
    owners: ['marketing-analytics'],
    tags: ['marketing'],
    group: 'marketing',
  }),
  asset({
    key: 'marketing.fct_attribution',
    kind: 'fact',
    // Same-day last touch: the partition reads only the sessions of its own day, which is exactly what its dep
    // declares, so a day never depends on whether earlier days happened to be built first (a longer window
    // needs lookback(n) and earlier days' sessions to exist, which the barrier would then wait for).
    description:
      "Each booking attributed to the campaign of the booker's last session with UTM parameters before it on the booking's day",
    partitions: byDay,
    deps: ['core.fct_purchases', 'clickstream.fct_sessions'],
    primaryKey: ['purchase_id'],
    checks: [relationship('purchase_id', 'core.fct_purchases', 'purchase_id')],
    sql: `
      select p.purchase_id, p.created_at, p.amount_cents,
             {{ arg_max(s.mkt_source, s.started_at) }} as mkt_source,
             {{ arg_max(s.mkt_campaign, s.started_at) }} as mkt_campaign
      from core.fct_purchases p
      -- Snowplow's user_id is text: compared as a number (as DuckDB's implicit cast did), spelled out for engines
      -- that compare no text with numbers.
      left join clickstream.fct_sessions s
        on cast(s.user_id as {{ t.bigint }}) = p.user_id and s.started_at <= p.created_at and s.mkt_campaign is not null
         and s.started_at >= {{ partition_start }}
      where p.created_at >= {{ partition_start }} and p.created_at < {{ partition_end }}
      group by p.purchase_id, p.created_at, p.amount_cents`,
    owners: ['marketing-analytics'],
    tags: ['marketing'],
    group: 'marketing',
  }),
  asset({
    key: 'marketing.mart_marketing_roas',
    kind: 'mart',
    description: 'Spend, attributed bookings and revenue, and ROAS per platform and campaign per day',
    partitions: byDay,
    deps: ['marketing.fct_ad_spend', 'marketing.fct_attribution'],
    primaryKey: ['platform', 'campaign_id'],
    sql: `
      with spend as (
        select platform, campaign_id, sum(spend_usd) as spend_usd, sum(clicks) as clicks from marketing.fct_ad_spend
        where date = {{ partition_date }} group by platform, campaign_id
      ), revenue as (
        select mkt_source as platform, mkt_campaign as campaign_id, count(*) as bookings,
               sum(amount_cents) / 100.0 as revenue
        from marketing.fct_attribution
        where created_at >= {{ partition_start }} and created_at < {{ partition_end }} and mkt_campaign is not null
        group by mkt_source, mkt_campaign
      )
      select {{ partition_date }} as day, platform, campaign_id, coalesce(s.spend_usd, 0) as spend_usd,
             coalesce(s.clicks, 0) as clicks, coalesce(r.bookings, 0) as bookings, coalesce(r.revenue, 0) as revenue,
             case when s.spend_usd > 0 then coalesce(r.revenue, 0) / s.spend_usd end as roas
      from spend s full join revenue r using (platform, campaign_id)`,
    owners: ['marketing-analytics'],
    tags: ['marketing', 'mart'],
    group: 'marketing',
    publishGroup: 'marketing',
  }),
];
