import type { Engine } from '../../engines/types.js';
import { EngineRawSink } from '../sinks/engine-sink.js';
import { QUARANTINE_COLUMNS, QUARANTINE_KEY, QUARANTINE_TABLE } from '../sinks/types.js';
import { serializedWrite } from './duckdb-bulk-sink.js';
import { ENRICHED_FIELDS, ENRICHED_FIELD_COUNT, SCHEMAS, type EnrichedField } from './fields.js';
import { ingestSnowplowFile, type SnowplowFileSummary } from './files.js';
import type { SnowplowLoader } from './loader.js';
import {
  SNOWPLOW_DEDUPE_WINDOW_HOURS,
  SNOWPLOW_EVENTS_TABLE,
  SNOWPLOW_EVENT_COLUMNS,
  SNOWPLOW_SOURCE,
} from './schema.js';

/**
 * DuckDB-native landing of a Snowplow enriched TSV file: DuckDB reads and splits the file, SQL validates,
 * flattens and dedupes, and one transaction inserts the events and the quarantined lines. Same rows, reasons
 * (codes always; details except JSON parser messages), dedupe, touched/re-opened hours as `ingestSnowplowFile`
 * through `SnowplowLoader`, without moving the data through JS (the JS path costs ≥ 2.8 CPU-s per 100k events).
 *
 * The file is read once: `read_text` split on `\n` gives every line with its exact number (raw_line, origins),
 * and `string_split` on tab gives each line's fields (parse.ts's field list, so there is nothing to pair up).
 * Where the CPU goes (EXPLAIN ANALYZE and per-statement CPU, per 100k events, DuckDB on one thread, ~1.3 s
 * in all): reading, numbering, splitting, checking and keeping the used fields in one temp table 0.5–0.6 s,
 * the insert 0.3–0.4 s (JSON flattening and copying the rows into the table), the commit (WAL) 0.2–0.3 s.
 * Dedupe against rows already landed is an anti-join on event_id, not a key index (see BulkDuckDbSink, whose
 * per-table write queue this path shares), and only against rows within SNOWPLOW_DEDUPE_WINDOW_HOURS of the
 * batch's event times: the filter on derived_tstamp skips the other row groups by their min/max, so its cost
 * follows the recent rows, not the table (the whole-table semi-join cost 0.78 CPU-s per 100k events with 5 M
 * rows landed; 0.07 s windowed). The JS path (BulkDuckDbSink) still checks the whole table: the two differ
 * only for an id seen again more than the window apart. A file DuckDB cannot read this way (gzip, invalid
 * UTF-8, a lone `\r`, which readline treats as a line break) goes to the JS path before anything landed.
 * Differences from the JS path, by design: a file is one batch (the JS path dedupes per 10k lines, so a duplicate collected
 * earlier but landing in a later batch loses there and wins here; watermark and re-opened hours move per
 * file), and read_text holds the whole file in memory (hourly landing files: tens of MB).
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
  /** Why the JS path took the file (for logs and tests). */
  readonly fallbackReason?: string;
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const col = (f: EnrichedField): string => `c${ENRICHED_FIELDS.indexOf(f)}`;
const TAB = 'chr(9)';

/** JSON.stringify(s) cut to 64 characters, as parse.ts `show()`. */
const show = (e: string): string =>
  `to_json(CASE WHEN length(${e}) > 64 THEN left(${e}, 64) || '…' ELSE ${e} END)::VARCHAR`;

/** parseSnowplowTstamp's grammar (`YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z]`) and calendar: text `e`, its tsVal `t`. */
const tsOk = (e: string, t: string): string =>
  `(regexp_full_match(${e}, '\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z?') AND ${t} IS NOT NULL)`;

/**
 * The instant (UTC wall time as TIMESTAMP: cast to TIMESTAMPTZ only on insert, connections run in UTC),
 * truncated to milliseconds as the JS parser: the first 23 characters end at the third fraction digit. A
 * try-cast, so safe on any text (NULL when not a timestamp).
 */
const tsVal = (e: string): string => `try_cast(left(${e}, 23) AS TIMESTAMP)`;

/** parse.ts `str()`: JSON strings as themselves, numbers and booleans as text, anything else NULL. */
const jstr = (doc: string, path: string): string =>
  `CASE WHEN json_type(${doc}, ${lit(path)}) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN') ` +
  `THEN json_extract_string(${doc}, ${lit(path)}) END`;

/** str() of a JSON leaf. */
const jleaf = (j: string): string =>
  `CASE WHEN json_type(${j}) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN') THEN json_extract_string(${j}, '$') END`;

/** The parts of a contexts envelope we flatten (json_transform: lenient, one parse). */
const CONTEXT_SHAPE = JSON.stringify({
  data: [{ schema: 'VARCHAR', data: { experiment_key: 'JSON', variant: 'JSON', listing_id: 'JSON' } }],
});

const EXPOSURE = lit(SCHEMAS.experimentExposure);
const LISTING = lit(SCHEMAS.listing);
const LINK_CLICK = lit(SCHEMAS.linkClick);

/**
 * Every non-blank line with its number in the file (blank lines count, as in ingestSnowplowFile), and on each
 * row `total`, the file's line count as readline gives it. A trailing \r (CRLF files) is not part of the line,
 * as with readline's crlfDelay.
 */
function linesSql(file: string): string {
  return `SELECT line_no, line, total FROM (
      SELECT line_no, CASE WHEN suffix(raw, chr(13)) THEN raw[:-2] ELSE raw END AS line, total
      FROM (SELECT generate_subscripts(ls, 1) AS line_no, unnest(ls) AS raw,
              len(ls) - CASE WHEN ls[-1] = '' THEN 1 ELSE 0 END AS total
            FROM (SELECT string_split(content, chr(10)) AS ls FROM read_text(${lit(file)}))))
    WHERE line <> ''`;
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

/** Fields only the checks read: rows keep their typed values (collector, derived, dvce) instead. */
const CHECK_ONLY: readonly EnrichedField[] = ['collector_tstamp', 'derived_tstamp', 'dvce_created_tstamp'];

/**
 * Each line (line_no, line, total: linesSql) with its fields, split in SQL (`string_split` on tab: the field
 * list of parse.ts, so a row is always its own line's fields), its quarantine reason (NULL when valid) and typed
 * collector, derived and dvce times (try-casts: safe on any line). One table: lines and fields are read once.
 */
function rowsSql(lines: string): string {
  const fields = USED.map((u) => `f[${ENRICHED_FIELDS.indexOf(u) + 1}] AS ${col(u)}`).join(', ');
  const kept = USED.filter((u) => !CHECK_ONLY.includes(u)).map(col);
  return `SELECT line_no, line, total, ${reasonSql()} AS reason, t_collector AS collector,
      CASE WHEN ${f('derived_tstamp')} = '' THEN t_collector ELSE t_derived END AS derived,
      CASE WHEN ${f('dvce_created_tstamp')} <> '' THEN t_dvce END AS dvce, ${kept.join(', ')}
    FROM (SELECT *, ${tsVal(f('collector_tstamp'))} AS t_collector, ${tsVal(f('derived_tstamp'))} AS t_derived,
            ${tsVal(f('dvce_created_tstamp'))} AS t_dvce
          FROM (SELECT line_no, line, total, len(f) AS n_fields, ${fields}
                FROM (SELECT line_no, line, total, string_split(line, ${TAB}) AS f FROM (${lines}))))`;
}

const f = (name: EnrichedField): string => col(name);

/** parseEnrichedLine's checks in its order (the first failure wins); NULL for a valid line. */
function reasonSql(): string {
  const ev = f('event');
  // JSON functions get NULL, never '' (an error): DuckDB may evaluate a CASE branch on rows it then drops.
  const ue = `nullif(${f('unstruct_event')}, '')`;
  const ctx = `nullif(${f('contexts')}, '')`;
  const collector = f('collector_tstamp');
  const derived = f('derived_tstamp');
  const dvce = f('dvce_created_tstamp');
  const idx = f('domain_sessionidx');
  const se = f('se_value');
  const n = ENRICHED_FIELD_COUNT;
  return `CASE
      WHEN n_fields > ${n} THEN 'field_count: expected ${n} fields, got more'
      WHEN n_fields < ${n} THEN 'field_count: expected ${n} fields, got ' || n_fields
      WHEN ${f('event_id')} = '' THEN 'missing_event_id: event_id is empty'
      WHEN NOT coalesce(${tsOk(collector, 't_collector')}, false) THEN 'bad_timestamp: collector_tstamp ' || ${show(`coalesce(${collector}, '')`)}
      WHEN ${derived} <> '' AND NOT ${tsOk(derived, 't_derived')} THEN 'bad_timestamp: derived_tstamp ' || ${show(derived)}
      WHEN ${dvce} <> '' AND NOT ${tsOk(dvce, 't_dvce')} THEN 'bad_timestamp: dvce_created_tstamp ' || ${show(dvce)}
      WHEN ${ev} = 'unstruct' AND NOT coalesce(json_valid(${ue}), false) THEN 'invalid_json: unstruct_event: not valid JSON'
      WHEN ${ev} = 'unstruct' AND json_type(${ue}, '$.data.schema') IS DISTINCT FROM 'VARCHAR' THEN 'invalid_json: unstruct_event: not a self-describing event'
      WHEN ${ev} = 'unstruct' AND json_extract_string(${ue}, '$.data.schema') <> ${LINK_CLICK} THEN 'unsupported_event: unstruct ' || ${show(`json_extract_string(${ue}, '$.data.schema')`)}
      WHEN ${ev} IS DISTINCT FROM 'unstruct' AND coalesce(${ev} NOT IN ('page_view', 'page_ping', 'struct'), true) THEN 'unsupported_event: event ' || ${show(`coalesce(${ev}, '')`)}
      WHEN ${ctx} IS NOT NULL AND NOT json_valid(${ctx}) THEN 'invalid_json: contexts: not valid JSON'
      WHEN ${ctx} IS NOT NULL AND json_type(${ctx}, ['$.schema', '$.data']) IS DISTINCT FROM ['VARCHAR', 'ARRAY'] THEN 'invalid_json: contexts: not a self-describing array'
      WHEN ${ctx} IS NOT NULL AND len(list_filter(json_type(${ctx}, '$.data[*].schema'), t -> t = 'VARCHAR')) <> json_array_length(${ctx}, '$.data') THEN 'invalid_json: contexts: entry without schema'
      WHEN ${idx} <> '' AND NOT coalesce(isfinite(try_cast(${idx} AS DOUBLE)) AND try_cast(${idx} AS DOUBLE) = floor(try_cast(${idx} AS DOUBLE)), false) THEN 'bad_number: domain_sessionidx ' || ${show(idx)}
      WHEN ${se} <> '' AND NOT coalesce(isfinite(try_cast(${se} AS DOUBLE)), false) THEN 'bad_number: se_value ' || ${show(se)}
    END`;
}

/** Rows to land: valid lines, one per event_id (the first by collector time, then by line). */
const KEEP = `reason IS NULL AND (first_line IS NULL OR line_no = first_line)`;
const KEPT_ROWS = `np_rows LEFT JOIN np_dups USING (${col('event_id')}) WHERE ${KEEP}`;

/**
 * The events table's columns from the rows to land that are not in the table yet (np_landed: the file's ids
 * already there, found by a narrow semi-join, so the anti-join builds on a small table rather than on the wide
 * rows; exact with one writer per table, see serializedWrite). JSON is only read on rows that passed the checks.
 */
function eventsSelect(): string {
  const ev = f('event');
  const ue = `nullif(${f('unstruct_event')}, '')`;
  const ctx = `nullif(${f('contexts')}, '')`;
  // Contexts that passed the checks: one parse into typed entries, leaves kept as JSON for str().
  const entries = `json_transform(${ctx}, ${lit(CONTEXT_SHAPE)}).data`;
  const exposures = `list_transform(list_filter(entries, e -> e.schema = ${EXPOSURE}),
      e -> {'experiment_key': ${jleaf('e.data.experiment_key')}, 'variant': ${jleaf('e.data.variant')}})`;
  const listing = `list_filter(list_transform(list_filter(entries, e -> e.schema = ${LISTING}),
      e -> ${jleaf('e.data.listing_id')}), x -> x IS NOT NULL)[1]`;
  const exprs = SNOWPLOW_EVENT_COLUMNS.map((c) => {
    switch (c.name) {
      case 'collector_tstamp':
        return 'collector::TIMESTAMPTZ AS collector_tstamp';
      case 'derived_tstamp':
        return 'derived::TIMESTAMPTZ AS derived_tstamp';
      case 'dvce_created_tstamp':
        return 'dvce::TIMESTAMPTZ AS dvce_created_tstamp';
      case 'event_name':
        return `CASE WHEN ${ev} = 'unstruct' THEN 'link_click' ELSE ${ev} END AS event_name`;
      case 'domain_sessionidx':
        return `CAST(CAST(nullif(${f('domain_sessionidx')}, '') AS DOUBLE) AS BIGINT) AS domain_sessionidx`;
      case 'se_value':
        return `CAST(nullif(${f('se_value')}, '') AS DOUBLE) AS se_value`;
      case 'link_target_url':
        return `CASE WHEN ${ev} = 'unstruct' THEN ${jstr(ue, '$.data.data.targetUrl')} END AS link_target_url`;
      case 'experiment_key':
        return `CASE WHEN len(exposures) > 0 THEN exposures[1].experiment_key END AS experiment_key`;
      case 'experiment_variant':
        return `CASE WHEN len(exposures) > 0 THEN exposures[1].variant END AS experiment_variant`;
      case 'experiment_exposures':
        return `CASE WHEN len(exposures) > 0 THEN to_json(exposures) END AS experiment_exposures`;
      case 'listing_id':
        return `${listing} AS listing_id`;
      case 'event_hour':
        return `strftime(derived, '%Y-%m-%dT%H') AS event_hour`;
      case 'raw_line':
        return 'line AS raw_line';
      default:
        return `nullif(${col(c.name as EnrichedField)}, '') AS ${c.name}`;
    }
  });
  return `SELECT ${exprs.join(', ')} FROM (SELECT *, ${exposures} AS exposures
    FROM (SELECT *, ${entries} AS entries FROM np_rows LEFT JOIN np_dups USING (${col('event_id')})
      ANTI JOIN np_landed USING (${col('event_id')}) WHERE ${KEEP}))`;
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const tableRef = (table: string): string =>
  table
    .split('.')
    .map((p) => q(p))
    .join('.');

export interface NativeResult {
  readonly ok: boolean;
  /** NULL when the file has no non-blank line (np_rows is empty). */
  readonly lines: number | null;
  readonly inserted: number;
  readonly quarantined: number;
  readonly parsed: number;
  readonly distinct_ids: number;
  /** Quarantined lines per reason code (NULL when none). */
  readonly by_code: Readonly<Record<string, number>> | null;
  readonly hours: string | null;
  readonly latest: string | null;
}

/**
 * Lands one landing file (plain `.tsv`) natively; `.gz` files, files with a lone `\r` and files DuckDB cannot
 * read (invalid UTF-8) go through the JS path (`ingestSnowplowFile`). The events and quarantine inserts are one
 * transaction: a crash lands all or nothing, a replay inserts nothing.
 */
export async function ingestSnowplowFileNative(
  file: string,
  options: NativeFileOptions,
): Promise<NativeFileSummary> {
  const { engine, loader } = options;
  const stream = options.stream ?? 'landing';
  const js = async (fallbackReason: string): Promise<NativeFileSummary> => ({
    ...(await ingestSnowplowFile(file, { loader, stream })),
    path: 'js',
    fallbackReason,
  });
  if (engine.name !== 'duckdb') return js(`engine ${engine.name}`);
  if (file.endsWith('.gz')) return js('gzip');
  const table = options.table ?? SNOWPLOW_EVENTS_TABLE;
  await ensureTables(engine, table);

  let res: NativeResult;
  try {
    res = await runNativeLanding(engine, table, nativeLandSql(file, table));
  } catch (e) {
    // The engine rolls back a script that failed inside its transaction before reusing the connection.
    // e.g. invalid UTF-8: the JS path decides line by line (and surfaces real engine failures).
    return js(e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e));
  }
  if (!res.ok) return js('a lone carriage return (a line break to readline)');

  const hours = observeNativeLanding(res, loader, stream);
  return {
    lines: res.lines ?? (await countLines(engine, file)),
    parsed: Number(res.parsed),
    inserted: Number(res.inserted),
    quarantined: Number(res.quarantined),
    ...hours,
    watermark: loader.watermark.value,
    path: 'native',
  };
}

/** Runs a nativeLandSql script on the table's write queue; its result (throws what DuckDB threw). */
export async function runNativeLanding(engine: Engine, table: string, sql: string): Promise<NativeResult> {
  const [row] = await serializedWrite(engine, table, () => engine.query<{ result: string }>(sql));
  return JSON.parse(row?.result ?? 'null') as NativeResult;
}

/**
 * Moves the loader's watermark past a native landing and returns its hours, as SnowplowLoader.load does:
 * touched hours (none when nothing was new) and, among them, those closed before this landing.
 */
export function observeNativeLanding(
  res: NativeResult,
  loader: SnowplowLoader,
  stream: string,
): { touchedHours: string[]; reopenedHours: string[] } {
  const wm = loader.watermark;
  const hours = res.hours ? res.hours.split(',') : [];
  const closedBefore = new Set(hours.filter((h) => wm.isClosed(h)));
  if (res.latest) wm.observe(stream, res.latest);
  const touched = res.inserted === 0 ? [] : hours;
  return { touchedHours: touched, reopenedHours: touched.filter((h) => closedBefore.has(h)) };
}

/**
 * The whole landing of one file as one SQL string (one connection: the temp tables are per connection).
 * Reading and validating run before BEGIN, so a failure there leaves no transaction open. The inserts only
 * run when no line holds a lone \r (np_ok); otherwise nothing lands and the JS path takes the file.
 * `inserted` is the count difference inside the transaction, exact whatever else writes the table.
 */
export function nativeLandSql(
  file: string,
  table: string = SNOWPLOW_EVENTS_TABLE,
  /** SQL for a quarantined line's origin, given its line number (default `file:line`). */
  origin: (lineNo: string) => string = (lineNo) => `${lit(`${file}:`)} || ${lineNo}`,
): string {
  const target = tableRef(table);
  const id = col('event_id');
  const win = `INTERVAL ${SNOWPLOW_DEDUPE_WINDOW_HOURS} HOUR`;
  return `
    CREATE OR REPLACE TEMP TABLE np_rows AS ${rowsSql(linesSql(file))};
    CREATE OR REPLACE TEMP TABLE np_dups AS
      SELECT ${id}, arg_min(line_no, (collector, line_no)) AS first_line FROM np_rows
      WHERE reason IS NULL GROUP BY ${id} HAVING count(*) > 1;
    SET VARIABLE np_ok = NOT EXISTS (SELECT 1 FROM np_rows WHERE contains(line, chr(13)));
    SET VARIABLE np_lo = (SELECT (min(derived) - ${win})::TIMESTAMPTZ FROM np_rows WHERE reason IS NULL);
    SET VARIABLE np_hi = (SELECT (max(derived) + ${win})::TIMESTAMPTZ FROM np_rows WHERE reason IS NULL);
    BEGIN TRANSACTION;
    SET VARIABLE np_before = (SELECT count(*) FROM ${target});
    CREATE OR REPLACE TEMP TABLE np_landed AS
      SELECT ${id} FROM np_rows SEMI JOIN (SELECT event_id, derived_tstamp FROM ${target}
          WHERE derived_tstamp BETWEEN getvariable('np_lo') AND getvariable('np_hi')) AS landed
        ON landed.event_id = ${id} AND landed.derived_tstamp BETWEEN (derived - ${win})::TIMESTAMPTZ AND (derived + ${win})::TIMESTAMPTZ
      WHERE reason IS NULL;
    INSERT INTO ${target} BY NAME ${eventsSelect()} WHERE getvariable('np_ok');
    SET VARIABLE np_inserted = (SELECT count(*) FROM ${target}) - getvariable('np_before');
    INSERT OR IGNORE INTO ${tableRef(QUARANTINE_TABLE)} BY NAME
      SELECT ${lit(SNOWPLOW_SOURCE)} AS source, ${origin('line_no')} AS origin, reason, line AS raw,
        now() AS quarantined_at
      FROM np_rows WHERE reason IS NOT NULL AND getvariable('np_ok');
    COMMIT;
    SET VARIABLE np_result = (SELECT {
      'ok': getvariable('np_ok'),
      'lines': (SELECT any_value(total) FROM np_rows)::INTEGER,
      'inserted': getvariable('np_inserted')::INTEGER,
      'quarantined': (SELECT count(*) FROM np_rows WHERE reason IS NOT NULL)::INTEGER,
      'parsed': (SELECT count(*) FROM np_rows WHERE reason IS NULL)::INTEGER,
      'distinct_ids': (SELECT count(DISTINCT ${id}) FROM np_rows WHERE reason IS NULL)::INTEGER,
      'by_code': (SELECT json_group_object(code, n) FROM (SELECT split_part(reason, ':', 1) AS code, count(*)::INTEGER AS n
        FROM np_rows WHERE reason IS NOT NULL GROUP BY code)),
      'hours': (SELECT string_agg(DISTINCT strftime(derived, '%Y-%m-%dT%H'), ',' ORDER BY strftime(derived, '%Y-%m-%dT%H')) FROM ${KEPT_ROWS}),
      'latest': (SELECT strftime(max(derived), '%Y-%m-%dT%H:%M:%S.%gZ') FROM np_rows WHERE reason IS NULL)});
    DROP TABLE np_rows; DROP TABLE np_dups; DROP TABLE np_landed;
    SELECT to_json(getvariable('np_result'))::VARCHAR AS result;`;
}

/** Lines as readline counts them, for a file without events (only blank lines, or empty). */
async function countLines(engine: Engine, file: string): Promise<number> {
  const [row] = await engine.query<{ n: number }>(
    `SELECT (len(ls) - CASE WHEN ls[-1] = '' THEN 1 ELSE 0 END)::INTEGER AS n
     FROM (SELECT string_split(content, chr(10)) AS ls FROM read_text(${lit(file)}))`,
  );
  return Number(row?.n ?? 0);
}

const ensured = new WeakMap<Engine, Set<string>>();

/** The tables the JS path (BulkDuckDbSink) creates: no key index on the events table, the quarantine's key. */
export async function ensureTables(engine: Engine, table: string): Promise<void> {
  let done = ensured.get(engine);
  if (!done) ensured.set(engine, (done = new Set()));
  if (done.has(table)) return;
  const sink = new EngineRawSink(engine);
  await sink.ensureTable(table, SNOWPLOW_EVENT_COLUMNS, []);
  await sink.ensureTable(QUARANTINE_TABLE, QUARANTINE_COLUMNS, QUARANTINE_KEY);
  done.add(table);
}
