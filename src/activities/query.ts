import { ApplicationFailure } from '@temporalio/common';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import { ENGINES, type Engine, type Scd2ColumnNaming, type SqlDialect } from '../engines/index.js';
import { buildTable } from './tables.js';
import {
  QUERY_REJECTED_ERROR_TYPE,
  type QueryColumn,
  type QueryResult,
  type RollbackGroupInput,
  type RollbackGroupResult,
  type RunQueryInput,
} from './types.js';

/**
 * Read-only access to the warehouse for `tessera query`, the same code whether the CLI opened the file itself
 * (read-only) or the worker that holds it runs it (runQuery activity).
 *
 * Read-only is enforced in three layers: a lexical check (one statement, starting SELECT/WITH/FROM/VALUES/'('),
 * the engine's own parser where its dialect offers one (SqlDialect.readOnlyProbe; DuckDB's json_serialize_sql
 * serializes SELECT statements only and lists every statement, so DML, DDL, COPY, ATTACH, PRAGMA and
 * multi-statement text are refused by DuckDB itself), and running the statement as a subquery
 * (`SELECT * FROM (<sql>) LIMIT n`), where only a query can stand. Not covered: side-effecting functions inside a SELECT (nextval, setseed) and table functions that
 * read files (read_csv): the CLI's user can read those files anyway.
 */

/** Largest result (JSON characters) sent back; activity results travel in Temporal's history (2 MB limit). */
const MAX_RESULT_CHARS = 1_000_000;

const reject = (message: string): ApplicationFailure =>
  ApplicationFailure.nonRetryable(message, QUERY_REJECTED_ERROR_TYPE);

interface Segment {
  readonly code: boolean;
  readonly text: string;
}

/** Splits SQL into code and non-code (string literals, comments) so scans never look inside the latter. */
export function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let code = '';
  let i = 0;
  const flush = () => {
    if (code) out.push({ code: true, text: code });
    code = '';
  };
  while (i < sql.length) {
    const two = sql.slice(i, i + 2);
    let end = -1;
    if (sql[i] === "'") {
      end = i + 1;
      while (end < sql.length && !(sql[end] === "'" && sql[end + 1] !== "'")) end += sql[end] === "'" ? 2 : 1;
      end = Math.min(end + 1, sql.length);
    } else if (two === '--') {
      end = sql.indexOf('\n', i);
      end = end < 0 ? sql.length : end;
    } else if (two === '/*') {
      end = sql.indexOf('*/', i + 2);
      end = end < 0 ? sql.length : end + 2;
    }
    if (end < 0) {
      code += sql[i];
      i++;
    } else {
      flush();
      out.push({ code: false, text: sql.slice(i, end) });
      i = end;
    }
  }
  flush();
  return out;
}

/** The statement without a trailing `;` (and what follows it); throws when it is not one query. */
export function singleQuery(sql: string): string {
  const segs = segments(sql);
  const code = segs
    .filter((s) => s.code)
    .map((s) => s.text)
    .join(' ')
    .trim();
  if (code === '') throw reject('the query is empty');
  const body = code.replace(/;\s*$/, '');
  if (body.includes(';')) throw reject('only one statement may run; remove everything after the first ";"');
  if (!/^(select|with|from|values|\()/i.test(body)) {
    const word = /^\w+/.exec(body)?.[0] ?? body.slice(0, 10);
    throw reject(`only a read-only SELECT (or WITH … SELECT) may run, not ${word.toUpperCase()}`);
  }
  // Drop a trailing ';' and the comments after it.
  let last = segs.length - 1;
  while (last >= 0 && !(segs[last]?.code && segs[last]?.text.trim())) last--;
  const tail = segs[last]?.text.trimEnd() ?? '';
  if (!tail.endsWith(';')) return sql.trim();
  return [...segs.slice(0, last).map((s) => s.text), tail.slice(0, -1)].join('').trim();
}

/** The dialect of a registered engine; undefined for an engine the registry does not know (test doubles). */
function dialectOf(engine: Engine): SqlDialect | undefined {
  const registered: Readonly<Record<string, { readonly dialect: SqlDialect } | undefined>> = ENGINES;
  return Object.hasOwn(registered, engine.name) ? registered[engine.name]?.dialect : undefined;
}

/** The engine parser's verdict on `sql` (SqlDialect.readOnlyProbe), where the engine offers one. */
async function parserCheck(engine: Engine, dialect: SqlDialect | undefined, sql: string): Promise<void> {
  const probe = dialect?.readOnlyProbe();
  if (!probe) return;
  const [row] = await engine.query(probe.sql, [sql]);
  const refused = probe.verdict(row);
  if (refused !== undefined) throw reject(refused);
}

/** SQL keywords that may follow a table reference and are therefore never its alias. */
const NOT_ALIAS = new Set(
  (
    'where join inner left right full cross natural positional asof anti semi on using group order limit ' +
    'offset having window qualify union except intersect sample tablesample pivot unpivot lateral outer ' +
    'fetch for returning select from'
  ).split(' '),
);

export interface Scd2Relation {
  readonly key: string;
  readonly table: string;
  readonly columnNames?: Scd2ColumnNaming;
}

export const scd2Relations = (defs: Definitions): Scd2Relation[] =>
  defs.assets
    .filter((a: AssetDefinition) => a.kind === 'scd2')
    .map((a) => ({
      key: a.key,
      table: buildTable(a),
      ...(a.scd2?.columnNames ? { columnNames: a.scd2.columnNames } : {}),
    }));

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces every `FROM|JOIN|, schema.name [[AS] alias]` naming an SCD2 asset with `(<as-of snapshot>) AS alias`
 * (alias defaults to the table name, so `dim_users.country` still resolves). Parts may be double-quoted.
 * Limits: references written `schema.name.column`, inside string literals or comments, or reached through a
 * view are not rewritten; only SCD2 assets travel in time (facts and marts are read as they are now).
 */
export function rewriteAsOf(
  sql: string,
  relations: readonly Scd2Relation[],
  render: (r: Scd2Relation) => string,
): { sql: string; replaced: string[] } {
  const replaced = new Set<string>();
  const out = segments(sql).map((seg) => {
    if (!seg.code) return seg.text;
    let text = seg.text;
    for (const r of relations) {
      const [schema = '', name = ''] = r.key.split('.');
      const ref = `"?${escape(schema)}"?\\s*\\.\\s*"?${escape(name)}"?`;
      const pattern = new RegExp(
        `(\\b(?:from|join)\\s+|,\\s*)${ref}(?![\\w."])(\\s+(?:as\\s+)?("[^"]+"|[A-Za-z_]\\w*))?`,
        'gi',
      );
      text = text.replace(pattern, (whole, lead: string, aliasPart?: string, alias?: string) => {
        const usable = alias !== undefined && !NOT_ALIAS.has(alias.toLowerCase());
        replaced.add(r.key);
        const tail = aliasPart !== undefined && !usable ? aliasPart : '';
        return `${lead}(${render(r)}) AS ${usable ? alias : name}${tail}`;
      });
    }
    return text;
  });
  return { sql: out.join(''), replaced: [...replaced].sort() };
}

const isInstant = (s: string): boolean =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(s);

/** Runs one read-only query on `engine` (see the header for how read-only is enforced). */
export async function runReadOnlyQuery(
  engine: Engine,
  defs: Definitions,
  input: RunQueryInput,
): Promise<QueryResult> {
  if (!Number.isInteger(input.limit) || input.limit < 1) throw reject(`limit must be 1 or more`);
  let sql = singleQuery(input.sql);
  let asOfAssets: string[] | undefined;
  if (input.asOf !== undefined) {
    if (!isInstant(input.asOf)) throw reject(`asOf "${input.asOf}" is not an ISO-8601 instant`);
    const relations = scd2Relations(defs);
    const asOf = input.asOf;
    const r = rewriteAsOf(sql, relations, (rel) =>
      engine.snapshotAsOfSql({
        scd2Table: rel.table,
        asOf,
        ...(rel.columnNames ? { columnNames: rel.columnNames } : {}),
      }),
    );
    if (r.replaced.length === 0)
      throw reject(
        `--as-of rewrites reads of SCD2 assets and the query reads none (SCD2 assets: ${relations.map((x) => x.key).join(', ') || 'none'})`,
      );
    sql = r.sql;
    asOfAssets = r.replaced;
  }
  let committedAtAssets: string[] | undefined;
  if (input.committedAt !== undefined) {
    const at = input.committedAt;
    if (!isInstant(at)) throw reject(`committedAt "${at}" is not an ISO-8601 instant`);
    const travel = engine.tableAsOfSql?.bind(engine);
    if (!travel)
      throw reject(
        `--committed-at needs an engine with table time travel (Trino over Iceberg); ${engine.name} has none`,
      );
    // Marts are read through their publish group's view, which time travel cannot reach: `publish history`
    // says which version was live when. Every other asset is its own table.
    const tables = defs.assets.filter((a) => a.kind !== 'mart').map((a) => ({ key: a.key, table: a.key }));
    const r = rewriteAsOf(sql, tables, (rel) => travel(rel.table, at));
    if (r.replaced.length === 0)
      throw reject(`--committed-at rewrites reads of assets' tables (marts aside) and the query reads none`);
    sql = r.sql;
    committedAtAssets = r.replaced;
  }
  const dialect = dialectOf(engine);
  await parserCheck(engine, dialect, sql);
  // Newlines keep a trailing `-- comment` from swallowing the closing parenthesis.
  const wrapped = `SELECT * FROM (\n${sql}\n) AS tessera_query`;
  let columns: QueryColumn[] | undefined;
  const describe = dialect?.describeQuerySql(wrapped);
  if (describe !== undefined) {
    try {
      const described = await engine.query<{ column_name: string; column_type: string }>(describe);
      columns = described.map((c) => ({ name: String(c.column_name), type: String(c.column_type) }));
    } catch {
      // A query the engine cannot describe still runs; the names then come from the first row.
    }
  }
  const rows = await engine.query(`${wrapped}\nLIMIT ${input.limit + 1}`);
  let truncated = rows.length > input.limit;
  const kept = rows.slice(0, input.limit);
  let size = JSON.stringify(kept).length;
  while (size > MAX_RESULT_CHARS && kept.length > 0) {
    size -= JSON.stringify(kept.pop()).length + 1;
    truncated = true;
  }
  return {
    columns: columns ?? Object.keys(kept[0] ?? {}).map((name) => ({ name, type: '' })),
    rows: kept,
    truncated,
    ...(asOfAssets ? { asOfAssets } : {}),
    ...(committedAtAssets ? { committedAtAssets } : {}),
  };
}

/** Re-points a publish group to the version before the current one (engine history; the ledger keeps flips). */
export async function rollbackGroup(
  deps: { definitions: Definitions; engineOf: (asset: AssetDefinition) => Promise<Engine> },
  input: RollbackGroupInput,
): Promise<RollbackGroupResult> {
  const group = deps.definitions.publishGroups.find((g) => g.name === input.group);
  if (!group) throw reject(`unknown publish group "${input.group}"`);
  const engines = new Set(
    await Promise.all(group.assets.map((k) => deps.engineOf(deps.definitions.asset(k)))),
  );
  const [engine] = engines;
  if (!engine || engines.size !== 1)
    throw reject(`publish group ${input.group} spans ${engines.size} engines; it has no single history`);
  const { state } = await engine.rollbackPublishGroup(input.group);
  return {
    group: state.group,
    version: state.version,
    seq: state.seq,
    tables: state.tables,
    publishedAt: state.publishedAt,
  };
}
