import { SqlDialect, utcTimestampText } from '../../engines/dialect/dialect.js';
import { ENGINES, type EngineRegistration } from '../../engines/registry.js';
import type { Engine } from '../../engines/types.js';
import type { RawColumn, RawColumnType, RawRow, RawValue } from '../types.js';

/**
 * Raw rows as SQL of a server engine (Trino, BigQuery, Spark): column types, typed literals and a relation of
 * literal rows, each in the engine's own spelling. No bind parameters: Trino's client renders parameters as
 * literals anyway, the BigQuery emulator decodes STRING parameters as integers, and a relation of literals is
 * one statement however many rows it holds (within the engine's statement size, see `statementBudget`).
 */

/** The dialect an engine renders with (its own instance when it has one: BigQuery's names its datasets). */
export function engineDialect(engine: Engine): SqlDialect {
  const own = (engine as { readonly dialect?: unknown }).dialect;
  if (own instanceof SqlDialect) return own;
  const registration = (ENGINES as Readonly<Record<string, EngineRegistration | undefined>>)[engine.name];
  if (!registration) throw new Error(`no dialect registered for engine '${engine.name}'`);
  return registration.dialect;
}

/**
 * Characters one statement may hold: Trino refuses statements over `query.max-length` (default 1,000,000),
 * BigQuery over 1,024 K characters of query text. Kept below both, with room for the statement around the rows.
 */
export const STATEMENT_BUDGET = 900_000;

/**
 * The engine type a raw column type is stored as. Timestamps are the portable timestamp (UTC by convention,
 * microseconds: what asset SQL compares them with); JSON documents are text (Iceberg has no JSON type);
 * decimals keep 10 fraction digits as on DuckDB (BigQuery: BIGNUMERIC, since NUMERIC keeps 9).
 */
export function columnSqlType(d: SqlDialect, type: RawColumnType): string {
  const t = d.portable.types;
  switch (type) {
    case 'varchar':
    case 'json':
      return t.text;
    case 'bigint':
      return t.bigint;
    case 'double':
      return t.double;
    case 'boolean':
      return t.boolean;
    case 'date':
      return t.date;
    case 'timestamp':
      return t.timestamp;
    case 'decimal':
      return d.name === 'bigquery' ? 'BIGNUMERIC' : d.types.decimal(38, 10);
  }
}

/** The raw column type of an engine column type (what `describe` reports; unknown types read as text). */
export function rawTypeOf(d: SqlDialect, engineType: string): RawColumnType {
  switch (d.types.parse(engineType).family) {
    case 'integer':
      return 'bigint';
    case 'decimal':
      return 'decimal';
    case 'float':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
    case 'timestamptz':
      return 'timestamp';
    case 'json':
      return 'json';
    default:
      // The BigQuery emulator reports FLOAT64 columns as DOUBLE, a name GoogleSQL itself does not have.
      return /^DOUBLE\b/i.test(engineType.trim()) ? 'double' : 'varchar';
  }
}

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function bad(column: string, type: RawColumnType, v: RawValue): Error {
  return new Error(`column ${column} (${type}) cannot hold ${JSON.stringify(v)}`);
}

/** A number's exact decimal text (no exponent), for DECIMAL literals. */
function plainDecimal(n: number): string {
  const text = String(n);
  if (!/e/i.test(text)) return text;
  // Exponent form: toFixed holds up to 100 fraction digits; trailing zeros add nothing.
  return n.toFixed(20).replace(/\.?0+$/, '');
}

/**
 * One non-null value as a SQL expression of the column's engine type. Negative numbers are cast from text:
 * the BigQuery emulator has no unary minus.
 */
export function valueSql(d: SqlDialect, column: RawColumn, v: RawValue): string {
  const sqlType = castType(d, column.type);
  if (v === null) return `CAST(NULL AS ${sqlType})`;
  switch (column.type) {
    case 'varchar':
    case 'json':
      return textLiteral(d, typeof v === 'string' ? v : String(v));
    case 'bigint': {
      const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
      if (typeof text !== 'string' || !INTEGER.test(text)) throw bad(column.name, column.type, v);
      return text.startsWith('-') ? `CAST('${text}' AS ${sqlType})` : text;
    }
    case 'double': {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        if (typeof v === 'string' && DECIMAL.test(v)) return `CAST('${v}' AS ${sqlType})`;
        throw bad(column.name, column.type, v);
      }
      const text = String(v);
      if (v < 0 || Object.is(v, -0)) return `CAST('${text}' AS ${sqlType})`;
      // A literal with an exponent is a double on every engine (3.5 alone would be a DECIMAL on Trino).
      return /e/.test(text) ? text.replace('e+', 'E').replace('e', 'E') : `${text}E0`;
    }
    case 'decimal': {
      const text = typeof v === 'number' && Number.isFinite(v) ? plainDecimal(v) : v;
      if (typeof text !== 'string' || !DECIMAL.test(text)) throw bad(column.name, column.type, v);
      return `CAST('${text}' AS ${sqlType})`;
    }
    case 'boolean':
      if (v === true || v === 'true') return 'TRUE';
      if (v === false || v === 'false') return 'FALSE';
      throw bad(column.name, column.type, v);
    case 'date':
      if (typeof v !== 'string' || !DATE.test(v)) throw bad(column.name, column.type, v);
      return `DATE '${v}'`;
    case 'timestamp':
      if (typeof v !== 'string') throw bad(column.name, column.type, v);
      return timestampSql(d, v);
  }
}

/**
 * A string literal. Spark reads backslash escapes in string literals and joins adjacent literals ('a''b' is
 * 'ab'), so quotes and backslashes are escaped with backslashes there; BigQuery's dialect does the same.
 */
export function textLiteral(d: SqlDialect, text: string): string {
  if (d.name !== 'spark') return d.literal(text);
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** An ISO-8601 instant as a timestamp of the raw column type (UTC, microseconds). */
export function timestampSql(d: SqlDialect, iso: string): string {
  // BigQuery: explicit zone, since the emulator reads a zone-less literal as America/Los_Angeles.
  if (d.name === 'bigquery') return `TIMESTAMP '${utcTimestampText(d.name, iso)}+00'`;
  return d.timestampLiteral(iso);
}

/**
 * A value as the canonical text its column type is cast from (Trino's JSON rows): the same checks as valueSql;
 * timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` UTC, decimals without an exponent.
 */
export function cellText(column: RawColumn, v: RawValue): string | null {
  if (v === null) return null;
  switch (column.type) {
    case 'varchar':
    case 'json':
      return typeof v === 'string' ? v : String(v);
    case 'bigint': {
      const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
      if (typeof text !== 'string' || !INTEGER.test(text)) throw bad(column.name, column.type, v);
      return text;
    }
    case 'double':
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (typeof v === 'string' && DECIMAL.test(v)) return v;
      throw bad(column.name, column.type, v);
    case 'decimal': {
      const text = typeof v === 'number' && Number.isFinite(v) ? plainDecimal(v) : v;
      if (typeof text !== 'string' || !DECIMAL.test(text)) throw bad(column.name, column.type, v);
      return text;
    }
    case 'boolean':
      if (v === true || v === 'true') return 'true';
      if (v === false || v === 'false') return 'false';
      throw bad(column.name, column.type, v);
    case 'date':
      if (typeof v !== 'string' || !DATE.test(v)) throw bad(column.name, column.type, v);
      return v;
    case 'timestamp':
      if (typeof v !== 'string') throw bad(column.name, column.type, v);
      return utcTimestampText('trino', v);
  }
}

/** The type casts and literal constructions name: BigQuery refuses parameterized types there. */
function castType(d: SqlDialect, type: RawColumnType): string {
  return columnSqlType(d, type);
}

/**
 * A relation (usable after FROM, needing an alias) of literal rows with exactly `columns`, in order. Trino: a
 * JSON array of text cells, unnested and cast. BigQuery has no VALUES relation: a typed array of structs,
 * unnested. Elsewhere `(VALUES …) AS s(…)`; the first row's NULLs are cast so every column has its type even
 * when all its values are NULL.
 */
export function rowsRelation(
  d: SqlDialect,
  columns: readonly RawColumn[],
  rendered: readonly string[],
  alias: string,
): string {
  const names = columns.map((c) => d.quote(c.name));
  if (d.name === 'trino') {
    // One JSON string literal of text cells, cast per column: Trino analyzes a VALUES list row by row and
    // expression by expression (seconds per thousand rows), a string literal not at all.
    const cells = `CAST(json_parse(${d.literal(`[${rendered.join(',')}]`)}) AS ARRAY(ARRAY(VARCHAR)))`;
    const select = columns.map(
      (c, i) => `CAST(${alias}_cells[${i + 1}] AS ${castType(d, c.type)}) AS ${names[i] ?? ''}`,
    );
    return `(SELECT ${select.join(', ')} FROM UNNEST(${cells}) AS ${alias}_rows(${alias}_cells)) AS ${alias}`;
  }
  if (d.name === 'bigquery') {
    const struct = columns.map((c, i) => `${names[i] ?? ''} ${castType(d, c.type)}`).join(', ');
    return `UNNEST(ARRAY<STRUCT<${struct}>>[${rendered.join(',\n')}]) AS ${alias}`;
  }
  return `(VALUES ${rendered.join(',\n')}) AS ${alias}(${names.join(', ')})`;
}

/** One row as the element `rowsRelation` takes (`first`: the first row of its relation). */
export function renderRow(d: SqlDialect, columns: readonly RawColumn[], row: RawRow, first: boolean): string {
  if (d.name === 'trino') return JSON.stringify(columns.map((c) => cellText(c, row[c.name] ?? null)));
  const values = columns.map((c) => {
    const v = row[c.name] ?? null;
    return v === null && !first ? 'NULL' : valueSql(d, c, v);
  });
  // A one-field tuple is a parenthesized expression in GoogleSQL, not a struct.
  if (d.name === 'bigquery' && columns.length === 1) return `STRUCT(${values[0] ?? 'NULL'})`;
  return `(${values.join(', ')})`;
}

/**
 * Rows rendered and cut into statement-sized chunks: each chunk's rendered rows add up to at most `budget`
 * characters (a single larger row is a chunk of its own and may fail on the engine).
 */
export function renderChunks(
  d: SqlDialect,
  columns: readonly RawColumn[],
  rows: readonly RawRow[],
  budget = STATEMENT_BUDGET,
): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const row of rows) {
    let text = renderRow(d, columns, row, current.length === 0);
    if (current.length > 0 && size + text.length + 2 > budget) {
      chunks.push(current);
      current = [];
      size = 0;
      text = renderRow(d, columns, row, true);
    }
    current.push(text);
    size += text.length + 2;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
