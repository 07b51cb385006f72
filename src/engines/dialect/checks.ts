import { DateTime } from 'luxon';
import type { CheckSpec } from '../../dsl/types.js';
import { EngineError } from '../errors.js';
import type { CheckRunOptions, JsonValue } from '../types.js';
import type { SqlDialect } from './dialect.js';
import { scd2Columns } from './scd2-names.js';

/**
 * SQL of the built-in checks. Each renders one query returning one row: `failing` (rows violating
 * the check; 0/1 for aggregate checks) and `observed` (a number or text for the detail line).
 * NULLs are not_null's business: unique, relationship and accepted_values ignore them (as dbt does).
 * Pure: `freshness` compares against `options.now`, which the caller supplies.
 */

export interface RenderedCheck {
  readonly sql: string;
  detail(failing: number, observed: JsonValue): string;
}

export function renderCheck(
  d: SqlDialect,
  check: CheckSpec,
  table: string,
  options: CheckRunOptions & { readonly now: string },
): RenderedCheck {
  const q = (c: string): string => d.quote(c);
  const t = d.table(table);
  const partition = options.partition;
  const whereIn = (alias: string | undefined, ...conds: string[]): string => {
    const all = [...(partition ? [`(${d.partitionPredicate(partition, alias)})`] : []), ...conds];
    return all.length > 0 ? ` WHERE ${all.join(' AND ')}` : '';
  };
  const where = (...conds: string[]): string => whereIn(undefined, ...conds);
  const text = (e: string): string => `CAST(${e} AS ${d.spell.textType})`;
  switch (check.type) {
    case 'unique': {
      const cols = check.columns.map(q);
      return {
        sql:
          `SELECT coalesce(sum(n), 0) AS failing, count(*) AS observed FROM (SELECT count(*) AS n FROM ${t}` +
          `${where(...cols.map((c) => `${c} IS NOT NULL`))} GROUP BY ${cols.join(', ')} HAVING count(*) > 1) AS g`,
        detail: (f, o) =>
          `${f} row(s) share ${String(o)} duplicated value(s) of (${check.columns.join(', ')})`,
      };
    }
    case 'not_null':
      return {
        sql: `SELECT count(*) AS failing, 0 AS observed FROM ${t}${where(`(${check.columns.map((c) => `${q(c)} IS NULL`).join(' OR ')})`)}`,
        detail: (f) => `${f} row(s) with NULL in (${check.columns.join(', ')})`,
      };
    case 'row_count': {
      const bad = [
        ...(check.min !== undefined ? [`count(*) < ${check.min}`] : []),
        ...(check.max !== undefined ? [`count(*) > ${check.max}`] : []),
      ];
      return {
        sql: `SELECT CASE WHEN ${bad.length > 0 ? bad.join(' OR ') : 'FALSE'} THEN 1 ELSE 0 END AS failing, count(*) AS observed FROM ${t}${where()}`,
        detail: (_f, o) => `${String(o)} row(s); expected [${check.min ?? '-∞'}, ${check.max ?? '∞'}]`,
      };
    }
    case 'relationship': {
      const match = `SELECT 1 FROM ${d.table(check.to)} AS r WHERE r.${q(check.toColumn)} = c.${q(check.column)}`;
      return {
        sql: `SELECT count(*) AS failing, 0 AS observed FROM ${t} AS c${whereIn('c', `c.${q(check.column)} IS NOT NULL`, `NOT EXISTS (${match})`)}`,
        detail: (f) => `${f} row(s) whose ${check.column} has no match in ${check.to}.${check.toColumn}`,
      };
    }
    case 'accepted_values': {
      const values = check.values.map((v) => d.literal(v)).join(', ');
      return {
        sql: `SELECT count(*) AS failing, 0 AS observed FROM ${t}${where(`${q(check.column)} IS NOT NULL`, `${text(q(check.column))} NOT IN (${values})`)}`,
        detail: (f) => `${f} row(s) with ${check.column} outside [${check.values.join(', ')}]`,
      };
    }
    case 'scd2_intervals':
      return renderScd2Intervals(d, t, options);
    case 'freshness': {
      const threshold = DateTime.fromISO(options.now, { setZone: true }).minus({
        minutes: check.maxLagMinutes,
      });
      const lit = d.timestampLiteral(threshold.toUTC().toISO() ?? options.now);
      const newest = `max(${q(check.column)})`;
      return {
        sql: `SELECT CASE WHEN ${newest} IS NULL OR ${newest} < ${lit} THEN 1 ELSE 0 END AS failing, ${text(newest)} AS observed FROM ${t}${where()}`,
        detail: (_f, o) =>
          `newest ${check.column} is ${o === null ? 'NULL' : String(o)}; allowed lag ${check.maxLagMinutes} min before ${options.now}`,
      };
    }
    case 'quarantine_rate': {
      if (!options.quarantineTable) {
        throw new EngineError(d.name, `check quarantine_rate on ${table} needs options.quarantineTable`);
      }
      const rate = `CAST(qn.n AS DOUBLE) / CASE WHEN qn.n + tn.n = 0 THEN 1 ELSE qn.n + tn.n END`;
      return {
        sql:
          `SELECT CASE WHEN ${rate} > ${check.max} THEN 1 ELSE 0 END AS failing, ${rate} AS observed ` +
          `FROM (SELECT count(*) AS n FROM ${d.table(options.quarantineTable)}${where()}) AS qn, ` +
          `(SELECT count(*) AS n FROM ${t}${where()}) AS tn`,
        detail: (_f, o) => `quarantine rate ${String(o)}; allowed ${check.max}`,
      };
    }
    case 'sql':
      return {
        sql: `SELECT count(*) AS failing, 0 AS observed FROM (${check.sql}) AS f`,
        detail: (f) => `custom check returned ${f} failing row(s)`,
      };
  }
}

/**
 * Per key, ordered by valid_from: valid_from < valid_to; consecutive versions meet (valid_to = next
 * valid_from: no gap, no overlap); only the last version is current and open; no two versions start together.
 */
function renderScd2Intervals(d: SqlDialect, t: string, options: CheckRunOptions): RenderedCheck {
  if (!options.scd2 || options.scd2.businessKey.length === 0) {
    throw new EngineError(d.name, `check scd2_intervals on ${t} needs options.scd2.businessKey`);
  }
  const n = scd2Columns(options.scd2.columnNames);
  const q = (c: string): string => d.quote(c);
  const keys = options.scd2.businessKey.map(q).join(', ');
  const [vf, vt, cur] = [q(n.validFrom), q(n.validTo), q(n.isCurrent)];
  const bad = [
    `(${vt} IS NOT NULL AND ${vt} <= ${vf})`,
    `(nxt IS NULL AND (${vt} IS NOT NULL OR NOT ${cur}))`,
    `(nxt IS NOT NULL AND (${vt} IS NULL OR ${vt} <> nxt OR ${cur}))`,
    `same_start > 1`,
  ];
  return {
    sql:
      `SELECT coalesce(sum(CASE WHEN ${bad.join(' OR ')} THEN 1 ELSE 0 END), 0) AS failing, count(*) AS observed ` +
      `FROM (SELECT ${vf}, ${vt}, ${cur}, lead(${vf}) OVER (PARTITION BY ${keys} ORDER BY ${vf}) AS nxt, ` +
      `count(*) OVER (PARTITION BY ${keys}, ${vf}) AS same_start FROM ${t}) AS v`,
    detail: (f, o) =>
      `${f} of ${String(o)} version(s) break SCD2 intervals (order, overlap, gap or current flag)`,
  };
}
