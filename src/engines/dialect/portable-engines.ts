import {
  ANSI_PORTABLE,
  formatPattern,
  JAVA_FORMAT_LETTERS,
  javaText,
  MYSQL_FORMAT_LETTERS,
  sqlString,
  STRFTIME_LETTERS,
  strftimeText,
  type PortableSql,
} from './portable.js';

/**
 * Portable SQL spellings of the engines whose dialects live in their own folders (src/engines/<engine>/), kept
 * here until each dialect takes its table: `override readonly portable = TRINO_PORTABLE;` (then move the
 * table next to the dialect). Only rows that differ from ANSI_PORTABLE are overridden; rendered-SQL tests
 * (test/engines/portable.test.ts) pin every spelling for every engine.
 */

/** Trino: ANSI defaults, but TIMESTAMP alone means TIMESTAMP(3) (milliseconds); MySQL-style date_format. */
export const TRINO_PORTABLE: PortableSql = {
  ...ANSI_PORTABLE,
  types: { ...ANSI_PORTABLE.types, timestamp: 'TIMESTAMP(6)' },
  // date_diff('day', start, end) and max_by/min_by are Trino's own: the defaults.
  // date_format ROUNDS to milliseconds (23:59:59.999999 formats as the next day): truncate to seconds first.
  formatTimestamp: (ts, format) =>
    `date_format(date_trunc('second', ${ts}), ${sqlString(formatPattern(format, MYSQL_FORMAT_LETTERS, (t) => t.replaceAll('%', '%%')))})`,
};

/**
 * Spark SQL (3.4+): no VARCHAR without a length (STRING), datediff(end, start), Java date_format patterns.
 * FILTER (WHERE ..) on aggregates, also with DISTINCT, and INTERVAL '30' MINUTE are Spark's own: defaults.
 */
export const SPARK_PORTABLE: PortableSql = {
  ...ANSI_PORTABLE,
  types: { ...ANSI_PORTABLE.types, text: 'STRING' },
  dateDiffDays: (start, end) => `datediff(${end}, ${start})`,
  formatTimestamp: (ts, format) =>
    `date_format(${ts}, ${sqlString(formatPattern(format, JAVA_FORMAT_LETTERS, javaText))})`,
};

/**
 * GoogleSQL's exact types: NUMERIC holds 29 digits before the point and 9 after; BIGNUMERIC 38 and 38.
 * Parameterized (`NUMERIC(P, S)`: P - S <= 29, S <= 9; `BIGNUMERIC(P, S)`: S <= 38, P - S <= 38), a CAST to
 * them rounds half away from zero to S digits.
 */
const bigqueryExactType = (integerDigits: number, scale: number): string =>
  integerDigits > 29 || scale > 9 ? 'BIGNUMERIC' : 'NUMERIC';

/**
 * BigQuery (GoogleSQL): its own type names, DATE_DIFF(end, start, DAY), TIMESTAMP_ADD, no FILTER clause
 * (COUNTIF and IF inside the aggregate). ARRAY_AGG(.. IGNORE NULLS ORDER BY .. LIMIT 1)[SAFE_OFFSET(0)] is
 * arg_max as defined (rows with a NULL value or order left out), where MAX_BY would keep a NULL value.
 */
export const BIGQUERY_PORTABLE: PortableSql = {
  types: {
    text: 'STRING',
    bigint: 'INT64',
    double: 'FLOAT64',
    boolean: 'BOOL',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  },
  decimal: (precision, scale) => `${bigqueryExactType(precision - scale, scale)}(${precision}, ${scale})`,
  exactNumber: (digits) => {
    const [before = '', after = ''] = digits.replace(/^[+-]/, '').split('.');
    return `${bigqueryExactType(before.length, after.length)} '${digits}'`;
  },
  dateDiffDays: (start, end) => `DATE_DIFF(${end}, ${start}, DAY)`,
  addMinutes: (ts, minutes) => `TIMESTAMP_ADD(${ts}, INTERVAL ${minutes} MINUTE)`,
  argMax: (value, orderBy) =>
    `ARRAY_AGG(IF((${orderBy}) IS NULL, NULL, ${value}) IGNORE NULLS ORDER BY ${orderBy} DESC LIMIT 1)[SAFE_OFFSET(0)]`,
  argMin: (value, orderBy) =>
    `ARRAY_AGG(IF((${orderBy}) IS NULL, NULL, ${value}) IGNORE NULLS ORDER BY ${orderBy} LIMIT 1)[SAFE_OFFSET(0)]`,
  // FORMAT_TIMESTAMP formats in UTC unless told otherwise.
  formatTimestamp: (ts, format) =>
    `FORMAT_TIMESTAMP(${sqlString(formatPattern(format, STRFTIME_LETTERS, strftimeText))}, ${ts})`,
  countIf: (cond) => `COUNTIF(${cond})`,
  sumIf: (value, cond) => `SUM(IF(${cond}, ${value}, NULL))`,
  countDistinctIf: (value, cond) => `COUNT(DISTINCT IF(${cond}, ${value}, NULL))`,
};
