import { encodeEnrichedEvent } from '../../src/sources/snowplow/index.js';

/** An enriched page view (TSV line) collected and derived at `derived`; `extra` overrides any field. */
export function pageView(
  id: string,
  derived: string,
  extra: Parameters<typeof encodeEnrichedEvent>[0] = {},
): string {
  return encodeEnrichedEvent({
    app_id: 'bme-web',
    platform: 'web',
    event: 'page_view',
    event_id: id,
    collector_tstamp: derived,
    derived_tstamp: derived,
    domain_userid: 'du-1',
    domain_sessionid: 'ds-1',
    ...extra,
  });
}
