import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  contextsJson,
  encodeEnrichedEvent,
  ENRICHED_FIELD_COUNT,
  experimentExposureContext,
  linkClickEvent,
  listingContext,
  parseEnrichedLine,
  parseSnowplowTstamp,
  unstructEventJson,
  type EnrichedEventInput,
} from '../../src/sources/snowplow/index.js';

const base: EnrichedEventInput = {
  app_id: 'bme-web',
  platform: 'web',
  event: 'page_view',
  event_id: 'c6ef3124-b53a-4b13-a233-0088f79dcbcb',
  collector_tstamp: '2026-11-24 13:05:00.123',
  derived_tstamp: '2026-11-24 13:04:59.900',
  domain_userid: 'du-1',
  domain_sessionid: 'ds-1',
  domain_sessionidx: 3,
  page_url: 'https://bookmyevent.com/e/42?utm_source=google',
  page_urlpath: '/e/42',
  mkt_source: 'google',
  mkt_medium: 'cpc',
  mkt_campaign: 'winter',
  useragent: 'Mozilla/5.0',
  geo_country: 'DE',
};

const reason = (fields: EnrichedEventInput): string => {
  const res = parseEnrichedLine(encodeEnrichedEvent({ ...base, ...fields }));
  return res.ok ? 'ok' : res.reason;
};

describe('enriched TSV parsing', () => {
  it('reads a page view with experiment exposures and a listing context into typed columns', () => {
    const line = encodeEnrichedEvent({
      ...base,
      contexts: contextsJson([
        experimentExposureContext('checkout_v2', 'treatment'),
        { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'wp' } },
        experimentExposureContext('hero_banner', 'control'),
        listingContext('L-77'),
      ]),
    });
    expect(line.split('\t')).toHaveLength(ENRICHED_FIELD_COUNT);
    const res = parseEnrichedLine(`${line}\n`);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.row).toMatchObject({
      event_name: 'page_view',
      collector_tstamp: '2026-11-24T13:05:00.123Z',
      derived_tstamp: '2026-11-24T13:04:59.900Z',
      event_hour: '2026-11-24T13',
      domain_sessionidx: 3,
      page_urlpath: '/e/42',
      mkt_medium: 'cpc',
      experiment_key: 'checkout_v2',
      experiment_variant: 'treatment',
      listing_id: 'L-77',
      geo_country: 'DE',
      raw_line: line,
    });
    expect(JSON.parse(res.row.experiment_exposures ?? 'null')).toEqual([
      { experiment_key: 'checkout_v2', variant: 'treatment' },
      { experiment_key: 'hero_banner', variant: 'control' },
    ]);
  });

  it('reads structured events, page pings and link clicks', () => {
    const struct = parseEnrichedLine(
      encodeEnrichedEvent({
        ...base,
        event: 'struct',
        se_category: 'checkout',
        se_action: 'pay',
        se_label: 'card',
        se_value: 12.5,
      }),
    );
    expect(struct).toMatchObject({
      ok: true,
      row: { event_name: 'struct', se_action: 'pay', se_value: 12.5 },
    });
    expect(parseEnrichedLine(encodeEnrichedEvent({ ...base, event: 'page_ping' }))).toMatchObject({
      row: { event_name: 'page_ping' },
    });
    const click = parseEnrichedLine(
      encodeEnrichedEvent({
        ...base,
        event: 'unstruct',
        unstruct_event: unstructEventJson(linkClickEvent('https://t.co/x')),
      }),
    );
    expect(click).toMatchObject({
      ok: true,
      row: { event_name: 'link_click', link_target_url: 'https://t.co/x' },
    });
  });

  it('quarantines malformed lines with a reason code', () => {
    expect(parseEnrichedLine('a\tb\tc')).toEqual({
      ok: false,
      reason: 'field_count: expected 131 fields, got 3',
    });
    expect(parseEnrichedLine(`${encodeEnrichedEvent(base)}\textra`)).toMatchObject({
      reason: /^field_count:/,
    });
    expect(parseEnrichedLine('')).toMatchObject({ reason: /^field_count:/ });
    expect(reason({ event_id: '' })).toMatch(/^missing_event_id:/);
    expect(reason({ collector_tstamp: '2026-13-01 00:00:00' })).toBe(
      'bad_timestamp: collector_tstamp "2026-13-01 00:00:00"',
    );
    expect(reason({ collector_tstamp: '' })).toMatch(/^bad_timestamp: collector_tstamp/);
    expect(reason({ derived_tstamp: 'yesterday' })).toMatch(/^bad_timestamp: derived_tstamp/);
    expect(reason({ dvce_created_tstamp: '2026-02-29 10:00:00' })).toMatch(
      /^bad_timestamp: dvce_created_tstamp/,
    );
    expect(reason({ contexts: '{"schema":"iglu:x","data":[' })).toMatch(/^invalid_json: contexts: /);
    expect(reason({ contexts: '{"schema":"iglu:x","data":{}}' })).toBe(
      'invalid_json: contexts: not a self-describing array',
    );
    expect(reason({ event: 'unstruct', unstruct_event: '{oops' })).toMatch(/^invalid_json: unstruct_event: /);
    expect(reason({ event: 'transaction' })).toBe('unsupported_event: event "transaction"');
    expect(
      reason({
        event: 'unstruct',
        unstruct_event: unstructEventJson({ schema: 'iglu:a/b/jsonschema/1-0-0', data: {} }),
      }),
    ).toMatch(/^unsupported_event: unstruct/);
    expect(reason({ se_value: 'abc' })).toBe('bad_number: se_value "abc"');
    expect(reason({ domain_sessionidx: '1.5' })).toMatch(/^bad_number: domain_sessionidx/);
  });

  it('falls back to collector time when derived_tstamp is empty (events from old pipelines)', () => {
    expect(parseEnrichedLine(encodeEnrichedEvent({ ...base, derived_tstamp: '' }))).toMatchObject({
      row: { derived_tstamp: '2026-11-24T13:05:00.123Z', event_hour: '2026-11-24T13' },
    });
  });

  it('parses timestamps strictly: calendar, separators, fractions', () => {
    expect(parseSnowplowTstamp('2024-02-29 23:59:59')).toBe('2024-02-29T23:59:59.000Z');
    expect(parseSnowplowTstamp('2026-11-24T01:02:03.4Z')).toBe('2026-11-24T01:02:03.400Z');
    expect(parseSnowplowTstamp('2026-11-24 01:02:03.123456')).toBe('2026-11-24T01:02:03.123Z');
    for (const bad of [
      '2023-02-29 00:00:00',
      '2026-11-24 24:00:00',
      '2026-11-24 10:60:00',
      '2026-11-24 10:00',
      '2026-11-24 10:00:00.',
      '2026/11/24 10:00:00',
      '2026-11-24 10:00:00.12a',
    ]) {
      expect(parseSnowplowTstamp(bad)).toBeUndefined();
    }
  });

  it('round-trips whatever the encoder writes (property)', () => {
    const text = fc.string({ maxLength: 30 });
    const instant = fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2099-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    fc.assert(
      fc.property(
        fc.uuid(),
        instant,
        instant,
        text,
        text,
        fc.option(fc.integer({ min: 0, max: 10_000 })),
        (id, c, d, url, label, idx) => {
          const res = parseEnrichedLine(
            encodeEnrichedEvent({
              ...base,
              event: 'struct',
              event_id: id,
              collector_tstamp: c,
              derived_tstamp: d,
              page_url: url,
              se_label: label,
              domain_sessionidx: idx,
            }),
          );
          expect(res.ok).toBe(true);
          if (!res.ok) return;
          expect(res.row.collector_tstamp).toBe(c);
          expect(res.row.derived_tstamp).toBe(d);
          expect(res.row.event_hour).toBe(d.slice(0, 13));
          // Tabs and newlines cannot survive a TSV cell: the encoder writes spaces, as enrich does.
          const clean = (s: string): string | null => (s === '' ? null : s.replace(/[\t\r\n]/g, ' '));
          expect(res.row.page_url).toBe(clean(url));
          expect(res.row.se_label).toBe(clean(label));
          expect(res.row.domain_sessionidx).toBe(idx);
        },
      ),
      { numRuns: 300 },
    );
  });
});
