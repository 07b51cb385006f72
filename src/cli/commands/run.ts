import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { backfillWorkflowId, startBackfill, startMaterialize, workflowUrl } from '../../runtime/index.js';
import type { BackfillSummary, MaterializeSummary, BackfillProgressView } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { watchRun } from '../progress.js';
import { planFor, planRequestFrom, printPlan, type RangeOptions } from './plan.js';

const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${flag} takes a whole number above 0, not "${v}"`);
  return n;
};

function printSummary(s: MaterializeSummary | BackfillSummary, json: boolean): void {
  if (json) return printJson(s);
  const failed = 'steps' in s ? s.steps.filter((x) => x.status !== 'success') : s.failedSteps;
  if (failed.length > 0)
    printTable(
      failed.map((f) => ({ step: f.stepId, status: f.status, error: (f.error ?? '').slice(0, 120) })),
    );
  const ok = 'succeeded' in s ? s.succeeded : s.done;
  process.stdout.write(
    `${s.status}: ${ok} succeeded, ${s.failed} failed, ${s.skipped} skipped, ${s.skippedFresh} fresh\n`,
  );
}

export function registerRun(program: Command, ctx: () => CliContext): void {
  program
    .command('materialize')
    .description('materialize a selection for one partition or a range, through the worker')
    .requiredOption('-s, --select <selection>', 'asset selection')
    .option('--partition <key>', 'one partition')
    .option('--from <date>', 'first partition (inclusive)')
    .option('--to <date>', 'last partition (inclusive)')
    .option('--force', 'rebuild fresh partitions too')
    .option('--concurrency <n>', 'steps at once', positive('--concurrency'), 4)
    .option('--no-wait', 'start the run and return')
    .action(
      async (o: RangeOptions & { select: string; force?: boolean; concurrency: number; wait: boolean }) => {
        const c = ctx();
        const request = planRequestFrom(o.select, o);
        const plan = await planFor(c, request); // validates the selection and range before anything starts
        const handle = await startMaterialize(await c.client(), c.target, {
          plan,
          concurrency: o.concurrency,
          force: o.force ?? false,
        });
        const url = workflowUrl(handle.workflowId, {
          baseUrl: c.target.uiBaseUrl,
          namespace: c.config.temporal.namespace,
        });
        if (!o.wait) {
          if (c.options.json) printJson({ workflowId: handle.workflowId, url, steps: plan.steps.length });
          else process.stdout.write(`started ${handle.workflowId} (${plan.steps.length} steps)\n${url}\n`);
          return;
        }
        if (!c.options.json) process.stdout.write(`run ${handle.workflowId}\n${url}\n`);
        const summary = await watchRun<MaterializeSummary>(handle, {
          json: c.options.json ?? false,
          label: 'materialize',
        });
        printSummary(summary, c.options.json ?? false);
        if (summary.status !== 'success') process.exitCode = 1;
      },
    );

  const backfill = program
    .command('backfill')
    .description('backfill partition ranges: start, status, list, cancel, resume');
  backfill
    .command('start')
    .requiredOption('-s, --select <selection>', 'asset selection')
    .requiredOption('--from <date>', 'first partition (inclusive)')
    .requiredOption('--to <date>', 'last partition (inclusive)')
    .option('--only <which>', 'missing | failed | all', 'missing')
    .option('--concurrency <n>', 'steps at once', positive('--concurrency'), 4)
    .option('--id <id>', 'backfill id (default: a new one)')
    .option('--dry-run', 'print the plan and start nothing')
    .option('--no-wait', 'start and return')
    .action(
      async (o: {
        select: string;
        from: string;
        to: string;
        only: string;
        concurrency: number;
        id?: string;
        dryRun?: boolean;
        wait: boolean;
      }) => {
        const c = ctx();
        if (!['missing', 'failed', 'all'].includes(o.only))
          throw new UsageError(`--only takes missing, failed or all, not "${o.only}"`);
        const only = o.only as 'missing' | 'failed' | 'all';
        const request = planRequestFrom(o.select, { from: o.from, to: o.to, force: only === 'all' });
        const plan = await planFor(c, request);
        if (o.dryRun) return printPlan(plan, c.options.json ?? false);
        const backfillId = o.id ?? `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
        const handle = await startBackfill(await c.client(), c.target, {
          backfillId,
          request,
          only,
          concurrency: o.concurrency,
        });
        const url = workflowUrl(handle.workflowId, {
          baseUrl: c.target.uiBaseUrl,
          namespace: c.config.temporal.namespace,
        });
        if (!c.options.json)
          process.stdout.write(`backfill ${backfillId} (${plan.steps.length} steps planned)\n${url}\n`);
        if (!o.wait) {
          if (c.options.json) printJson({ backfillId, workflowId: handle.workflowId, url });
          return;
        }
        const summary = await watchRun<BackfillSummary>(handle, {
          json: c.options.json ?? false,
          label: 'backfill',
        });
        printSummary(summary, c.options.json ?? false);
        if (summary.status !== 'completed') process.exitCode = 1;
      },
    );
  backfill.command('status <id>').action(async (id: string) => {
    const c = ctx();
    const handle = (await c.client()).workflow.getHandle(backfillWorkflowId(id));
    try {
      const d = await handle.describe();
      const progress =
        d.status.name === 'RUNNING' ? await handle.query<BackfillProgressView>('progress') : undefined;
      const record = (await (await c.ledger()).backfills()).find((b) => b.backfillId === id);
      const out = { backfillId: id, status: d.status.name, progress, ledger: record };
      if (c.options.json) printJson(out);
      else {
        process.stdout.write(`${id}: ${d.status.name}\n`);
        const p = progress ?? record;
        if (p) process.stdout.write(`${p.done}/${p.total} done, ${p.failed} failed\n`);
      }
    } catch (e) {
      if (e instanceof WorkflowNotFoundError)
        throw new UsageError(`no backfill "${id}" (see \`tessera backfill list\`)`);
      throw e;
    }
  });
  backfill.command('list').action(async () => {
    const c = ctx();
    const rows = (await (await c.ledger()).backfills()).map((b) => ({
      id: b.backfillId,
      status: b.status,
      selection: b.selection,
      from: b.from,
      to: b.to,
      done: b.done,
      failed: b.failed,
      total: b.total,
    }));
    if (c.options.json) printJson(rows);
    else printTable(rows);
  });
  backfill.command('cancel <id>').action(async (id: string) => {
    const c = ctx();
    await (await c.client()).workflow.getHandle(backfillWorkflowId(id)).cancel();
    if (c.options.json) printJson({ backfillId: id, cancelled: true });
    else process.stdout.write(`cancel requested for ${id}\n`);
  });
  backfill
    .command('resume <id>')
    .description(
      'start a stopped backfill again with the same id: fresh partitions are skipped, the rest run',
    )
    .option('--concurrency <n>', 'steps at once', positive('--concurrency'), 4)
    .action(async (id: string, o: { concurrency: number }) => {
      const c = ctx();
      const record = (await (await c.ledger()).backfills()).find((b) => b.backfillId === id);
      if (!record) throw new UsageError(`no backfill "${id}" in the ledger (see \`tessera backfill list\`)`);
      const request = { selection: record.selection, range: { from: record.from, to: record.to } };
      const handle = await startBackfill(await c.client(), c.target, {
        backfillId: id,
        request,
        only: 'missing',
        concurrency: o.concurrency,
      });
      const summary = await watchRun<BackfillSummary>(handle, {
        json: c.options.json ?? false,
        label: 'backfill',
      });
      printSummary(summary, c.options.json ?? false);
      if (summary.status !== 'completed') process.exitCode = 1;
    });
}
