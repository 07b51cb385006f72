import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DateTime } from 'luxon';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson } from '../output.js';
import { positive } from './run.js';

/** Writes simulated BookMyEvent sources into the landing folder the default worker's loaders read. */
export function registerSimulate(program: Command, ctx: () => CliContext): void {
  program
    .command('simulate')
    .description(
      'simulate BookMyEvent (Debezium changes, Snowplow events, ads, FX) into the landing folder, with its ground truth',
    )
    .option('--seed <n>', 'random seed (same seed, same files)', (v) => Number(v), 42)
    .option('--start <date>', 'first day', '2026-11-01')
    .option('--days <n>', 'days to simulate', positive, 14)
    .addOption(new Option('--scale <scale>', 'volume').choices(['small', 'demo']).default('demo'))
    .option('--landing <dir>', 'landing folder (default: <stateDir>/landing)')
    .action(
      async (o: { seed: number; start: string; days: number; scale: 'small' | 'demo'; landing?: string }) => {
        const c = ctx();
        if (!Number.isInteger(o.seed)) throw new UsageError(`--seed takes a whole number, not "${o.seed}"`);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(o.start) || !DateTime.fromISO(o.start).isValid)
          throw new UsageError(`--start "${o.start}" is not a date like 2026-11-01`);
        const landingDir = o.landing ? resolve(o.landing) : join(c.config.stateDir, 'landing');
        const { simulate } = await import('../../simulator/index.js');
        const t0 = performance.now();
        const truth = await simulate({
          seed: o.seed,
          start: o.start,
          days: o.days,
          landingDir,
          scale: o.scale,
        });
        const seconds = Math.round(performance.now() - t0) / 1000;
        const files = truth.files.debezium.length + truth.files.snowplow.length + 2;
        if (c.json) return printJson({ landingDir, seconds, files, totals: truth.totals });
        process.stdout.write(
          `simulated ${o.days} days from ${o.start} (seed ${o.seed}, ${o.scale}) in ${seconds}s: ${files} files in ${landingDir}\n`,
        );
        for (const [k, v] of Object.entries(truth.totals)) process.stdout.write(`  ${k.padEnd(28)} ${v}\n`);
        process.stdout.write(`ground truth: ${join(landingDir, 'truth.json')}\n`);
      },
    );
}
