import { ENRICHED_FIELD_COUNT, FIELD_INDEX, SCHEMAS } from './fields.js';
import type { SnowplowEventName, SnowplowEventRow } from './schema.js';
import { hourKeyOf, parseSnowplowTstamp } from './tstamp.js';

/**
 * Enriched TSV line → typed row, or the reason it is quarantined. Hot path: one pass of indexOf over the line,
 * slices only for the ~35 fields we keep, JSON.parse only for non-empty contexts / unstruct_event.
 * Reasons start with a stable code (`field_count:`, `bad_timestamp:`, `invalid_json:`, …) so checks can group them.
 */

export type ParseResult =
  { readonly ok: true; readonly row: SnowplowEventRow } | { readonly ok: false; readonly reason: string };

export type QuarantineCode =
  'field_count' | 'missing_event_id' | 'bad_timestamp' | 'invalid_json' | 'bad_number' | 'unsupported_event';

const fail = (code: QuarantineCode, detail: string): ParseResult => ({
  ok: false,
  reason: `${code}: ${detail}`,
});
const show = (s: string): string => JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);

// Reused across calls: field start offsets (131 fields + the end sentinel). Single-threaded, never escapes.
const starts = new Int32Array(ENRICHED_FIELD_COUNT + 1);
const N_FIELDS = ENRICHED_FIELD_COUNT;
const EXPOSURE_SCHEMA = SCHEMAS.experimentExposure;
const LISTING_SCHEMA = SCHEMAS.listing;
const LINK_CLICK_SCHEMA = SCHEMAS.linkClick;
// Indexes as module constants: property reads through an imported object cost ~15% of the parse.
const APP_ID = FIELD_INDEX.app_id;
const PLATFORM = FIELD_INDEX.platform;
const COLLECTOR_TSTAMP = FIELD_INDEX.collector_tstamp;
const DVCE_CREATED_TSTAMP = FIELD_INDEX.dvce_created_tstamp;
const EVENT = FIELD_INDEX.event;
const EVENT_ID = FIELD_INDEX.event_id;
const DOMAIN_USERID = FIELD_INDEX.domain_userid;
const DOMAIN_SESSIONIDX = FIELD_INDEX.domain_sessionidx;
const NETWORK_USERID = FIELD_INDEX.network_userid;
const GEO_COUNTRY = FIELD_INDEX.geo_country;
const PAGE_URL = FIELD_INDEX.page_url;
const PAGE_REFERRER = FIELD_INDEX.page_referrer;
const PAGE_URLPATH = FIELD_INDEX.page_urlpath;
const MKT_MEDIUM = FIELD_INDEX.mkt_medium;
const MKT_SOURCE = FIELD_INDEX.mkt_source;
const MKT_TERM = FIELD_INDEX.mkt_term;
const MKT_CONTENT = FIELD_INDEX.mkt_content;
const MKT_CAMPAIGN = FIELD_INDEX.mkt_campaign;
const CONTEXTS = FIELD_INDEX.contexts;
const SE_CATEGORY = FIELD_INDEX.se_category;
const SE_ACTION = FIELD_INDEX.se_action;
const SE_LABEL = FIELD_INDEX.se_label;
const SE_PROPERTY = FIELD_INDEX.se_property;
const SE_VALUE = FIELD_INDEX.se_value;
const UNSTRUCT_EVENT = FIELD_INDEX.unstruct_event;
const USERAGENT = FIELD_INDEX.useragent;
const DOMAIN_SESSIONID = FIELD_INDEX.domain_sessionid;
const DERIVED_TSTAMP = FIELD_INDEX.derived_tstamp;
const USER_ID = FIELD_INDEX.user_id;

/** Field `i` of the line last split into `starts`. */
function get(line: string, i: number): string {
  return line.slice(starts[i] as number, (starts[i + 1] as number) - 1);
}

function opt(line: string, i: number): string | null {
  const a = starts[i] as number;
  const b = (starts[i + 1] as number) - 1;
  return b > a ? line.slice(a, b) : null;
}

interface SelfDescribing {
  readonly schema: string;
  readonly data: unknown;
}

function isSelfDescribing(v: unknown): v is SelfDescribing {
  return typeof v === 'object' && v !== null && typeof (v as { schema?: unknown }).schema === 'string';
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function field(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined;
}

interface Flattened {
  experiment_key: string | null;
  experiment_variant: string | null;
  experiment_exposures: string | null;
  listing_id: string | null;
}

/** Flattens the contexts envelope; a string when it is not valid JSON of the documented shape. */
function flattenContexts(json: string): Flattened | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    return `contexts: ${(e as Error).message}`;
  }
  const data = field(parsed, 'data');
  if (!isSelfDescribing(parsed) || !Array.isArray(data)) return 'contexts: not a self-describing array';
  const out: Flattened = {
    experiment_key: null,
    experiment_variant: null,
    experiment_exposures: null,
    listing_id: null,
  };
  let exposures: { experiment_key: string | null; variant: string | null }[] | undefined;
  for (const ctx of data) {
    if (!isSelfDescribing(ctx)) return 'contexts: entry without schema';
    if (ctx.schema === EXPOSURE_SCHEMA) {
      const e = {
        experiment_key: str(field(ctx.data, 'experiment_key')),
        variant: str(field(ctx.data, 'variant')),
      };
      (exposures ??= []).push(e);
    } else if (ctx.schema === LISTING_SCHEMA && out.listing_id === null) {
      out.listing_id = str(field(ctx.data, 'listing_id'));
    }
  }
  if (exposures) {
    out.experiment_key = exposures[0]?.experiment_key ?? null;
    out.experiment_variant = exposures[0]?.variant ?? null;
    out.experiment_exposures = JSON.stringify(exposures);
  }
  return out;
}

/** Parses one enriched event line (a trailing `\n` / `\r\n` is ignored). */
export function parseEnrichedLine(input: string): ParseResult {
  let line = input;
  if (line.endsWith('\n')) line = line.slice(0, line.endsWith('\r\n') ? -2 : -1);

  let count = 0;
  let pos = 0;
  starts[0] = 0;
  for (;;) {
    const tab = line.indexOf('\t', pos);
    if (tab < 0) break;
    count++;
    if (count >= N_FIELDS) return fail('field_count', `expected ${N_FIELDS} fields, got more`);
    starts[count] = tab + 1;
    pos = tab + 1;
  }
  if (count + 1 !== N_FIELDS) {
    return fail('field_count', `expected ${N_FIELDS} fields, got ${count + 1}`);
  }
  starts[N_FIELDS] = line.length + 1;

  const eventId = get(line, EVENT_ID);
  if (eventId === '') return fail('missing_event_id', 'event_id is empty');

  const collectorRaw = get(line, COLLECTOR_TSTAMP);
  const collector = parseSnowplowTstamp(collectorRaw);
  if (collector === undefined) return fail('bad_timestamp', `collector_tstamp ${show(collectorRaw)}`);
  // derived_tstamp is set by every modern enrich; older events without it fall back to collector time.
  const derivedRaw = get(line, DERIVED_TSTAMP);
  const derived = derivedRaw === '' ? collector : parseSnowplowTstamp(derivedRaw);
  if (derived === undefined) return fail('bad_timestamp', `derived_tstamp ${show(derivedRaw)}`);
  const dvceRaw = get(line, DVCE_CREATED_TSTAMP);
  const dvce = dvceRaw === '' ? null : parseSnowplowTstamp(dvceRaw);
  if (dvce === undefined) return fail('bad_timestamp', `dvce_created_tstamp ${show(dvceRaw)}`);

  const event = get(line, EVENT);
  let eventName: SnowplowEventName;
  let linkTarget: string | null = null;
  if (event === 'page_view' || event === 'page_ping' || event === 'struct') {
    eventName = event;
  } else if (event === 'unstruct') {
    const json = get(line, UNSTRUCT_EVENT);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      return fail('invalid_json', `unstruct_event: ${(e as Error).message}`);
    }
    const inner = field(parsed, 'data');
    if (!isSelfDescribing(inner)) return fail('invalid_json', 'unstruct_event: not a self-describing event');
    if (inner.schema !== LINK_CLICK_SCHEMA)
      return fail('unsupported_event', `unstruct ${show(inner.schema)}`);
    eventName = 'link_click';
    linkTarget = str(field(inner.data, 'targetUrl'));
  } else {
    return fail('unsupported_event', `event ${show(event)}`);
  }

  const ctxJson = get(line, CONTEXTS);
  let flat: Flattened | string = {
    experiment_key: null,
    experiment_variant: null,
    experiment_exposures: null,
    listing_id: null,
  };
  if (ctxJson !== '') {
    flat = flattenContexts(ctxJson);
    if (typeof flat === 'string') return fail('invalid_json', flat);
  }

  const idxRaw = get(line, DOMAIN_SESSIONIDX);
  let sessionIdx: number | null = null;
  if (idxRaw !== '') {
    sessionIdx = Number(idxRaw);
    if (!Number.isInteger(sessionIdx)) return fail('bad_number', `domain_sessionidx ${show(idxRaw)}`);
  }
  const seRaw = get(line, SE_VALUE);
  let seValue: number | null = null;
  if (seRaw !== '') {
    seValue = Number(seRaw);
    if (!Number.isFinite(seValue)) return fail('bad_number', `se_value ${show(seRaw)}`);
  }

  return {
    ok: true,
    row: {
      event_id: eventId,
      collector_tstamp: collector,
      derived_tstamp: derived,
      dvce_created_tstamp: dvce,
      event_name: eventName,
      app_id: opt(line, APP_ID),
      platform: opt(line, PLATFORM),
      domain_userid: opt(line, DOMAIN_USERID),
      user_id: opt(line, USER_ID),
      network_userid: opt(line, NETWORK_USERID),
      domain_sessionid: opt(line, DOMAIN_SESSIONID),
      domain_sessionidx: sessionIdx,
      page_url: opt(line, PAGE_URL),
      page_urlpath: opt(line, PAGE_URLPATH),
      page_referrer: opt(line, PAGE_REFERRER),
      mkt_source: opt(line, MKT_SOURCE),
      mkt_medium: opt(line, MKT_MEDIUM),
      mkt_campaign: opt(line, MKT_CAMPAIGN),
      mkt_term: opt(line, MKT_TERM),
      mkt_content: opt(line, MKT_CONTENT),
      se_category: opt(line, SE_CATEGORY),
      se_action: opt(line, SE_ACTION),
      se_label: opt(line, SE_LABEL),
      se_property: opt(line, SE_PROPERTY),
      se_value: seValue,
      link_target_url: linkTarget,
      experiment_key: flat.experiment_key,
      experiment_variant: flat.experiment_variant,
      experiment_exposures: flat.experiment_exposures,
      listing_id: flat.listing_id,
      useragent: opt(line, USERAGENT),
      geo_country: opt(line, GEO_COUNTRY),
      event_hour: hourKeyOf(derived),
      raw_line: line,
    },
  };
}
