import { EngineError } from '../errors.js';
import type { SqlDialect } from './dialect.js';
import { parseStrftime, type PortableTypes } from './portable.js';

/**
 * The macros asset SQL may call, `{{ name(arg, ...) }}`, each rendered by the dialect's `portable` spellings.
 * Arguments are SQL expressions (they may hold placeholders: `{{ add_minutes({{ partition_start }}, -30) }}`),
 * except where a macro says it takes a number or a string literal: those are read at render time, so every
 * engine can spell them.
 */

interface Macro {
  /** Parameter names, for the error message of a wrong call. */
  readonly params: readonly string[];
  readonly doc: string;
  render(d: SqlDialect, args: readonly string[]): string;
}

/** An integer literal argument (e.g. minutes). */
function integerArg(d: SqlDialect, macro: string, param: string, arg: string): number {
  if (!/^[+-]?\d+$/.test(arg))
    throw new EngineError(d.name, `{{ ${macro}(..) }}: ${param} must be an integer literal, got '${arg}'`);
  const n = Number(arg);
  if (!Number.isSafeInteger(n)) throw new EngineError(d.name, `{{ ${macro}(..) }}: ${param} is out of range`);
  return n;
}

/** A single-quoted SQL string literal argument, unquoted. */
function stringArg(d: SqlDialect, macro: string, param: string, arg: string): string {
  if (!/^'(?:[^']|'')*'$/.test(arg))
    throw new EngineError(d.name, `{{ ${macro}(..) }}: ${param} must be a string literal, got ${arg}`);
  return arg.slice(1, -1).replaceAll("''", "'");
}

const at = (args: readonly string[], i: number): string => args[i] ?? '';

/** Largest precision every engine's exact decimal holds (DuckDB, Trino and Spark: 38). */
export const PORTABLE_DECIMAL_PRECISION = 38;

export const MACROS: Readonly<Record<string, Macro>> = {
  // A type with parameters, so a macro call; `{{ t.<type> }}` names the types without them.
  't.decimal': {
    params: ['precision', 'scale'],
    doc: `an exact decimal type: precision (1-${PORTABLE_DECIMAL_PRECISION}) digits, scale (0-precision) of them after the point`,
    render(d, a) {
      const precision = integerArg(d, 't.decimal', 'precision', at(a, 0));
      const scale = integerArg(d, 't.decimal', 'scale', at(a, 1));
      if (precision < 1 || precision > PORTABLE_DECIMAL_PRECISION || scale < 0 || scale > precision)
        throw new EngineError(
          d.name,
          `{{ t.decimal(${precision}, ${scale}) }}: precision must be 1-${PORTABLE_DECIMAL_PRECISION} and scale 0-precision`,
        );
      return d.portable.decimal(precision, scale);
    },
  },
  ident: {
    params: ['name'],
    doc: 'a column or table name quoted as the engine quotes names (generated SQL; GoogleSQL\'s "x" is a string)',
    render(d, a) {
      const name = at(a, 0);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new EngineError(d.name, `{{ ident(..) }}: name must be letters, digits and _, got '${name}'`);
      return d.quote(name);
    },
  },
  exact_number: {
    params: ['number'],
    doc: 'an exact numeric literal (digits with an optional point: 0.99), never a float',
    render(d, a) {
      const digits = at(a, 0);
      if (!/^[+-]?\d+(\.\d+)?$/.test(digits))
        throw new EngineError(
          d.name,
          `{{ exact_number(..) }}: number must be digits with an optional point, got '${digits}'`,
        );
      return d.portable.exactNumber(digits);
    },
  },
  date_diff_days: {
    params: ['start_date', 'end_date'],
    doc: 'whole days from start_date to end_date (end - start)',
    render: (d, a) => d.portable.dateDiffDays(at(a, 0), at(a, 1)),
  },
  add_minutes: {
    params: ['timestamp', 'minutes'],
    doc: 'the timestamp moved by an integer literal of minutes (negative: earlier)',
    render: (d, a) => d.portable.addMinutes(at(a, 0), integerArg(d, 'add_minutes', 'minutes', at(a, 1))),
  },
  arg_max: {
    params: ['value', 'order_by'],
    doc: 'aggregate: value at the row with the greatest order_by, among rows where both are non-null',
    render: (d, a) => d.portable.argMax(at(a, 0), at(a, 1)),
  },
  arg_min: {
    params: ['value', 'order_by'],
    doc: 'aggregate: value at the row with the least order_by, among rows where both are non-null',
    render: (d, a) => d.portable.argMin(at(a, 0), at(a, 1)),
  },
  format_timestamp: {
    params: ['timestamp', 'pattern'],
    doc: "the timestamp as text; pattern: a string literal of %Y %m %d %H %M %S, %% and text ('%Y%m%d')",
    render: (d, a) =>
      d.portable.formatTimestamp(
        at(a, 0),
        parseStrftime(d.name, stringArg(d, 'format_timestamp', 'pattern', at(a, 1))),
      ),
  },
  format_day: {
    params: ['timestamp'],
    doc: "the timestamp's day as text, YYYY-MM-DD",
    render: (d, a) => d.portable.formatTimestamp(at(a, 0), parseStrftime(d.name, '%Y-%m-%d')),
  },
  count_if: {
    params: ['condition'],
    doc: 'aggregate: rows where the condition is true',
    render: (d, a) => d.portable.countIf(at(a, 0)),
  },
  sum_if: {
    params: ['value', 'condition'],
    doc: 'aggregate: sum of value over rows where the condition is true (NULL when none)',
    render: (d, a) => d.portable.sumIf(at(a, 0), at(a, 1)),
  },
  count_distinct_if: {
    params: ['value', 'condition'],
    doc: 'aggregate: distinct non-null values over rows where the condition is true',
    render: (d, a) => d.portable.countDistinctIf(at(a, 0), at(a, 1)),
  },
};

/** Renders a macro call; the arguments are already rendered (placeholders inside them replaced). */
export function renderMacro(d: SqlDialect, name: string, args: readonly string[]): string {
  const macro = Object.hasOwn(MACROS, name) ? MACROS[name] : undefined;
  if (!macro)
    throw new EngineError(
      d.name,
      `unknown macro {{ ${name}(..) }}; macros: ${Object.keys(MACROS).join(', ')}`,
    );
  if (args.length !== macro.params.length || args.some((a) => a === ''))
    throw new EngineError(
      d.name,
      `{{ ${name}(..) }} takes ${macro.params.length} argument(s), (${macro.params.join(', ')}), got ${args.length}: ${macro.doc}`,
    );
  return macro.render(d, args);
}

/** `{{ t.<type> }}`: a type name of the dialect (portable.ts, PortableTypes). */
export function renderType(d: SqlDialect, type: string): string {
  const known = TYPE_NAMES.find((k) => k === type);
  if (known === undefined)
    throw new EngineError(
      d.name,
      `unknown type {{ t.${type} }}; types: ${TYPE_NAMES.map((k) => `t.${k}`).join(', ')}, t.decimal(precision, scale)`,
    );
  return d.portable.types[known];
}

const TYPE_NAMES: readonly (keyof PortableTypes)[] = [
  'text',
  'bigint',
  'double',
  'boolean',
  'date',
  'timestamp',
];
