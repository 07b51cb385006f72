import type { RawColumn } from '../types.js';

/** The landed table: one row per enriched event, flattened to typed columns, raw line kept for replays. */
export const SNOWPLOW_EVENTS_TABLE = 'raw.snowplow_events';
export const SNOWPLOW_DEDUPE_KEY = ['event_id'] as const;
/**
 * How far apart in event time (derived_tstamp) two events with the same event_id may be and still be one event.
 * The DuckDB-native landing looks for an id already landed only among rows this close to the batch's events,
 * so its dedupe reads the table's recent row groups (skipped by their min/max), not all of it: the collector's
 * duplicates arrive within minutes, and a replayed batch has the very same times, so it never lands twice.
 */
export const SNOWPLOW_DEDUPE_WINDOW_HOURS = 24;
export const SNOWPLOW_SOURCE = 'snowplow';

export type SnowplowEventName = 'page_view' | 'page_ping' | 'struct' | 'link_click';

/** One parsed event. Timestamps are canonical ISO-8601 UTC with milliseconds (sortable as text). */
// A type alias (not an interface) so it is assignable to RawRow's index signature.
export type SnowplowEventRow = {
  readonly event_id: string;
  readonly collector_tstamp: string;
  readonly derived_tstamp: string;
  readonly dvce_created_tstamp: string | null;
  readonly event_name: SnowplowEventName;
  readonly app_id: string | null;
  readonly platform: string | null;
  readonly domain_userid: string | null;
  readonly user_id: string | null;
  readonly network_userid: string | null;
  readonly domain_sessionid: string | null;
  readonly domain_sessionidx: number | null;
  readonly page_url: string | null;
  readonly page_urlpath: string | null;
  readonly page_referrer: string | null;
  readonly mkt_source: string | null;
  readonly mkt_medium: string | null;
  readonly mkt_campaign: string | null;
  readonly mkt_term: string | null;
  readonly mkt_content: string | null;
  readonly se_category: string | null;
  readonly se_action: string | null;
  readonly se_label: string | null;
  readonly se_property: string | null;
  readonly se_value: number | null;
  readonly link_target_url: string | null;
  /** First experiment exposure context of the event (a page view may carry several: see experiment_exposures). */
  readonly experiment_key: string | null;
  readonly experiment_variant: string | null;
  /** JSON array of every exposure `[{"experiment_key":…,"variant":…}]`, NULL when none. */
  readonly experiment_exposures: string | null;
  readonly listing_id: string | null;
  readonly useragent: string | null;
  readonly geo_country: string | null;
  /** Hourly partition of derived_tstamp, e.g. `2026-11-24T13`. */
  readonly event_hour: string;
  readonly raw_line: string;
};

export const SNOWPLOW_EVENT_COLUMNS: readonly RawColumn[] = [
  { name: 'event_id', type: 'varchar' },
  { name: 'collector_tstamp', type: 'timestamp' },
  { name: 'derived_tstamp', type: 'timestamp' },
  { name: 'dvce_created_tstamp', type: 'timestamp' },
  { name: 'event_name', type: 'varchar' },
  { name: 'app_id', type: 'varchar' },
  { name: 'platform', type: 'varchar' },
  { name: 'domain_userid', type: 'varchar' },
  { name: 'user_id', type: 'varchar' },
  { name: 'network_userid', type: 'varchar' },
  { name: 'domain_sessionid', type: 'varchar' },
  { name: 'domain_sessionidx', type: 'bigint' },
  { name: 'page_url', type: 'varchar' },
  { name: 'page_urlpath', type: 'varchar' },
  { name: 'page_referrer', type: 'varchar' },
  { name: 'mkt_source', type: 'varchar' },
  { name: 'mkt_medium', type: 'varchar' },
  { name: 'mkt_campaign', type: 'varchar' },
  { name: 'mkt_term', type: 'varchar' },
  { name: 'mkt_content', type: 'varchar' },
  { name: 'se_category', type: 'varchar' },
  { name: 'se_action', type: 'varchar' },
  { name: 'se_label', type: 'varchar' },
  { name: 'se_property', type: 'varchar' },
  { name: 'se_value', type: 'double' },
  { name: 'link_target_url', type: 'varchar' },
  { name: 'experiment_key', type: 'varchar' },
  { name: 'experiment_variant', type: 'varchar' },
  { name: 'experiment_exposures', type: 'json' },
  { name: 'listing_id', type: 'varchar' },
  { name: 'useragent', type: 'varchar' },
  { name: 'geo_country', type: 'varchar' },
  { name: 'event_hour', type: 'varchar' },
  { name: 'raw_line', type: 'varchar' },
];
