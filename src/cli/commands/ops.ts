import type { Command } from 'commander';
import { DateTime } from 'luxon';
import type { CliContext } from '../context.js';
import { partitionHealth, type Health } from '../health.js';
import { printJson, printTable } from '../output.js';
import { planRequestFrom, type RangeOptions } from './plan.js';

const SYMBOL: Record<Health, string> = { fresh: '■', stale: '▒', failed: '✗', missing: '·' };
const GRID_WIDTH = 60;

/** status and checks: reading the ledger. */
export function registerOps(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('partition health grid: fresh ■, stale ▒, failed ✗, missing · (exit 1 when any failed)')
    .option('-s, --select <selection>', 'asset selection', '*')
    .option('--from <date>', 'first partition (default: 6 days before --to)')
    .option('--to <date>', 'last partition (default: yesterday, UTC)')
    .action(async (o: RangeOptions & { select: string }) => {
      const c = ctx();
      const defs = await c.definitions();
      const to = o.to ?? DateTime.utc().minus({ days: 1 }).toISODate() ?? '';
      const from = o.from ?? DateTime.fromISO(to).minus({ days: 6 }).toISODate() ?? '';
      const rows = await partitionHealth(defs, await c.ledger(), o.select, { from, to });
      if (rows.some((r) => r.counts.failed > 0)) process.exitCode = 1;
      if (c.json) return printJson({ from, to, assets: rows });
      const width = Math.max(...rows.map((r) => r.key.length), 5);
      const gridWidth = Math.max(...rows.map((r) => Math.min(Object.keys(r.cells).length, GRID_WIDTH + 1)));
      for (const r of rows) {
        const cells = Object.values(r.cells);
        const grid = cells
          .slice(0, GRID_WIDTH)
          .map((h) => SYMBOL[h])
          .join('');
        const more = cells.length > GRID_WIDTH ? '…' : '';
        const counts = [
          ...Object.entries(r.counts)
            .filter(([, n]) => n > 0)
            .map(([h, n]) => `${n} ${h}`),
          ...(r.quarantined > 0 ? [`${r.quarantined} quarantined`] : []),
        ].join(', ');
        process.stdout.write(`${r.key.padEnd(width)}  ${(grid + more).padEnd(gridWidth)}  ${counts}\n`);
      }
      process.stdout.write(`${from} … ${to}   ■ fresh  ▒ stale  ✗ failed  · missing\n`);
    });

  program
    .command('checks')
    .description(
      'check results of the latest materialization of each partition (exit 1 when a blocking one failed)',
    )
    .option('-s, --select <selection>', 'asset selection', '*')
    .option('--from <date>', 'first partition')
    .option('--to <date>', 'last partition')
    .option('--failed', 'only checks that failed')
    .action(async (o: RangeOptions & { select: string; failed?: boolean }) => {
      const c = ctx();
      const defs = await c.definitions();
      planRequestFrom(o.select, { from: o.from, to: o.to }); // validates the dates
      const ledger = await c.ledger();
      const rows = [];
      const latest = await ledger.materializations({
        assetKeys: defs.select(o.select),
        ...(o.from !== undefined ? { from: o.from } : {}),
        ...(o.to !== undefined ? { to: o.to } : {}),
      });
      for (const m of latest) {
        for (const r of await ledger.checkResults(m.assetKey, m.partitionKey, m.runId)) {
          if (o.failed && r.passed) continue;
          rows.push({
            asset: r.assetKey,
            partition: r.partitionKey,
            check: r.checkName,
            blocking: r.blocking,
            passed: r.passed,
            failing_rows: r.failingRows,
            detail: r.detail ?? '',
          });
        }
      }
      if (rows.some((r) => !r.passed && r.blocking)) process.exitCode = 1;
      if (c.json) return printJson(rows);
      printTable(
        rows.map((r) => ({ ...r, passed: r.passed ? 'ok' : 'FAILED', detail: r.detail.slice(0, 60) })),
      );
    });
}
