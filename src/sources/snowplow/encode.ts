import { ENRICHED_FIELDS, SCHEMAS, type EnrichedField } from './fields.js';
import { formatSnowplowTstamp } from './tstamp.js';

/**
 * Writes enriched TSV lines (for the simulator, fixtures and benches): the inverse of parseEnrichedLine for the
 * fields we read. Values are written as enrich does: tabs/newlines inside strings become spaces, timestamps as
 * `YYYY-MM-DD HH:MM:SS.fff`, missing fields empty.
 */

export type EnrichedValue = string | number | boolean | null | undefined;
export type EnrichedEventInput = Partial<Record<EnrichedField, EnrichedValue>>;

export interface SelfDescribingJson {
  readonly schema: string;
  readonly data: unknown;
}

const VENDOR = 'com.snowplowanalytics.snowplow';
/** event → (event_vendor, event_name, event_format, event_version) as enrich fills them. */
const EVENT_IDENTITY: Record<string, readonly [string, string, string, string]> = {
  page_view: [VENDOR, 'page_view', 'jsonschema', '1-0-0'],
  page_ping: [VENDOR, 'page_ping', 'jsonschema', '1-0-0'],
  struct: ['com.google.analytics', 'event', 'jsonschema', '1-0-0'],
};

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function cell(name: EnrichedField, v: EnrichedValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return String(v);
  if (name.endsWith('_tstamp') && ISO_INSTANT.test(v)) {
    const withMillis = v.includes('.') ? v : v.replace('Z', '.000Z');
    return formatSnowplowTstamp(withMillis);
  }
  return v.replace(/[\t\r\n]/g, ' ');
}

/** One enriched TSV line (no trailing newline) with all 131 fields. */
export function encodeEnrichedEvent(fields: EnrichedEventInput): string {
  const f: EnrichedEventInput = { ...fields };
  const identity = typeof f.event === 'string' ? EVENT_IDENTITY[f.event] : undefined;
  if (identity && f.event_name === undefined) {
    [f.event_vendor, f.event_name, f.event_format, f.event_version] = identity;
  }
  // Other unstruct events: the caller sets event_vendor/name/format/version itself.
  if (f.event === 'unstruct' && f.event_name === undefined && typeof f.unstruct_event === 'string') {
    if (f.unstruct_event.includes(SCHEMAS.linkClick)) {
      [f.event_vendor, f.event_name, f.event_format, f.event_version] = [
        VENDOR,
        'link_click',
        'jsonschema',
        '1-0-1',
      ];
    }
  }
  // join (not +=) returns a flat string: a rope would be flattened again by every reader's indexOf/slice.
  const cells = new Array<string>(ENRICHED_FIELDS.length);
  for (let i = 0; i < ENRICHED_FIELDS.length; i++) {
    const name = ENRICHED_FIELDS[i] as EnrichedField;
    cells[i] = cell(name, f[name]);
  }
  return cells.join('\t');
}

/** The `contexts` field: entities wrapped in Snowplow's contexts envelope. */
export function contextsJson(entities: readonly SelfDescribingJson[]): string {
  return JSON.stringify({ schema: SCHEMAS.contexts, data: entities });
}

/** The `unstruct_event` field: one self-describing event in the unstruct envelope. */
export function unstructEventJson(event: SelfDescribingJson): string {
  return JSON.stringify({ schema: SCHEMAS.unstructEvent, data: event });
}

export function experimentExposureContext(experimentKey: string, variant: string): SelfDescribingJson {
  return { schema: SCHEMAS.experimentExposure, data: { experiment_key: experimentKey, variant } };
}

export function listingContext(listingId: string): SelfDescribingJson {
  return { schema: SCHEMAS.listing, data: { listing_id: listingId } };
}

export function linkClickEvent(
  targetUrl: string,
  extra: Readonly<Record<string, string>> = {},
): SelfDescribingJson {
  return { schema: SCHEMAS.linkClick, data: { targetUrl, ...extra } };
}
