import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { printPlan } from './plan.js';
import { plan } from '../../planner/index.js';
import { ledgerViewOf } from '../../ledger/index.js';

/**
 * The README's main job. Today: load and validate BookMyEvent's catalog and plan 14 days of it.
 * It grows into the full pipeline (simulate, run through Temporal, publish) as the runtime lands.
 */
export function registerDemo(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description("BookMyEvent's pipeline end to end on the embedded default")
    .option('--from <date>', 'first day', '2026-11-01')
    .option('--to <date>', 'last day', '2026-11-14')
    .action(async (opts: { from: string; to: string }) => {
      const defs = await ctx().definitions();
      const json = ctx().options.json ?? false;
      if (!json) {
        process.stdout.write(`Catalog: ${defs.assets.length} assets valid; publish groups: `);
        process.stdout.write(
          `${defs.publishGroups.map((g) => `${g.name} (${g.assets.join(', ')})`).join('; ')}\n`,
        );
      }
      const p = plan(defs, { selection: '*', range: { from: opts.from, to: opts.to } }, ledgerViewOf([]));
      printPlan(json ? p : { ...p, steps: p.steps.filter((s) => !s.partitionKey.includes('T')) }, json);
    });
}
