import { asset, rollup } from '../dsl/index.js';
import { byDay, byHour } from './partitions.js';

/** Clickstream: page views and sessions (30 minutes of inactivity closes a session), the booking funnel. */
export const clickstreamAssets = [
  asset({
    key: 'clickstream.fct_page_views',
    kind: 'fact',
    description: 'Page views with their marketing parameters and the listing viewed',
    partitions: byHour,
    deps: ['raw.snowplow_events'],
    primaryKey: ['event_id'],
    sql: `
      select event_id, derived_tstamp as viewed_at, domain_userid, user_id, domain_sessionid, page_urlpath,
             listing_id, mkt_source, mkt_medium, mkt_campaign
      from raw.snowplow_events
      where event_name = 'page_view' and derived_tstamp >= {{ partition_start }} and derived_tstamp < {{ partition_end }}`,
    owners: ['growth-analytics'],
    tags: ['clickstream'],
    group: 'clickstream',
  }),
  asset({
    key: 'clickstream.fct_sessions',
    kind: 'fact',
    description:
      'Sessions by user: a gap of 30 minutes without events starts a new one; a day reads its hours',
    partitions: byDay,
    deps: [{ key: 'raw.snowplow_events', mapping: rollup() }],
    primaryKey: ['session_id'],
    sql: `
      with events as (
        -- 30 minutes before the day decide whether its first events continue a session from the day before.
        select domain_userid, user_id, derived_tstamp as ts, event_name, mkt_source, mkt_medium, mkt_campaign
        from raw.snowplow_events
        where derived_tstamp >= {{ add_minutes({{ partition_start }}, -30) }} and derived_tstamp < {{ partition_end }}
      ), gaps as (
        select *, case when lag(ts) over (partition by domain_userid order by ts) is null
                        or ts > {{ add_minutes(lag(ts) over (partition by domain_userid order by ts), 30) }}
                       then 1 else 0 end as is_new
        from events
      ), numbered as (
        select *, sum(is_new) over (partition by domain_userid order by ts rows unbounded preceding) as n from gaps
      )
      select domain_userid || '-' || {{ format_timestamp(min(ts), '%Y%m%d%H%M%S') }} as session_id, domain_userid,
             max(user_id) as user_id, min(ts) as started_at, max(ts) as ended_at,
             {{ count_if(event_name = 'page_view') }} as page_views,
             {{ arg_min(mkt_source, ts) }} as mkt_source, {{ arg_min(mkt_medium, ts) }} as mkt_medium,
             {{ arg_min(mkt_campaign, ts) }} as mkt_campaign
      from numbered group by domain_userid, n
      having min(ts) >= {{ partition_start }}`,
    owners: ['growth-analytics'],
    tags: ['clickstream'],
    group: 'clickstream',
  }),
  asset({
    key: 'clickstream.fct_funnel_daily',
    kind: 'fact',
    description: 'Search → listing view → booking funnel per day',
    partitions: byDay,
    deps: [{ key: 'raw.snowplow_events', mapping: rollup() }, 'core.fct_purchases'],
    primaryKey: ['day'],
    sql: `
      -- Two one-row aggregates side by side (a scalar subquery beside aggregates is not portable).
      with visits as (
        select {{ count_distinct_if(domain_userid, event_name = 'struct' and se_action = 'search') }} as searchers,
               {{ count_distinct_if(domain_userid, event_name = 'page_view' and listing_id is not null) }} as viewers
        from raw.snowplow_events
        where derived_tstamp >= {{ partition_start }} and derived_tstamp < {{ partition_end }}
      ), bookings as (
        select count(distinct user_id) as bookers from core.fct_purchases
        where created_at >= {{ partition_start }} and created_at < {{ partition_end }}
      )
      select {{ partition_date }} as day, v.searchers, v.viewers, b.bookers
      from visits v cross join bookings b`,
    owners: ['growth-analytics'],
    tags: ['clickstream', 'funnel'],
    group: 'clickstream',
  }),
];
