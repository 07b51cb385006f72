import type { Engine } from '../../engines/types.js';
import { EngineRawSink } from '../sinks/engine-sink.js';
import { QUARANTINE_TABLE } from '../sinks/types.js';
import { ENRICHED_FIELDS, ENRICHED_FIELD_COUNT, SCHEMAS, type EnrichedField } from './fields.js';
import { ingestSnowplowFile, type SnowplowFileSummary } from './files.js';
import type { SnowplowLoader } from './loader.js';
import {
  SNOWPLOW_DEDUPE_KEY,
  SNOWPLOW_EVENTS_TABLE,
  SNOWPLOW_EVENT_COLUMNS,
  SNOWPLOW_SOURCE,
} from './schema.js';

/**
 * DuckDB-native landing of a Snowplow enriched TSV file: DuckDB's C++ readers parse the file, SQL validates,
 * flattens and dedupes, and one transaction inserts the events and the quarantined lines. Same rows, reasons
 * (codes always; details except JSON parser messages), dedupe, touched/re-opened hours as `ingestSnowplowFile`
 * through `SnowplowLoader`, without moving the data through JS (the JS path costs ≥ 2.8 CPU-s per 100k events).
 *
 * The file is read twice: `read_text` split on `\n` gives every line with its exact number (raw_line, origins,
 * field counts) and `read_csv` gives the 131 fields; the non-blank lines and the CSV rows are paired by
 * position (POSITIONAL JOIN), checked on event_id. A file DuckDB cannot read this way (gzip, invalid UTF-8,
 * a stray `\r`, a mismatch) falls back to the JS path, before anything landed.
 */

export interface NativeFileOptions {
  readonly engine: Engine;
  /** Supplies the event-time watermark (shared with the JS path) and the quarantine semantics. */
  readonly loader: SnowplowLoader;
  /** Watermark sub-stream (default 'landing', as ingestSnowplowFile). */
  readonly stream?: string;
  readonly table?: string;
}

export interface NativeFileSummary extends SnowplowFileSummary {
  /** 'native', or 'js' when the file went through the JS path (see above). */
  readonly path: 'native' | 'js';
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const col = (f: EnrichedField): string => `c${ENRICHED_FIELDS.indexOf(f)}`;
const TAB = 'chr(9)';

/** JSON.stringify(s) cut to 64 characters, as parse.ts `show()`. */
const show = (e: string): string =>
  `to_json(CASE WHEN length(${e}) > 64 THEN left(${e}, 64) || '…' ELSE ${e} END)::VARCHAR`;

/** parseSnowplowTstamp's grammar (`YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z]`) and calendar, as a boolean. */
const tsOk = (e: string): string =>
  `(regexp_full_match(${e}, '\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z?') ` +
  `AND try_strptime(left(${e}, 10) || ' ' || substr(${e}, 12, 8), '%Y-%m-%d %H:%M:%S') IS NOT NULL)`;

/** The instant, truncated to milliseconds (as the JS parser), as TIMESTAMPTZ (connections run in UTC). */
const tsVal = (e: string): string =>
  `(try_strptime(left(${e}, 10) || ' ' || substr(${e}, 12, 8), '%Y-%m-%d %H:%M:%S') + ` +
  `to_milliseconds(CAST(rpad(left(rtrim(substr(${e}, 21), 'Z'), 3), 3, '0') AS INTEGER)))::TIMESTAMPTZ`;

/** parse.ts `str()`: JSON strings as themselves, numbers and booleans as text, anything else NULL. */
const jstr = (doc: string, path: string): string =>
  `CASE WHEN json_type(${doc}, ${lit(path)}) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN') ` +
  `THEN json_extract_string(${doc}, ${lit(path)}) END`;

const EXPOSURE = lit(SCHEMAS.experimentExposure);
const LISTING = lit(SCHEMAS.listing);
const LINK_CLICK = lit(SCHEMAS.linkClick);

/** SELECT list source: every line with its number (blank ones too, so numbers are the file's). */
function linesSql(file: string): string {
  // A trailing \r (CRLF files) is not part of the line, as readline's crlfDelay.
  return `SELECT n AS line_no, CASE WHEN suffix(line, chr(13)) THEN line[:-2] ELSE line END AS line
    FROM (SELECT unnest(ls) AS line, generate_subscripts(ls, 1) AS n
          FROM (SELECT string_split(content, chr(10)) AS ls FROM read_text(${lit(file)})))`;
}

const USED: readonly EnrichedField[] = [
  'app_id',
  'platform',
  'collector_tstamp',
  'dvce_created_tstamp',
  'event',
  'event_id',
  'user_id',
  'domain_userid',
  'domain_sessionidx',
  'network_userid',
  'geo_country',
  'page_url',
  'page_referrer',
  'page_urlpath',
  'mkt_medium',
  'mkt_source',
  'mkt_term',
  'mkt_content',
  'mkt_campaign',
  'contexts',
  'se_category',
  'se_action',
  'se_label',
  'se_property',
  'se_value',
  'unstruct_event',
  'useragent',
  'domain_sessionid',
  'derived_tstamp',
];

function fieldsSql(file: string): string {
  const spec = ENRICHED_FIELDS.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  // null_padding + strict_mode=false: exactly one row per non-blank line whatever its field count (the count
  // is checked on the line itself), so rows pair with lines by position.
  return `SELECT ${USED.map(col).join(', ')} FROM read_csv(${lit(file)}, delim = ${TAB}, quote = '', escape = '',
    header = false, auto_detect = false, new_line = '\\n', null_padding = true, strict_mode = false,
    columns = {${spec}})`;
}

/** Per line: the checks of parseEnrichedLine in its order (first failure wins), then the typed values. */
function stagedSql(): string {
  const f = (name: EnrichedField): string => `f.${col(name)}`;
  const ev = f('event');
  const ue = f('unstruct_event');
  const ctx = f('contexts');
  const derivedRaw = f('derived_tstamp');
  const idx = f('domain_sessionidx');
  const se = f('se_value');
  const reason = `CASE
      WHEN tabs + 1 > ${ENRICHED_FIELD_COUNT} THEN 'field_count: expected ${ENRICHED_FIELD_COUNT} fields, got more'
      WHEN tabs + 1 < ${ENRICHED_FIELD_COUNT} THEN 'field_count: expected ${ENRICHED_FIELD_COUNT} fields, got ' || (tabs + 1)
      WHEN ${f('event_id')} IS NULL THEN 'missing_event_id: event_id is empty'
      WHEN NOT coalesce(${tsOk(f('collector_tstamp'))}, false) THEN 'bad_timestamp: collector_tstamp ' || ${show(`coalesce(${f('collector_tstamp')}, '')`)}
      WHEN ${derivedRaw} IS NOT NULL AND NOT ${tsOk(derivedRaw)} THEN 'bad_timestamp: derived_tstamp ' || ${show(derivedRaw)}
      WHEN ${f('dvce_created_tstamp')} IS NOT NULL AND NOT ${tsOk(f('dvce_created_tstamp'))} THEN 'bad_timestamp: dvce_created_tstamp ' || ${show(f('dvce_created_tstamp'))}
      WHEN ${ev} = 'unstruct' AND NOT coalesce(json_valid(${ue}), false) THEN 'invalid_json: unstruct_event: not valid JSON'
      WHEN ${ev} = 'unstruct' AND json_type(${ue}, '$.data.schema') IS DISTINCT FROM 'VARCHAR' THEN 'invalid_json: unstruct_event: not a self-describing event'
      WHEN ${ev} = 'unstruct' AND json_extract_string(${ue}, '$.data.schema') <> ${LINK_CLICK} THEN 'unsupported_event: unstruct ' || ${show(`json_extract_string(${ue}, '$.data.schema')`)}
      WHEN ${ev} IS DISTINCT FROM 'unstruct' AND coalesce(${ev} NOT IN ('page_view', 'page_ping', 'struct'), true) THEN 'unsupported_event: event ' || ${show(`coalesce(${ev}, '')`)}
      WHEN ${ctx} IS NOT NULL AND NOT json_valid(${ctx}) THEN 'invalid_json: contexts: not valid JSON'
      WHEN ${ctx} IS NOT NULL AND (json_type(${ctx}, '$.schema') IS DISTINCT FROM 'VARCHAR' OR json_type(${ctx}, '$.data') IS DISTINCT FROM 'ARRAY') THEN 'invalid_json: contexts: not a self-describing array'
      WHEN ${ctx} IS NOT NULL AND list_bool_or(list_transform(json_extract(${ctx}, '$.data[*]'), e -> json_type(e, '$.schema') IS DISTINCT FROM 'VARCHAR')) THEN 'invalid_json: contexts: entry without schema'
      WHEN ${idx} IS NOT NULL AND NOT coalesce(isfinite(try_cast(${idx} AS DOUBLE)) AND try_cast(${idx} AS DOUBLE) = floor(try_cast(${idx} AS DOUBLE)), false) THEN 'bad_number: domain_sessionidx ' || ${show(idx)}
      WHEN ${se} IS NOT NULL AND NOT coalesce(isfinite(try_cast(${se} AS DOUBLE)), false) THEN 'bad_number: se_value ' || ${show(se)}
    END`;
  const collector = tsVal(f('collector_tstamp'));
  const derived = `CASE WHEN ${derivedRaw} IS NULL THEN ${collector} ELSE ${tsVal(derivedRaw)} END`;
  const exposures = `list_transform(list_filter(json_extract(${ctx}, '$.data[*]'), e -> json_extract_string(e, '$.schema') = ${EXPOSURE}),
      e -> {'experiment_key': ${jstr('e', '$.data.experiment_key')}, 'variant': ${jstr('e', '$.data.variant')}})`;
  const listing = `list_filter(list_transform(list_filter(json_extract(${ctx}, '$.data[*]'), e -> json_extract_string(e, '$.schema') = ${LISTING}),
      e -> ${jstr('e', '$.data.listing_id')}), x -> x IS NOT NULL)[1]`;
  const keep: readonly [string, EnrichedField][] = [
    ['app_id', 'app_id'],
    ['platform', 'platform'],
    ['domain_userid', 'domain_userid'],
    ['user_id', 'user_id'],
    ['network_userid', 'network_userid'],
    ['domain_sessionid', 'domain_sessionid'],
    ['page_url', 'page_url'],
    ['page_urlpath', 'page_urlpath'],
    ['page_referrer', 'page_referrer'],
    ['mkt_source', 'mkt_source'],
    ['mkt_medium', 'mkt_medium'],
    ['mkt_campaign', 'mkt_campaign'],
    ['mkt_term', 'mkt_term'],
    ['mkt_content', 'mkt_content'],
    ['se_category', 'se_category'],
    ['se_action', 'se_action'],
    ['se_label', 'se_label'],
    ['se_property', 'se_property'],
    ['useragent', 'useragent'],
    ['geo_country', 'geo_country'],
  ];
  // Typed values only for valid lines (the CASE keeps casts away from lines the reason rejected).
  const ok = (e: string): string => `CASE WHEN reason IS NULL THEN ${e} END`;
  return `SELECT line_no, line, reason,
      ${ok(f('event_id'))} AS event_id,
      ${ok(collector)} AS collector_tstamp,
      ${ok(derived)} AS derived_tstamp,
      ${ok(`CASE WHEN ${f('dvce_created_tstamp')} IS NULL THEN NULL ELSE ${tsVal(f('dvce_created_tstamp'))} END`)} AS dvce_created_tstamp,
      ${ok(`CASE WHEN ${ev} = 'unstruct' THEN 'link_click' ELSE ${ev} END`)} AS event_name,
      ${keep.map(([out, name]) => `${ok(f(name))} AS ${out}`).join(',\n      ')},
      ${ok(`CAST(CAST(${idx} AS DOUBLE) AS BIGINT)`)} AS domain_sessionidx,
      ${ok(`CAST(${se} AS DOUBLE)`)} AS se_value,
      ${ok(`CASE WHEN ${ev} = 'unstruct' THEN ${jstr(ue, '$.data.data.targetUrl')} END`)} AS link_target_url,
      ${ok(`CASE WHEN ${ctx} IS NOT NULL THEN ${exposures} END`)} AS exposures,
      ${ok(`CASE WHEN ${ctx} IS NOT NULL THEN ${listing} END`)} AS listing_id,
      ${ok(f('event_id'))} IS DISTINCT FROM nullif(split_part(line, ${TAB}, 7), '') AND tabs + 1 = ${ENRICHED_FIELD_COUNT} AS misaligned
    FROM (SELECT *, strlen(line) - strlen(replace(line, ${TAB}, '')) AS tabs FROM np_nonblank) l
    POSITIONAL JOIN np_fields f`;
}

/** Column list of the events table, from the staged (already deduplicated) rows. */
function eventsSelect(): string {
  const exprs = SNOWPLOW_EVENT_COLUMNS.map((c) => {
    switch (c.name) {
      case 'experiment_key':
        return `CASE WHEN len(exposures) > 0 THEN exposures[1].experiment_key END AS experiment_key`;
      case 'experiment_variant':
        return `CASE WHEN len(exposures) > 0 THEN exposures[1].variant END AS experiment_variant`;
      case 'experiment_exposures':
        return `CASE WHEN len(exposures) > 0 THEN to_json(exposures) END AS experiment_exposures`;
      case 'event_hour':
        return `strftime(derived_tstamp, '%Y-%m-%dT%H') AS event_hour`;
      case 'raw_line':
        return 'line AS raw_line';
      default:
        return c.name;
    }
  });
  return `SELECT ${exprs.join(', ')} FROM np_staged WHERE keep`;
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const tableRef = (table: string): string =>
  table
    .split('.')
    .map((p) => q(p))
    .join('.');

interface NativeResult {
  readonly lines: number;
  readonly inserted: number;
  readonly quarantined: number;
  readonly hours: string | null;
  readonly latest: string | null;
  readonly misaligned: number;
}

/**
 * Lands one landing file (plain `.tsv`) natively; `.gz` files and files DuckDB's readers disagree on go through
 * the JS path (`ingestSnowplowFile`). The events and quarantine inserts are one transaction: a crash lands all or
 * nothing, a replay inserts nothing.
 */
export async function ingestSnowplowFileNative(
  file: string,
  options: NativeFileOptions,
): Promise<NativeFileSummary> {
  const { engine, loader } = options;
  const stream = options.stream ?? 'landing';
  const js = async (): Promise<NativeFileSummary> => ({
    ...(await ingestSnowplowFile(file, { loader, stream })),
    path: 'js',
  });
  if (engine.name !== 'duckdb' || file.endsWith('.gz')) return js();
  const table = options.table ?? SNOWPLOW_EVENTS_TABLE;
  await ensureTables(engine, table);

  // Staging (reading, validating) runs before BEGIN: its failures leave no transaction open on the connection.
  const stage = `
    CREATE OR REPLACE TEMP TABLE np_lines AS ${linesSql(file)};
    CREATE OR REPLACE TEMP TABLE np_nonblank AS SELECT * FROM np_lines WHERE line <> '' ORDER BY line_no;
    CREATE OR REPLACE TEMP TABLE np_fields AS ${fieldsSql(file)};
    CREATE OR REPLACE TEMP TABLE np_staged AS
      SELECT *, reason IS NULL AND row_number() OVER (PARTITION BY event_id ORDER BY collector_tstamp, line_no) = 1 AS keep
      FROM (${stagedSql()});`;
  let staged: NativeResult | undefined;
  try {
    [staged] = await engine.query<NativeResult & Record<string, number | string | null>>(`${stage}
      SELECT (SELECT count(*) FROM np_lines)::INTEGER AS lines, 0 AS inserted,
        (SELECT count(*) FROM np_staged WHERE reason IS NOT NULL)::INTEGER AS quarantined, NULL AS hours, NULL AS latest,
        (SELECT count(*) FROM np_staged WHERE misaligned)::INTEGER +
          abs((SELECT count(*) FROM np_nonblank) - (SELECT count(*) FROM np_fields))::INTEGER AS misaligned`);
  } catch {
    return js(); // e.g. invalid UTF-8: the JS path decides line by line
  }
  if (!staged || staged.misaligned > 0) return js();

  const wm = loader.watermark;
  const origin = `${lit(`${file}:`)} || line_no`;
  // Single-writer semantics are not needed for `inserted`: the count difference is taken inside the transaction.
  const land = `
    CREATE OR REPLACE TEMP TABLE np_hours AS SELECT DISTINCT strftime(derived_tstamp, '%Y-%m-%dT%H') AS h FROM np_staged WHERE keep;
    BEGIN TRANSACTION;
    SET VARIABLE np_before = (SELECT count(*) FROM ${tableRef(table)});
    INSERT OR IGNORE INTO ${tableRef(table)} BY NAME ${eventsSelect()};
    SET VARIABLE np_inserted = (SELECT count(*) FROM ${tableRef(table)}) - getvariable('np_before');
    INSERT OR IGNORE INTO ${tableRef(QUARANTINE_TABLE)} BY NAME
      SELECT ${lit(SNOWPLOW_SOURCE)} AS source, ${origin} AS origin, reason, line AS raw, now() AS quarantined_at
      FROM np_staged WHERE reason IS NOT NULL;
    COMMIT;
    SELECT ${staged.lines} AS lines, getvariable('np_inserted')::INTEGER AS inserted, ${staged.quarantined} AS quarantined,
      (SELECT string_agg(h, ',' ORDER BY h) FROM np_hours) AS hours,
      (SELECT strftime(max(derived_tstamp), '%Y-%m-%dT%H:%M:%S.%gZ') FROM np_staged WHERE reason IS NULL) AS latest,
      0 AS misaligned;`;
  let res: NativeResult | undefined;
  try {
    [res] = await engine.query<NativeResult & Record<string, number | string | null>>(land);
  } finally {
    // Best effort: a failed statement inside the transaction leaves it open on the pooled connection.
    if (!res) await engine.execute('ROLLBACK').catch(() => undefined);
    await engine
      .execute('DROP TABLE IF EXISTS np_lines; DROP TABLE IF EXISTS np_nonblank; DROP TABLE IF EXISTS np_fields')
      .catch(() => undefined);
  }
  if (!res) throw new Error(`landing ${file} returned no result`);

  const hours = res.hours ? res.hours.split(',') : [];
  // As SnowplowLoader.load: closed-ness against the watermark before this file, observed after it landed.
  const closedBefore = new Set(hours.filter((h) => wm.isClosed(h)));
  if (res.latest) wm.observe(stream, res.latest);
  const touched = res.inserted === 0 ? [] : hours;
  return {
    lines: Number(res.lines),
    inserted: Number(res.inserted),
    quarantined: Number(res.quarantined),
    touchedHours: touched,
    reopenedHours: touched.filter((h) => closedBefore.has(h)),
    watermark: wm.value,
    path: 'native',
  };
}

const ensured = new WeakMap<Engine, Set<string>>();

/** The same tables (and keys) the JS path creates, through the same sink. */
async function ensureTables(engine: Engine, table: string): Promise<void> {
  let done = ensured.get(engine);
  if (!done) ensured.set(engine, (done = new Set()));
  if (done.has(table)) return;
  const sink = new EngineRawSink(engine);
  await sink.ensureTable(table, SNOWPLOW_EVENT_COLUMNS, SNOWPLOW_DEDUPE_KEY);
  await sink.ensureTable(
    QUARANTINE_TABLE,
    [
      { name: 'source', type: 'varchar' },
      { name: 'origin', type: 'varchar' },
      { name: 'reason', type: 'varchar' },
      { name: 'raw', type: 'varchar' },
      { name: 'quarantined_at', type: 'timestamp' },
    ],
    ['source', 'origin'],
  );
  done.add(table);
}
