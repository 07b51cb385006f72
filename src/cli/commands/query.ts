import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { DateTime } from 'luxon';
import { snapshotInstant } from '../../activities/step-context.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printCsv, printJson, printTable } from '../output.js';
import { queryWarehouse, VIAS, type Via } from '../warehouse.js';
import { positive } from './run.js';

const FORMATS = ['table', 'json', 'csv'] as const;

/**
 * `--as-of` as an instant: a timestamp (ISO 8601; UTC unless it has an offset), or a date meaning the end of
 * that day in UTC, the cut of the daily snapshot of that day.
 */
export function asOfInstant(value: string): string {
  const bad = () =>
    new UsageError(
      `--as-of "${value}" is not a date (2026-11-02, end of that day UTC) or a timestamp (2026-11-02T13:00:00Z)`,
    );
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = DateTime.fromISO(value, { zone: 'utc' });
    if (!day.isValid) throw bad();
    return snapshotInstant(day.plus({ days: 1 }).toISO() ?? '');
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) throw bad();
  const t = DateTime.fromISO(value.replace(' ', 'T'), { zone: 'utc', setZone: true });
  if (!t.isValid) throw bad();
  return t.toUTC().toISO() ?? '';
}

export function registerQuery(program: Command, ctx: () => CliContext): void {
  program
    .command('query <sql>')
    .description(
      'run one read-only SELECT on the warehouse (directly, or through the worker while it holds the warehouse)',
    )
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--as-of <time>', 'read SCD2 assets as they were then (a date means the end of that day, UTC)')
    .option(
      '--committed-at <time>',
      "read the assets' tables (marts aside) as the engine committed them then: Iceberg time travel on Trino",
    )
    .option('--limit <n>', 'rows at most', positive, 1000)
    .option('--engine <name>', 'engine from config (default: the default engine)')
    .addOption(new Option('--via <route>', 'how to reach the warehouse').choices(VIAS).default('auto'))
    .addHelpText(
      'after',
      `
Examples:
  tessera query "select country, count(*) from core.dim_users where is_current group by 1"
  tessera query "select * from core.dim_users u where u.user_id = 7" --as-of 2026-11-02
  tessera query "select count(*) from core.fct_purchases" --committed-at 2026-11-03T06:00:00Z --engine trino
  tessera query - --format csv < report.sql`,
    )
    .action(
      async (
        sqlArg: string,
        o: {
          format: (typeof FORMATS)[number];
          asOf?: string;
          committedAt?: string;
          limit: number;
          engine?: string;
          via: Via;
        },
      ) => {
        const c = ctx();
        const sql = sqlArg === '-' ? readFileSync(0, 'utf8') : sqlArg;
        const asOf = o.asOf === undefined ? undefined : asOfInstant(o.asOf);
        const committedAt = o.committedAt === undefined ? undefined : asOfInstant(o.committedAt);
        const { result, route } = await queryWarehouse(
          c,
          {
            sql,
            limit: o.limit,
            ...(asOf ? { asOf } : {}),
            ...(committedAt ? { committedAt } : {}),
            ...(o.engine ? { engine: o.engine } : {}),
          },
          o.via,
        );
        const columns = result.columns.map((col) => col.name);
        const format = c.json ? 'json' : o.format;
        if (format === 'json') return printJson({ ...result, route, ...(asOf ? { asOf } : {}) });
        if (format === 'csv') printCsv(result.rows, columns);
        else printTable(result.rows, columns);
        const notes = [
          `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`,
          ...(result.truncated ? [`truncated at --limit ${o.limit}`] : []),
          ...(asOf ? [`${(result.asOfAssets ?? []).join(', ')} as of ${asOf}`] : []),
          ...(committedAt
            ? [`${(result.committedAtAssets ?? []).join(', ')} as committed at ${committedAt}`]
            : []),
          route === 'worker' ? `through the worker on task queue ${c.target.taskQueue}` : 'read directly',
        ];
        process.stderr.write(`(${notes.join('; ')})\n`);
      },
    );
}
