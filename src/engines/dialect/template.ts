import { EngineError } from '../errors.js';
import type { SqlDialect } from './dialect.js';
import { renderMacro, renderType } from './portable-macros.js';

/**
 * Placeholders of an asset's SQL (see AssetSpec.sql), rendered as this dialect's literals:
 * {{ partition_start }} / {{ partition_end }} (timestamps), {{ partition_date }} (the UTC date of partition_start,
 * a DATE literal), {{ partition_key }}, {{ partition.<dimension> }},
 * and in checks {{ this }}: the table being checked (a mart's `__build` table before publication).
 * Portable SQL (portable-macros.ts): {{ t.<type> }} (the dialect's type names) and macro calls such as
 * {{ arg_max(x, y) }} or {{ add_minutes({{ partition_start }}, -30) }}, spelled by the dialect.
 * An unknown or unavailable placeholder is an error, never left in the SQL.
 */
export interface TemplateContext {
  readonly partitionKey?: string;
  /** ISO-8601 instants of the partition's window. */
  readonly partitionStart?: string;
  readonly partitionEnd?: string;
  /** Dimension name → key, for multi partitions. */
  readonly partition?: Readonly<Record<string, string>>;
  /** `schema.name` of the table being checked (SQL checks). */
  readonly this?: string;
}

/** `{{` then a name: the start of a placeholder or a macro call (anything else stays text). */
const OPEN = /\{\{\s*([A-Za-z_][\w.]*)\s*/y;

interface Rendered {
  readonly text: string;
  /** Index just after the closing `}}`. */
  readonly end: number;
}

export function renderTemplate(d: SqlDialect, sql: string, ctx: TemplateContext): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const open = sql.indexOf('{{', i);
    if (open < 0) {
      out += sql.slice(i);
      break;
    }
    out += sql.slice(i, open);
    const tag = renderTag(d, ctx, sql, open);
    out += tag ? tag.text : '{{';
    i = tag ? tag.end : open + 2;
  }
  return out;
}

/** The tag starting at `start` (`{{`), rendered; undefined when no name follows the braces. */
function renderTag(d: SqlDialect, ctx: TemplateContext, sql: string, start: number): Rendered | undefined {
  OPEN.lastIndex = start;
  const m = OPEN.exec(sql);
  const name = m?.[1];
  if (!m || name === undefined) return undefined;
  let i = OPEN.lastIndex;
  let text: string;
  if (sql[i] === '(') {
    const call = macroArgs(d, ctx, sql, i + 1, name);
    text = renderMacro(d, name, call.args);
    i = call.end;
    while (/\s/.test(sql[i] ?? '')) i++;
  } else {
    text = placeholder(d, ctx, name);
  }
  if (!sql.startsWith('}}', i)) {
    const shown = sql.slice(start, Math.min(sql.length, i + 20)).replace(/\s+/g, ' ');
    throw new EngineError(d.name, `placeholder '${shown}…' is not closed by }}`);
  }
  return { text, end: i + 2 };
}

/**
 * The arguments of a macro call from just after its `(`: split at top-level commas, each trimmed and with its
 * own placeholders rendered; `end` is the index after the closing `)`. Strings, quoted names and comments are
 * copied whole (a comma or parenthesis inside them splits nothing).
 */
function macroArgs(
  d: SqlDialect,
  ctx: TemplateContext,
  sql: string,
  from: number,
  name: string,
): { args: string[]; end: number } {
  const args: string[] = [];
  let arg = '';
  // Length of `arg` up to the end of its last line comment: trimming never removes the newline ending it.
  let kept = 0;
  let depth = 0;
  let i = from;
  const push = (): void => {
    let end = arg.length;
    while (end > kept && /\s/.test(arg[end - 1] ?? '')) end--;
    args.push(arg.slice(0, end).trimStart());
    arg = '';
    kept = 0;
  };
  const copyUntil = (close: string, skip: number, doubled: boolean): void => {
    let end = sql.indexOf(close, i + skip);
    // Quotes escape themselves by doubling: '' inside a string, "" inside a name.
    while (doubled && end >= 0 && sql[end + 1] === close) end = sql.indexOf(close, end + 2);
    if (end < 0) throw new EngineError(d.name, `{{ ${name}(..) }}: unterminated ${sql.slice(i, i + 2)}`);
    arg += sql.slice(i, end + close.length);
    i = end + close.length;
  };
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const two = sql.slice(i, i + 2);
    if (c === "'" || c === '"') copyUntil(c, 1, true);
    else if (two === '--') {
      copyUntil('\n', 2, false);
      kept = arg.length;
    } else if (two === '/*') copyUntil('*/', 2, false);
    else if (two === '{{') {
      const nested = renderTag(d, ctx, sql, i);
      arg += nested ? nested.text : '{{';
      i = nested ? nested.end : i + 2;
    } else if (c === ')' && depth === 0) {
      push();
      return { args: args.length === 1 && args[0] === '' ? [] : args, end: i + 1 };
    } else {
      if (c === '(') depth++;
      if (c === ')') depth--;
      if (c === ',' && depth === 0) push();
      else arg += c;
      i++;
    }
  }
  throw new EngineError(d.name, `{{ ${name}(..) }}: the argument list is not closed by ')'`);
}

function placeholder(d: SqlDialect, ctx: TemplateContext, name: string): string {
  const missing = (): never => {
    throw new EngineError(d.name, `placeholder {{ ${name} }} has no value for this materialization`);
  };
  switch (name) {
    case 'partition_start':
      return ctx.partitionStart === undefined ? missing() : d.timestampLiteral(ctx.partitionStart);
    case 'partition_date':
      return ctx.partitionStart === undefined ? missing() : d.dateLiteral(ctx.partitionStart);
    case 'partition_end':
      return ctx.partitionEnd === undefined ? missing() : d.timestampLiteral(ctx.partitionEnd);
    case 'partition_key':
      return ctx.partitionKey === undefined ? missing() : d.literal(ctx.partitionKey);
    case 'this':
      return ctx.this === undefined ? missing() : d.table(ctx.this);
    default: {
      if (name.startsWith('t.')) return renderType(d, name.slice('t.'.length));
      if (!name.startsWith('partition.')) {
        throw new EngineError(d.name, `unknown placeholder {{ ${name} }}`);
      }
      const value = ctx.partition?.[name.slice('partition.'.length)];
      return value === undefined ? missing() : d.literal(value);
    }
  }
}
