import { EngineError } from '../errors.js';

/**
 * Portable SQL: the few spellings asset SQL needs that engines write differently (date arithmetic, "value at the
 * row with the greatest y", conditional aggregates, timestamp formatting, type names). Asset SQL calls them as
 * template macros (`{{ arg_max(x, y) }}`, `{{ t.text }}`: template.ts), each dialect renders them, and a new
 * engine overrides only the rows it spells differently (`portable` on its SqlDialect, `{ ...ANSI_PORTABLE, .. }`).
 *
 * Every macro has ONE meaning on every engine, including for NULLs (written on each member below); an engine
 * whose native function means something else spells the meaning out instead of borrowing the name.
 */

/** Type names for casts in asset SQL and in activities (`{{ t.text }}`, `{{ t.bigint }}`, ...). */
export interface PortableTypes {
  readonly text: string;
  /** 64-bit signed integer. */
  readonly bigint: string;
  /** 64-bit IEEE float. */
  readonly double: string;
  readonly boolean: string;
  readonly date: string;
  /** A timestamp without time zone holding microseconds (asset SQL's instants are UTC). */
  readonly timestamp: string;
}

/** Fields of a timestamp format: fixed width, zero-padded (year: 4 digits), all in UTC. */
export type FormatField = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';
/** A timestamp format: fields and literal text, in order. */
export type FormatPart = { readonly field: FormatField } | { readonly text: string };

export interface PortableSql {
  readonly types: PortableTypes;
  /**
   * An exact decimal type of `precision` digits, `scale` of them after the point (1 <= precision <= 38, the
   * portable range; 0 <= scale <= precision), that holds every such value: `{{ t.decimal(38, 6) }}`. A CAST
   * to it rounds half away from zero to `scale` digits, except on the BigQuery emulator, which ignores a
   * type's parameters (it keeps every digit: exact inputs with at most `scale` digits are unaffected).
   */
  decimal(precision: number, scale: number): string;
  /**
   * An exact numeric literal (`{{ exact_number(0.99) }}`; digits with an optional point): ANSI SQL reads
   * `0.99` as a DECIMAL, GoogleSQL as a FLOAT64, which would turn the arithmetic around it inexact.
   */
  exactNumber(digits: string): string;
  /** Whole days from date `start` to date `end` (`end - start`; negative when end is earlier). */
  dateDiffDays(start: string, end: string): string;
  /** Timestamp `ts` moved by a whole number of minutes (negative: earlier). */
  addMinutes(ts: string, minutes: number): string;
  /**
   * Aggregate: `value` at the row with the greatest `orderBy`, among the rows where BOTH are non-null (DuckDB's
   * `arg_max`; Trino's and Spark's `max_by` keep a NULL value, so they are fed an order of NULL for those rows).
   * Ties pick any of the tied rows. NULL when no row qualifies.
   */
  argMax(value: string, orderBy: string): string;
  /** As argMax, at the least `orderBy`. */
  argMin(value: string, orderBy: string): string;
  /** Timestamp as text in the given format (see FormatPart). */
  formatTimestamp(ts: string, format: readonly FormatPart[]): string;
  /** Aggregate: rows where `cond` is true (0 when none). */
  countIf(cond: string): string;
  /** Aggregate: sum of `value` over rows where `cond` is true (NULL when none). */
  sumIf(value: string, cond: string): string;
  /** Aggregate: distinct non-null `value`s over rows where `cond` is true (0 when none). */
  countDistinctIf(value: string, cond: string): string;
}

/** strftime letters of each field (DuckDB, BigQuery, C). */
export const STRFTIME_LETTERS: Readonly<Record<FormatField, string>> = {
  year: '%Y',
  month: '%m',
  day: '%d',
  hour: '%H',
  minute: '%M',
  second: '%S',
};

/** Java DateTimeFormatter / Joda letters of each field (Spark's date_format, Trino's format_datetime). */
export const JAVA_FORMAT_LETTERS: Readonly<Record<FormatField, string>> = {
  year: 'yyyy',
  month: 'MM',
  day: 'dd',
  hour: 'HH',
  minute: 'mm',
  second: 'ss',
};

/** MySQL date_format letters of each field (Trino's date_format). */
export const MYSQL_FORMAT_LETTERS: Readonly<Record<FormatField, string>> = {
  year: '%Y',
  month: '%m',
  day: '%d',
  hour: '%H',
  minute: '%i',
  second: '%s',
};

const STRFTIME_FIELDS: Readonly<Record<string, FormatField>> = {
  Y: 'year',
  m: 'month',
  d: 'day',
  H: 'hour',
  M: 'minute',
  S: 'second',
};

/**
 * Parses the strftime subset asset SQL may use in `{{ format_timestamp(ts, '<pattern>') }}`: %Y %m %d %H %M %S,
 * %% and literal text. Anything else (%j, %b, ...) is refused: every engine must be able to spell the format.
 */
export function parseStrftime(engine: string, pattern: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let text = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '%') {
      text += c;
      continue;
    }
    const letter = pattern[i + 1] ?? '';
    i++;
    if (letter === '%') {
      text += '%';
      continue;
    }
    const field = STRFTIME_FIELDS[letter];
    if (!field)
      throw new EngineError(
        engine,
        `format '${pattern}': %${letter} is not portable; use %Y %m %d %H %M %S, %% and literal text`,
      );
    if (text) parts.push({ text });
    text = '';
    parts.push({ field });
  }
  if (text) parts.push({ text });
  return parts;
}

/**
 * A format in a letter-based pattern language; literal text is quoted with `quoteText` (each language escapes
 * its own letters differently). The result is the pattern's content, without the SQL string quotes.
 */
export function formatPattern(
  format: readonly FormatPart[],
  letters: Readonly<Record<FormatField, string>>,
  quoteText: (text: string) => string,
): string {
  return format.map((p) => ('field' in p ? letters[p.field] : quoteText(p.text))).join('');
}

/** A SQL string literal (single quotes doubled). */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** strftime escapes only `%`. */
export const strftimeText = (text: string): string => text.replaceAll('%', '%%');

/** Java patterns quote letters with '...' ('' is a quote); digits and punctuation stand as they are. */
export const javaText = (text: string): string =>
  /[A-Za-z']/.test(text) ? `'${text.replaceAll("'", "''")}'` : text;

const pad = (expr: string, width: number, text: string): string =>
  `lpad(CAST(${expr} AS ${text}), ${width}, '0')`;

/**
 * The defaults: ANSI SQL where the standard has a spelling (types, FILTER clauses from SQL:2003, interval
 * literals, EXTRACT), else the spelling most engines share (`date_diff('day', ..)`: DuckDB, Trino; `max_by`:
 * Trino, Spark, ClickHouse's argMax aside). Engines override what they spell differently.
 */
export const ANSI_PORTABLE: PortableSql = {
  types: {
    text: 'VARCHAR',
    bigint: 'BIGINT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  },
  decimal: (precision, scale) => `DECIMAL(${precision},${scale})`,
  exactNumber: (digits) => digits,
  dateDiffDays: (start, end) => `date_diff('day', ${start}, ${end})`,
  // A signed interval string ('-30') is not read alike everywhere: the sign goes to the operator.
  addMinutes: (ts, minutes) =>
    minutes < 0 ? `(${ts} - INTERVAL '${-minutes}' MINUTE)` : `(${ts} + INTERVAL '${minutes}' MINUTE)`,
  // max_by keeps a NULL value; an order of NULL leaves such rows out, as the definition says.
  argMax: (value, orderBy) => `max_by(${value}, CASE WHEN (${value}) IS NOT NULL THEN ${orderBy} END)`,
  argMin: (value, orderBy) => `min_by(${value}, CASE WHEN (${value}) IS NOT NULL THEN ${orderBy} END)`,
  // No standard formatting function: EXTRACT each field and pad it (seconds floored: some engines keep the
  // fraction in EXTRACT(SECOND ..)).
  formatTimestamp(ts, format) {
    // `this`: the dialect's own table, so an engine that overrides only `types` still casts to its text type.
    const text = this.types.text;
    const field = (f: FormatField): string => {
      const extracted = `EXTRACT(${f.toUpperCase()} FROM ${ts})`;
      if (f === 'year') return pad(extracted, 4, text);
      if (f === 'second') return pad(`CAST(floor(${extracted}) AS BIGINT)`, 2, text);
      return pad(extracted, 2, text);
    };
    const parts = format.map((p) => ('field' in p ? field(p.field) : sqlString(p.text)));
    return parts.length === 1 ? (parts[0] ?? "''") : `(${parts.join(' || ')})`;
  },
  countIf: (cond) => `count(*) FILTER (WHERE ${cond})`,
  sumIf: (value, cond) => `sum(${value}) FILTER (WHERE ${cond})`,
  countDistinctIf: (value, cond) => `count(DISTINCT ${value}) FILTER (WHERE ${cond})`,
};
