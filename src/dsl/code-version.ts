import { createHash } from 'node:crypto';
import type { AssetSpec, DepSpec } from './types.js';

/**
 * Code versions: a stable hash of everything that changes an asset's output, so that the planner can tell
 * "the code changed" from "someone edited a comment". Descriptions, owners, tags, groups and checks are left
 * out on purpose: they do not change the data.
 */

const WORD_CHAR = /[\p{L}\p{N}_$@#]/u;

/**
 * SQL with comments removed and whitespace canonical outside quoted text ('literals' and "identifiers"):
 * one space between two word characters, none next to punctuation (so `a,b` equals `a , b`). Case is kept.
 */
export function normalizeSql(sql: string): string {
  let out = '';
  let pendingSpace = false;
  const emitSpaceIfNeeded = (next: string): void => {
    if (pendingSpace && out.length > 0 && WORD_CHAR.test(out.at(-1) ?? '') && WORD_CHAR.test(next))
      out += ' ';
    pendingSpace = false;
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const next = sql[i + 1] ?? '';
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
      pendingSpace = true;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      pendingSpace = true;
    } else if (/\s/.test(c)) {
      i += 1;
      pendingSpace = true;
    } else if (c === "'" || c === '"') {
      // A quoted run ends at the matching quote that is not doubled ('it''s'); its content is kept verbatim.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j += 1;
      }
      emitSpaceIfNeeded(c);
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else {
      emitSpaceIfNeeded(c);
      out += c;
      i += 1;
    }
  }
  return out;
}

/**
 * JavaScript source with whitespace canonical outside string and template literals (as normalizeSql) and
 * trailing commas dropped, so reformatting a compute function (e.g. by prettier) keeps its code version.
 * Comments are kept: telling `//` in a regex or `--` (decrement) apart needs a parser.
 */
export function normalizeSource(source: string): string {
  let out = '';
  let pendingSpace = false;
  let i = 0;
  while (i < source.length) {
    const c = source[i] ?? '';
    if (/\s/.test(c)) {
      pendingSpace = true;
      i += 1;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      if (pendingSpace && WORD_CHAR.test(out.at(-1) ?? '')) out += ' ';
      out += source.slice(i, j + 1);
      pendingSpace = false;
      i = j + 1;
      continue;
    }
    if ((c === '}' || c === ']' || c === ')') && out.endsWith(',')) out = out.slice(0, -1);
    if (pendingSpace && WORD_CHAR.test(out.at(-1) ?? '') && WORD_CHAR.test(c)) out += ' ';
    pendingSpace = false;
    out += c;
    i += 1;
  }
  return out;
}

/** The parts of a spec that feed the code version; `deps` after implied deps were added. */
export type CodeVersionInput = Pick<
  AssetSpec,
  | 'kind'
  | 'sql'
  | 'compute'
  | 'partitions'
  | 'scd2'
  | 'snapshot'
  | 'ingest'
  | 'primaryKey'
  | 'version'
  | 'engine'
  | 'spark'
> & { readonly deps: readonly DepSpec[] };

/**
 * sha256 (first 16 hex chars) over a canonical JSON of the inputs. A dep without an explicit mapping hashes
 * as 'default': the default follows from both assets' partitions, and a change to the upstream's partitions
 * already changes the upstream's version and data, so our hash need not depend on other assets.
 */
export function computeCodeVersion(input: CodeVersionInput): string {
  const deps = [...input.deps]
    .map((d) => [d.key, d.mapping?.fingerprint ?? 'default'] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Property order is fixed here, so the JSON text is canonical.
  const canonical = {
    kind: input.kind,
    sql: input.sql === undefined ? null : normalizeSql(input.sql),
    // A compute function changes with its source text; values it closes over belong in `version`.
    compute: input.compute === undefined ? null : normalizeSource(input.compute.toString()),
    partitions: input.partitions?.fingerprint ?? null,
    deps,
    scd2: input.scd2
      ? {
          source: input.scd2.source,
          businessKey: input.scd2.businessKey,
          tracked: input.scd2.tracked,
          strategy: input.scd2.strategy ?? 'log',
          columnNames: input.scd2.columnNames ?? 'tessera',
        }
      : null,
    snapshot: input.snapshot ? { from: input.snapshot.from } : null,
    ingest: input.ingest ? { source: input.ingest.source, stream: input.ingest.stream } : null,
    primaryKey: input.primaryKey ?? null,
    version: input.version ?? null,
    engine: input.engine ?? null,
    // Only when set, so the versions of every asset without a Spark job stay what they were.
    ...(input.spark
      ? {
          spark: {
            job: input.spark.job,
            args: Object.entries(input.spark.args ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
            timeColumn: input.spark.timeColumn ?? null,
          },
        }
      : {}),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
}
