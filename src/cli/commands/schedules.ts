import type { Command } from 'commander';
import { ScheduleNotFoundError } from '@temporalio/client';
import { nearest } from '../../dsl/index.js';
import {
  applySchedules,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../../runtime/schedules.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';

/** A schedule the definitions declare, or a usage error naming the nearest one. */
async function declared(c: CliContext, name: string): Promise<string> {
  const names = (await c.definitions()).schedules.map((s) => s.name);
  if (names.includes(name)) return name;
  const hint = nearest(name, names);
  throw new UsageError(
    `unknown schedule "${name}"${hint ? `; did you mean "${hint}"?` : ''} (schedules: ${names.join(', ') || 'none'})`,
  );
}

/** Runs `op` on a declared schedule; one not applied yet is a usage error saying what to run. */
async function onServer(s: string, op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError)
      throw new UsageError(`schedule "${s}" is not on the server yet; run \`tessera schedules apply\``);
    throw e;
  }
}

/** Temporal Schedules as code: the definitions' schedules, owned by this config's task queue. */
export function registerSchedules(program: Command, ctx: () => CliContext): void {
  const schedules = program
    .command('schedules')
    .description('Temporal Schedules declared in code: apply, list, pause, unpause, trigger');
  schedules
    .command('apply')
    .description("make the server's schedules match the definitions (create, update, delete)")
    .option('--dry-run', 'print the diff only')
    .action(async (o: { dryRun?: boolean }) => {
      const c = ctx();
      const defs = await c.definitions();
      const diff = await applySchedules(await c.client(), defs.schedules, {
        taskQueue: c.target.taskQueue,
        idPrefix: c.schedulePrefix,
        tick: { uiBaseUrl: c.target.uiBaseUrl },
        dryRun: o.dryRun ?? false,
      });
      if (c.json) return printJson({ ...diff, dryRun: o.dryRun ?? false });
      for (const [what, names] of Object.entries(diff))
        for (const n of names as string[]) process.stdout.write(`${what.padEnd(9)} ${n}\n`);
    });
  schedules
    .command('list')
    .description('schedules on the server with their next run')
    .action(async () => {
      const c = ctx();
      const defs = await c.definitions();
      const rows = (await listSchedules(await c.client(), c.schedulePrefix)).map((s) => ({
        name: s.name,
        cron: defs.schedules.find((d) => d.name === s.name)?.cron ?? '(not in definitions)',
        paused: s.paused,
        next: s.nextActionTimes[0]?.toISOString() ?? '',
        recent: s.recentWorkflowIds.length,
      }));
      if (c.json) printJson(rows);
      else printTable(rows);
    });
  for (const [name, fn] of [
    ['pause', pauseSchedule],
    ['unpause', unpauseSchedule],
  ] as const) {
    schedules
      .command(`${name} <schedule>`)
      .option('--note <text>', 'why (shown in the Temporal UI)')
      .action(async (s: string, o: { note?: string }) => {
        const c = ctx();
        const known = await declared(c, s);
        const client = await c.client();
        await onServer(s, () => fn(client, known, o.note, c.schedulePrefix));
        if (c.json) printJson({ schedule: s, paused: name === 'pause' });
        else process.stdout.write(`${name}d ${s}\n`);
      });
  }
  schedules
    .command('trigger <schedule>')
    .description('run a tick now, even while another runs')
    .action(async (s: string) => {
      const c = ctx();
      const known = await declared(c, s);
      const client = await c.client();
      await onServer(s, () => triggerSchedule(client, known, c.schedulePrefix));
      if (c.json) printJson({ schedule: s, triggered: true });
      else process.stdout.write(`triggered ${s}\n`);
    });
}
