import { asset, acceptedValues } from '../dsl/index.js';
import { byDay, byDayAndPlatform, byHour } from './partitions.js';

/**
 * The raw layer: rows landed by source loaders, never computed. Change logs are typed: change metadata
 * (_lsn, _seq, _txid, _commit_time, _op) followed by the table's columns (the after image; the before image for
 * deletes). Their key is the loaders' dedupe key (_lsn, _seq): every change of a transaction shares its commit's
 * _lsn, so one row changed twice in a transaction repeats (_lsn, <business key>).
 */
const changeLog = (db: string, table: string) =>
  asset({
    key: `raw.${db}_${table}_changes`,
    kind: 'raw_cdc',
    description: `Change log of ${db}.${table} from logical decoding, one row per change, deduplicated by (_lsn, _seq)`,
    partitions: byDay,
    ingest: { source: db, stream: table },
    primaryKey: ['_lsn', '_seq'],
    checks: [acceptedValues('_op', ['r', 'c', 'u', 'd', 't'])],
    owners: ['data-platform'],
    tags: ['raw', 'cdc'],
    group: 'raw',
  });

export const rawAssets = [
  changeLog('user_db', 'users'),
  changeLog('inventory_db', 'vendors'),
  changeLog('inventory_db', 'listings'),
  changeLog('inventory_db', 'purchases'),
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
