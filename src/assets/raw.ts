import { asset, acceptedValues } from '../dsl/index.js';
import { byDay, byDayAndPlatform, byHour } from './partitions.js';

/**
 * The raw layer: rows landed by source loaders, never computed. Change logs are typed: change metadata
 * (_lsn, _txid, _commit_time, _op) followed by the table's columns (the after image; the before image for deletes).
 */
const changeLog = (db: string, table: string, key: string) =>
  asset({
    key: `raw.${db}_${table}_changes`,
    kind: 'raw_cdc',
    description: `Change log of ${db}.${table} from logical decoding, one row per change, deduplicated by LSN`,
    partitions: byDay,
    ingest: { source: db, stream: table },
    primaryKey: ['_lsn', key],
    checks: [acceptedValues('_op', ['r', 'c', 'u', 'd', 't'])],
    owners: ['data-platform'],
    tags: ['raw', 'cdc'],
    group: 'raw',
  });

export const rawAssets = [
  changeLog('user_db', 'users', 'user_id'),
  changeLog('inventory_db', 'vendors', 'vendor_id'),
  changeLog('inventory_db', 'listings', 'listing_id'),
  changeLog('inventory_db', 'purchases', 'purchase_id'),
  asset({
    key: 'raw.snowplow_events',
    kind: 'fact',
    description:
      'Snowplow enriched events, flattened; deduplicated on event_id; malformed lines are quarantined',
    partitions: byHour,
    ingest: { source: 'snowplow', stream: 'enriched' },
    primaryKey: ['event_id'],
    checks: [acceptedValues('event_name', ['page_view', 'page_ping', 'struct', 'link_click'])],
    owners: ['data-platform'],
    tags: ['raw', 'clickstream'],
    group: 'raw',
  }),
  asset({
    key: 'raw.ad_reports',
    kind: 'fact',
    description: 'Daily campaign stats per ad platform and account, re-pulled within each restatement window',
    partitions: byDayAndPlatform,
    ingest: { source: 'ads', stream: 'campaign_daily' },
    primaryKey: ['platform', 'account_id', 'campaign_id', 'date'],
    owners: ['data-platform'],
    tags: ['raw', 'marketing'],
    group: 'raw',
  }),
  asset({
    key: 'raw.fx_rates',
    kind: 'fact',
    description: 'Daily FX rates to USD',
    partitions: byDay,
    ingest: { source: 'fx', stream: 'daily' },
    primaryKey: ['date', 'currency'],
    owners: ['finance-analytics'],
    tags: ['raw', 'finance'],
    group: 'raw',
  }),
];
