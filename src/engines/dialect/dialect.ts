import { DateTime } from 'luxon';
import { EngineError, UnsupportedFeatureError } from '../errors.js';
import type { PartitionSelector } from '../types.js';
import { ANSI_PORTABLE, type PortableSql } from './portable.js';
import type { TypeMapper } from './type-mapper.js';

/**
 * The base of every SQL dialect: quoting, literals, names, and the few spellings and feature flags
 * in which engines differ. Renderers (replace.ts, scd2.ts, ...) are plain functions over a dialect;
 * they read no clock and do no I/O.
 *
 * An engine difference lives in exactly one place: a `features` flag (safe default: false, and the
 * renderer fails loudly through `require`), a `spell` row, a `portable` row, or one overridden method,
 * with a comment.
 */

/** What a dialect can do. Defaults are false: a missing flag makes a renderer refuse, never guess. */
export interface DialectFeatures {
  /** `QUALIFY` after window functions; without it, dedupes render as a row_number() subquery. */
  readonly supportsQualify: boolean;
  /** Session-local `CREATE TEMP TABLE`; staging for replaces and merges. */
  readonly supportsTempTables: boolean;
  /** CREATE/ALTER/CREATE OR REPLACE VIEW inside a transaction that rolls back with it. */
  readonly supportsTransactionalDdl: boolean;
  /** `UPDATE t SET .. FROM s WHERE ..` and `DELETE FROM t USING s WHERE ..`. */
  readonly supportsUpdateFrom: boolean;
  /** `ALTER TABLE t ALTER COLUMN c SET DATA TYPE x`, used to widen a column. */
  readonly supportsAlterColumnType: boolean;
  /**
   * A stable physical row id within a transaction (DuckDB `rowid`): SCD2 merges then close current
   * versions by row id instead of joining the whole table on the key again.
   */
  readonly supportsRowId: boolean;
}

export const SAFE_DEFAULT_FEATURES: DialectFeatures = {
  supportsQualify: false,
  supportsTempTables: false,
  supportsTransactionalDdl: false,
  supportsUpdateFrom: false,
  supportsAlterColumnType: false,
  supportsRowId: false,
};

/** Function spellings: one row per engine. */
export interface Spellings {
  /** Type used to cast any value to text. */
  readonly textType: string;
  /** Lower-case hex MD5 of a text expression. */
  md5Hex(textExpr: string): string;
  /**
   * A stable (across versions and restarts) 64-bit number from a text expression, e.g. the first
   * 64 bits of its MD5: compact row hashes that compare and scan fast.
   */
  hash64(textExpr: string): string;
  /**
   * Aggregate: the sum of a per-row hash of the expressions (`[alias]` alone = the whole row).
   * Sums are order-independent, count duplicates, and can be updated by deltas (SCD2 merges).
   */
  hashSum(exprs: readonly string[]): string;
  /** Numeric type that holds a `hashSum` exactly. */
  readonly sumType: string;
  /** Expression naming the engine build; a change invalidates stored hash sums. */
  readonly engineVersion: string;
  /** Text spelling of a character code (used as separators in row hashes). */
  chr(code: number): string;
}

/**
 * How an engine's own parser tells whether a text is exactly one read-only query (`tessera query`): `sql` runs
 * with the text as its one parameter and returns one row; `verdict` reads it: why the text is refused, or
 * undefined when it is one query.
 */
export interface ReadOnlyProbe {
  readonly sql: string;
  verdict(row: Readonly<Record<string, unknown>> | undefined): string | undefined;
}

export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export abstract class SqlDialect {
  abstract readonly name: string;
  abstract readonly features: DialectFeatures;
  abstract readonly spell: Spellings;
  abstract readonly types: TypeMapper;
  /** Schema of unqualified table names. */
  abstract readonly defaultSchema: string;
  /**
   * Spellings of the portable SQL macros of asset SQL and of the types activities cast to (portable.ts):
   * ANSI defaults; an engine overrides the rows it spells differently (`{ ...ANSI_PORTABLE, .. }`).
   */
  readonly portable: PortableSql = ANSI_PORTABLE;

  /** Throws UnsupportedFeatureError naming the engine and the flag when the feature is missing. */
  require(feature: keyof DialectFeatures, what: string): void {
    if (!this.features[feature]) throw new UnsupportedFeatureError(this.name, feature, what);
  }

  quote(identifier: string): string {
    if (identifier.length === 0) throw new EngineError(this.name, 'empty identifier');
    return `"${identifier.replaceAll('"', '""')}"`;
  }

  /** `schema.name` (or `name`) → a reference; each part may be quoted with double quotes. */
  tableRef(table: string): TableRef {
    const parts = splitQualified(table);
    if (parts.length === 1 && parts[0] !== undefined) return { schema: this.defaultSchema, name: parts[0] };
    if (parts.length === 2 && parts[0] !== undefined && parts[1] !== undefined) {
      return { schema: parts[0], name: parts[1] };
    }
    throw new EngineError(this.name, `bad table name '${table}': expected 'schema.name' or 'name'`);
  }

  table(table: string | TableRef): string {
    const ref = typeof table === 'string' ? this.tableRef(table) : table;
    return `${this.quote(ref.schema)}.${this.quote(ref.name)}`;
  }

  /** A table name is used as is; anything else is wrapped as a subquery. */
  relation(tableOrSelect: string): string {
    const trimmed = tableOrSelect.trim();
    const isName = trimmed.split('.').every((p) => PLAIN_NAME.test(p)) && trimmed.split('.').length <= 2;
    return isName ? this.table(trimmed) : `(${trimmed})`;
  }

  literal(value: string | number | boolean | null): string {
    if (value === null) return 'NULL';
    if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
    if (typeof value === 'number') {
      if (!Number.isFinite(value))
        throw new EngineError(this.name, `cannot render non-finite number ${value}`);
      return String(value);
    }
    return `'${value.replaceAll("'", "''")}'`;
  }

  /** ISO-8601 instant → a UTC timestamp literal (microsecond precision). */
  timestampLiteral(iso: string): string {
    return `TIMESTAMP '${utcTimestampText(this.name, iso)}'`;
  }

  /** The UTC date of an ISO-8601 instant as a DATE literal (`DATE '2026-11-02'`: ANSI, and every engine's). */
  dateLiteral(iso: string): string {
    return `DATE '${utcTimestampText(this.name, iso).slice(0, 10)}'`;
  }

  /** Where a temp table shows up for describeSql(ref, true). */
  tempRef(name: string): TableRef {
    return { schema: this.defaultSchema, name };
  }

  tempTable(name: string): string {
    return this.quote(name);
  }

  createTempTableAs(name: string, select: string): string {
    this.require('supportsTempTables', 'staging a result');
    return `CREATE OR REPLACE TEMP TABLE ${this.tempTable(name)} AS ${select}`;
  }

  dropTempTable(name: string): string {
    return `DROP TABLE IF EXISTS ${this.tempTable(name)}`;
  }

  /** Columns of a table as rows `{ name, type }` in ordinal order; no rows when it does not exist. */
  describeSql(ref: TableRef, temp = false): string {
    if (temp) this.require('supportsTempTables', 'describing a staged result');
    return (
      `SELECT column_name AS ${this.quote('name')}, data_type AS ${this.quote('type')} FROM information_schema.columns ` +
      `WHERE table_schema = ${this.literal(ref.schema)} AND table_name = ${this.literal(ref.name)} ORDER BY ordinal_position`
    );
  }

  /** One row `{ kind }` ('table' or 'view') when the relation exists. */
  relationKindSql(ref: TableRef): string {
    return (
      `SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS ${this.quote('kind')} ` +
      `FROM information_schema.tables WHERE table_schema = ${this.literal(ref.schema)} AND table_name = ${this.literal(ref.name)}`
    );
  }

  createSchema(schema: string): string {
    return `CREATE SCHEMA IF NOT EXISTS ${this.quote(schema)}`;
  }

  /**
   * Canonical text of several values: each cast to text, NULL as U+001E, joined by U+001F.
   * Equal value lists give equal text on every engine that casts values to text alike.
   */
  canonicalText(exprs: readonly string[]): string {
    const sep = this.spell.chr(31);
    const nul = this.spell.chr(30);
    const parts = exprs.map((e) => `coalesce(CAST(${e} AS ${this.spell.textType}), ${nul})`);
    return parts.length === 1 ? (parts[0] ?? '') : parts.join(` || ${sep} || `);
  }

  /** 64-bit hash of the given values (SCD2 row_hash): stable across engine versions. */
  rowHash(exprs: readonly string[]): string {
    return this.spell.hash64(this.canonicalText(exprs));
  }

  /** Content fingerprint text from a row count and a hash sum (see `fingerprint`). */
  fingerprintText(countExpr: string, sumExpr: string): string {
    const t = this.spell.textType;
    return this.spell.md5Hex(`CAST(${countExpr} AS ${t}) || ':' || CAST(${sumExpr} AS ${t})`);
  }

  /**
   * Order-independent fingerprint (text) of the rows of an aggregate query over the given
   * expressions: equal multisets of rows give equal text.
   */
  fingerprint(exprs: readonly string[]): string {
    return this.fingerprintText('count(*)', `coalesce(${this.spell.hashSum(exprs)}, 0)`);
  }

  /**
   * The engine parser's read-only check for `tessera query`, or undefined when the engine offers none (the
   * lexical check and running the text as a subquery then stand alone).
   */
  readOnlyProbe(): ReadOnlyProbe | undefined {
    return undefined;
  }

  /**
   * A statement listing a query's result columns as rows `{ column_name, column_type }`, or undefined when the
   * engine cannot describe a query (the names then come from the first row).
   */
  describeQuerySql(_select: string): string | undefined {
    return undefined;
  }

  /** Row id of `alias` when `supportsRowId`. */
  rowId(alias: string): string {
    this.require('supportsRowId', 'addressing rows by id');
    return `${alias}.rowid`;
  }

  /**
   * `SELECT <columns> FROM <from> [WHERE ..]` keeping, per `partitionBy`, the first row by `orderBy`
   * (a full ORDER BY list, e.g. `c."lsn" DESC NULLS FIRST`). `columns` are output expressions with
   * aliases `outputNames`; `partitionBy`/`orderBy` refer to `from`'s columns.
   */
  selectLatest(opts: {
    readonly columns: readonly string[];
    readonly from: string;
    readonly where?: string;
    readonly partitionBy: readonly string[];
    readonly orderBy: string;
    readonly outputNames: readonly string[];
  }): string {
    const where = opts.where ? ` WHERE ${opts.where}` : '';
    const rowNumber = `row_number() OVER (PARTITION BY ${opts.partitionBy.join(', ')} ORDER BY ${opts.orderBy})`;
    if (this.features.supportsQualify) {
      return `SELECT ${opts.columns.join(', ')} FROM ${opts.from}${where} QUALIFY ${rowNumber} = 1`;
    }
    // No QUALIFY (e.g. PostgreSQL, Trino): number the rows in a subquery, keep the first.
    const rn = this.quote('__tessera_rn');
    return (
      `SELECT ${opts.outputNames.map((n) => this.quote(n)).join(', ')} FROM (SELECT ${opts.columns.join(', ')}, ` +
      `${rowNumber} AS ${rn} FROM ${opts.from}${where}) AS __tessera_ranked WHERE ${rn} = 1`
    );
  }

  /** Boolean SQL selecting the partition's rows (columns unqualified, or qualified by `alias`). */
  partitionPredicate(partition: PartitionSelector, alias?: string): string {
    const col = (c: string): string => (alias ? `${alias}.${this.quote(c)}` : this.quote(c));
    if (partition.type === 'window') {
      const start = this.timestampLiteral(partition.start);
      const end = this.timestampLiteral(partition.end);
      return `${col(partition.column)} >= ${start} AND ${col(partition.column)} < ${end}`;
    }
    const entries = Object.entries(partition.values);
    if (entries.length === 0)
      throw new EngineError(this.name, 'a values partition needs at least one column');
    return entries.map(([c, v]) => `${col(c)} = ${this.literal(v)}`).join(' AND ');
  }

  describePartition(partition: PartitionSelector): string {
    return partition.type === 'window'
      ? `${partition.column} in [${partition.start}, ${partition.end})`
      : Object.entries(partition.values)
          .map(([c, v]) => `${c}=${String(v)}`)
          .join(',');
  }
}

/** Splits `a.b` / `"a.x"."b"` into its parts. */
function splitQualified(table: string): string[] {
  const parts: string[] = [];
  let i = 0;
  const s = table.trim();
  while (i < s.length) {
    if (s[i] === '"') {
      let j = i + 1;
      let part = '';
      while (j < s.length) {
        if (s[j] === '"' && s[j + 1] === '"') {
          part += '"';
          j += 2;
        } else if (s[j] === '"') break;
        else part += s[j++];
      }
      parts.push(part);
      i = j + 1;
    } else {
      const dot = s.indexOf('.', i);
      const end = dot === -1 ? s.length : dot;
      parts.push(s.slice(i, end));
      i = end;
    }
    if (s[i] === '.') i++;
  }
  return parts;
}

/** ISO-8601 instant → `YYYY-MM-DD HH:mm:ss.SSSSSS` in UTC (microseconds kept from the text). */
export function utcTimestampText(engine: string, iso: string): string {
  const dt = DateTime.fromISO(iso, { setZone: true });
  if (!dt.isValid)
    throw new EngineError(engine, `'${iso}' is not an ISO-8601 instant (${dt.invalidExplanation ?? ''})`);
  const micros = /\.\d{3}(\d{1,3})/.exec(iso)?.[1]?.padEnd(3, '0') ?? '000';
  return `${dt.toUTC().toFormat('yyyy-MM-dd HH:mm:ss.SSS')}${micros}`;
}
