import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { createEngine } from '../../engines/index.js';
import {
  applySchedules,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../../runtime/index.js';
import { partitionKeysFor } from '../../planner/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { planRequestFrom, type RangeOptions } from './plan.js';

type Health = 'fresh' | 'stale' | 'failed' | 'missing' | 'running';
const SYMBOL: Record<Health, string> = { fresh: '■', stale: '▒', failed: '✗', missing: '·', running: '▶' };

/** status, checks, publish and schedules: reading the ledger and steering Temporal. */
export function registerOps(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('partition health grid: fresh ■, stale ▒, failed ✗, missing ·')
    .option('-s, --select <selection>', 'asset selection', '*')
    .option('--from <date>', 'first partition')
    .option('--to <date>', 'last partition')
    .action(async (o: RangeOptions & { select: string }) => {
      const c = ctx();
      const defs = await c.definitions();
      const keys = defs.select(o.select);
      const to = o.to ?? DateTime.utc().minus({ days: 1 }).toISODate() ?? '';
      const from = o.from ?? DateTime.fromISO(to).minus({ days: 6 }).toISODate() ?? '';
      const request = planRequestFrom(o.select, { from, to });
      const ledger = await c.ledger();
      const view = await ledger.view(keys);
      const { plan } = await import('../../planner/index.js');
      const stale = new Set(plan(defs, request, view).steps.map((s) => s.id));
      const rows = keys.map((key) => {
        const a = defs.asset(key);
        const cells: Record<string, Health> = {};
        for (const pk of partitionKeysFor(a.partitions, request.range, undefined)) {
          const latest = view.latest(key, pk);
          cells[pk] = !latest
            ? 'missing'
            : latest.status === 'failed'
              ? 'failed'
              : stale.has(`${key}@${pk}`)
                ? 'stale'
                : 'fresh';
        }
        return { key, cells };
      });
      if (c.options.json) return printJson({ from, to, assets: rows });
      for (const r of rows) {
        const cells = Object.values(r.cells);
        const counts = (['fresh', 'stale', 'failed', 'missing'] as const).map(
          (h) => `${cells.filter((x) => x === h).length} ${h}`,
        );
        const grid =
          cells.length > 60
            ? `${cells
                .slice(0, 60)
                .map((h) => SYMBOL[h])
                .join('')}…`
            : cells.map((h) => SYMBOL[h]).join('');
        process.stdout.write(`${r.key.padEnd(42)} ${grid.padEnd(26)} ${counts.join(', ')}\n`);
      }
      if (rows.some((r) => Object.values(r.cells).includes('failed'))) process.exitCode = 1;
    });

  program
    .command('checks')
    .description('latest check results per asset partition')
    .option('-s, --select <selection>', 'asset selection', '*')
    .action(async (o: { select: string }) => {
      const c = ctx();
      const defs = await c.definitions();
      const ledger = await c.ledger();
      const rows = [];
      for (const m of await ledger.materializations({ assetKeys: defs.select(o.select) })) {
        for (const r of await ledger.checkResults(m.assetKey, m.partitionKey, m.runId)) {
          rows.push({
            asset: r.assetKey,
            partition: r.partitionKey,
            check: r.checkName,
            blocking: r.blocking,
            passed: r.passed,
            failing_rows: r.failingRows,
          });
        }
      }
      if (c.options.json) printJson(rows);
      else printTable(rows);
      if (rows.some((r) => !r.passed && r.blocking)) process.exitCode = 1;
    });

  const publish = program.command('publish').description('publish groups: status and rollback');
  publish.command('status [group]').action(async (group?: string) => {
    const c = ctx();
    const defs = await c.definitions();
    const groups = group ? [group] : defs.publishGroups.map((g) => g.name);
    const known = defs.publishGroups.map((g) => g.name);
    for (const g of groups)
      if (!known.includes(g))
        throw new UsageError(`unknown publish group "${g}"; groups: ${known.join(', ')}`);
    const ledger = await c.ledger();
    const out = await Promise.all(
      groups.map(async (g) => ({ group: g, publications: (await ledger.publications(g)).slice(-5) })),
    );
    if (c.options.json) return printJson(out);
    for (const o of out) {
      const last = o.publications.at(-1);
      process.stdout.write(
        `${o.group}: ${last ? `version ${last.version} published ${last.publishedAt} by ${last.runId}` : 'never published'}\n`,
      );
    }
  });
  publish
    .command('rollback <group>')
    .description('serve the previous version of a group again (needs the warehouse: stop the worker)')
    .action(async (group: string) => {
      const c = ctx();
      const defs = await c.definitions();
      if (!defs.publishGroups.some((g) => g.name === group))
        throw new UsageError(`unknown publish group "${group}"`);
      const engine = await createEngine(c.config.engines[c.config.defaultEngine]);
      try {
        const r = await engine.rollbackPublishGroup(group);
        if (c.options.json) printJson(r);
        else process.stdout.write(`${group} now serves version ${r.state.version}\n`);
      } finally {
        await engine.close();
      }
    });

  const schedules = program.command('schedules').description('Temporal Schedules declared in code');
  schedules
    .command('apply')
    .option('--dry-run', 'print the diff only')
    .action(async (o: { dryRun?: boolean }) => {
      const c = ctx();
      const defs = await c.definitions();
      const diff = await applySchedules(await c.client(), defs.schedules, {
        taskQueue: c.target.taskQueue,
        tick: { uiBaseUrl: c.target.uiBaseUrl },
        dryRun: o.dryRun ?? false,
      });
      if (c.options.json) return printJson(diff);
      for (const [what, names] of Object.entries(diff))
        for (const n of names as string[]) process.stdout.write(`${what.padEnd(9)} ${n}\n`);
    });
  schedules.command('list').action(async () => {
    const c = ctx();
    const rows = (await listSchedules(await c.client())).map((s) => ({
      name: s.name,
      paused: s.paused,
      next: s.nextActionTimes[0]?.toISOString() ?? '',
      recent: s.recentWorkflowIds.length,
    }));
    if (c.options.json) printJson(rows);
    else printTable(rows);
  });
  for (const [name, fn] of [
    ['pause', pauseSchedule],
    ['unpause', unpauseSchedule],
  ] as const) {
    schedules.command(`${name} <schedule>`).action(async (s: string) => {
      const c = ctx();
      await fn(await c.client(), s);
      if (c.options.json) printJson({ schedule: s, [name]: true });
      else process.stdout.write(`${name}d ${s}\n`);
    });
  }
  schedules.command('trigger <schedule>').action(async (s: string) => {
    const c = ctx();
    await triggerSchedule(await c.client(), s);
    if (c.options.json) printJson({ schedule: s, triggered: true });
    else process.stdout.write(`triggered ${s}\n`);
  });
}
