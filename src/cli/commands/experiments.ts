/**
 * `tessera experiments report KEY`: an experiment's published results (the results mart, one row per metric ×
 * variation) as a readable table, read the way `tessera query` reads (directly, or through the worker that holds
 * the warehouse).
 */
import { Option, type Command } from 'commander';
import { nearest } from '../../dsl/index.js';
import type { Row } from '../../engines/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { queryWarehouse, VIAS, type Route, type Via } from '../warehouse.js';

export const RESULTS_MART = 'experiments.mart_experiment_results';

const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A number with `digits` significant digits, without exponent noise for ordinary magnitudes. */
function fmt(v: unknown, digits = 4): string {
  const x = num(v);
  if (x === undefined) return '';
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e9)) return x.toExponential(2);
  return String(Number(x.toPrecision(digits)));
}
const pct = (v: unknown): string => {
  const x = num(v);
  return x === undefined ? '' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
};
function pValue(v: unknown): string {
  const x = num(v);
  if (x === undefined) return '';
  return x < 0.0001 ? '<0.0001' : x.toFixed(4);
}

/**
 * The interval as printed; a one-sided test's interval is open on one side (NULL in the mart):
 * `[low, +∞)` for alternative greater, `(−∞, high]` for less.
 */
function interval(r: Row, show: (v: unknown) => string): string {
  if (r.alternative === 'greater' && r.ci_low !== null && r.ci_low !== undefined)
    return `[${show(r.ci_low)}, +∞)`;
  if (r.alternative === 'less' && r.ci_high !== null && r.ci_high !== undefined)
    return `(−∞, ${show(r.ci_high)}]`;
  return r.ci_low === null || r.ci_low === undefined ? '' : `[${show(r.ci_low)}, ${show(r.ci_high)}]`;
}

/** One printed line per metric × variation. */
export function reportLines(rows: readonly Row[]): Record<string, string>[] {
  return rows.map((r) => {
    const relative = r.lift_type === 'relative';
    const show = relative ? pct : (v: unknown) => fmt(v);
    const base = r.is_baseline === true;
    const adjusted = num(r.p_value_adjusted);
    return {
      metric: String(r.metric_id),
      role: String(r.role),
      variation: String(r.variation),
      users: String(r.users ?? ''),
      mean: fmt(r.mean),
      lift: base ? 'baseline' : show(r.lift),
      '95% CI': base ? '' : interval(r, show),
      'p-value': base ? '' : pValue(r.p_value),
      adjusted: base || adjusted === undefined ? '' : pValue(adjusted),
      significant: base
        ? ''
        : r.error !== null && r.error !== undefined
          ? String(r.error)
          : r.significant === true
            ? 'yes'
            : 'no',
    };
  });
}

/** "one-sided (treatment greater), " for one-sided tests; empty for two-sided ones (and older marts). */
const oneSided = (alternative: unknown): string =>
  alternative === 'greater' || alternative === 'less' ? `one-sided (treatment ${alternative}), ` : '';

async function read(c: CliContext, sql: string, via: Via): Promise<{ rows: Row[]; route: Route }> {
  const { result, route } = await queryWarehouse(c, { sql, limit: 100_000 }, via);
  return { rows: [...result.rows], route };
}

export function registerExperiments(program: Command, ctx: () => CliContext): void {
  const experiments = program.command('experiments').description('A/B experiment results');
  experiments
    .command('report <key>')
    .description("print an experiment's published results: lift with CI, p-value, significance, SRM check")
    .option('--day <date>', 'results cumulative to the end of this day (default: the latest published)')
    .option('--mart <asset>', 'results mart to read', RESULTS_MART)
    .addOption(new Option('--via <route>', 'how to reach the warehouse').choices(VIAS).default('auto'))
    .addHelpText(
      'after',
      `
Examples:
  tessera experiments report checkout_v2
  tessera experiments report checkout_v2 --day 2026-11-10 --json`,
    )
    .action(async (key: string, o: { day?: string; mart: string; via: Via }) => {
      const c = ctx();
      const defs = await c.definitions();
      if (!defs.graph.topologicalOrder.includes(o.mart)) {
        const hint = nearest(o.mart, [...defs.graph.topologicalOrder]);
        throw new UsageError(`unknown asset "${o.mart}"${hint ? `; did you mean "${hint}"?` : ''}`);
      }
      if (o.day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(o.day))
        throw new UsageError(`--day "${o.day}" is not a date like 2026-11-03`);
      const keys = await read(c, `select distinct experiment_key from ${o.mart} order by 1`, o.via);
      const known = keys.rows.map((r) => String(r.experiment_key));
      if (!known.includes(key)) {
        const hint = nearest(key, known);
        throw new UsageError(
          `unknown experiment "${key}"${hint ? `; did you mean "${hint}"?` : known.length === 0 ? ` (${o.mart} has no results yet: publish the experiments group)` : ` (known: ${known.join(', ')})`}`,
        );
      }
      const days = await read(
        c,
        `select distinct _partition_key as day from ${o.mart} where experiment_key = ${lit(key)} order by 1`,
        o.via,
      );
      const published = days.rows.map((r) => String(r.day));
      const day = o.day ?? published.at(-1) ?? '';
      if (!published.includes(day))
        throw new UsageError(
          `no published results of ${key} for ${day}; published days: ${published.at(0) ?? ''}..${published.at(-1) ?? ''}`,
        );
      const { rows, route } = await read(
        c,
        `select * from ${o.mart} where experiment_key = ${lit(key)} and _partition_key = ${lit(day)} order by metric_id, is_baseline desc, variation`,
        o.via,
      );
      const first = rows[0] ?? {};
      const srm = { pValue: num(first.srm_p_value) ?? null, mismatch: first.srm_mismatch === true };
      const excluded = Number(first.multiple_variation_users ?? 0);
      if (c.json) {
        printJson({ experiment: key, day, route, srm, multipleVariationUsers: excluded, rows });
        return;
      }
      const say = (s: string) => process.stdout.write(`${s}\n`);
      const correction = String(first.correction ?? 'none');
      say(
        `${key}: results cumulative to the end of ${day} (${String(first.engine)}, ${String(first.lift_type)} lift, ${oneSided(first.alternative)}α ${String(first.alpha)}${correction === 'none' ? '' : `, ${correction} across goal metrics`})`,
      );
      const users = rows.filter((r) => r.metric_id === first.metric_id);
      say(`users: ${users.map((r) => `${String(r.variation)} ${String(r.users)}`).join(', ')}`);
      say('');
      printTable(reportLines(rows));
      say('');
      say(
        srm.mismatch
          ? `WARNING: sample ratio mismatch (p = ${fmt(srm.pValue, 3)} < 0.001): the split of users differs from the configured weights; do not trust these results until the assignment is fixed`
          : `sample ratio: ok (SRM p = ${fmt(srm.pValue, 3)})`,
      );
      if (excluded > 0)
        say(`${excluded} user${excluded === 1 ? '' : 's'} saw several variations and are excluded`);
      process.stderr.write(
        `(${route === 'worker' ? `through the worker on task queue ${c.target.taskQueue}` : 'read directly'})\n`,
      );
    });
}
