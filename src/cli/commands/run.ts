import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { nearest } from '../../dsl/index.js';
import { filterPlan } from '../../planner/index.js';
import { startBackfill, startMaterialize } from '../../runtime/client.js';
import { backfillWorkflowId } from '../../runtime/ids.js';
import { workflowUrl } from '../../runtime/ui.js';
import type { BackfillSummary, MaterializeSummary, BackfillProgressView } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { watchRun } from '../progress.js';
import {
  enforceBudget,
  maxBytesOption,
  planCostFor,
  planFor,
  planRequestFrom,
  printPlan,
  type RangeOptions,
} from './plan.js';

/** Parser for `--concurrency <n>` and the like: commander reports the bad value (exit 2). */
export const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('takes a whole number above 0.');
  return n;
};

function printSummary(s: MaterializeSummary | BackfillSummary, json: boolean): void {
  if (json) return printJson(s);
  const failed = 'steps' in s ? s.steps.filter((x) => x.status !== 'success') : s.failedSteps;
  if (failed.length > 0)
    printTable(
      failed.map((f) => ({
        step: f.stepId,
        status: f.status,
        error: (f.error ?? '').replace(/\s+/g, ' ').slice(0, 120),
      })),
    );
  const ok = 'succeeded' in s ? s.succeeded : s.done;
  // Quarantine is never silent: the steps whose ingest pass set inputs aside, with their counts.
  const quarantined = 'steps' in s ? s.steps.filter((x) => (x.quarantined ?? 0) > 0) : [];
  for (const q of quarantined)
    process.stdout.write(`quarantined: ${q.quarantined ?? 0} input(s) by ${q.stepId} (see raw.quarantine)\n`);
  const total = quarantined.reduce((n, q) => n + (q.quarantined ?? 0), 0);
  process.stdout.write(
    `${s.status}: ${ok} succeeded, ${s.failed} failed, ${s.skipped} skipped, ${s.skippedFresh} fresh${total > 0 ? `, ${total} quarantined` : ''}\n`,
  );
}

const ONLY = ['missing', 'failed', 'all'] as const;

/** The backfill ids the ledger knows, for "did you mean". */
async function unknownBackfill(c: CliContext, id: string): Promise<UsageError> {
  const ids = (await (await c.ledger()).backfills()).map((b) => b.backfillId);
  const hint = nearest(id, ids);
  return new UsageError(
    `no backfill "${id}"${hint ? `; did you mean "${hint}"?` : ''} (see \`tessera backfill list\`)`,
  );
}

async function finishBackfill(
  c: CliContext,
  handle: WorkflowHandle,
  backfillId: string,
  wait: boolean,
): Promise<void> {
  const url = workflowUrl(handle.workflowId, {
    baseUrl: c.target.uiBaseUrl,
    namespace: c.config.temporal.namespace,
  });
  if (!wait) {
    if (c.json) printJson({ backfillId, workflowId: handle.workflowId, url });
    else process.stdout.write(`started backfill ${backfillId}\n${url}\n`);
    return;
  }
  if (!c.json) process.stdout.write(`backfill ${backfillId}\n${url}\n`);
  const summary = await watchRun<BackfillSummary>(handle, { json: c.json, label: 'backfill' });
  printSummary(summary, c.json);
  if (summary.status !== 'completed') process.exitCode = 1;
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
    .option('--concurrency <n>', 'steps at once', positive, 4)
    .option('--wait', 'wait for the run and show its progress', true)
    .option('--no-wait', 'start the run and return')
    .option(
      '--max-bytes <size>',
      'refuse to start (exit 1) when the BigQuery dry runs add up to more, e.g. 10GB',
    )
    .action(
      async (
        o: RangeOptions & {
          select: string;
          force?: boolean;
          concurrency: number;
          wait: boolean;
          maxBytes?: string;
        },
      ) => {
        const c = ctx();
        const maxBytes = maxBytesOption(o.maxBytes);
        const request = planRequestFrom(o.select, o);
        const plan = await planFor(c, request); // validates the selection and range before anything starts
        // Cost before it is spent: over the budget, nothing starts.
        if (maxBytes !== undefined) enforceBudget(await planCostFor(c, plan), maxBytes);
        if (plan.steps.length === 0) {
          const summary: MaterializeSummary = {
            runId: '',
            status: 'success',
            total: 0,
            succeeded: 0,
            failed: 0,
            skipped: 0,
            skippedFresh: plan.skippedFresh,
            steps: [],
          };
          if (!c.json)
            process.stdout.write('nothing to do: every selected partition is fresh (--force rebuilds)\n');
          return printSummary(summary, c.json);
        }
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
          if (c.json) printJson({ workflowId: handle.workflowId, url, steps: plan.steps.length });
          else process.stdout.write(`started ${handle.workflowId} (${plan.steps.length} steps)\n${url}\n`);
          return;
        }
        if (!c.json) process.stdout.write(`run ${handle.workflowId} (${plan.steps.length} steps)\n${url}\n`);
        const summary = await watchRun<MaterializeSummary>(handle, { json: c.json, label: 'materialize' });
        printSummary(summary, c.json);
        if (summary.status !== 'success') process.exitCode = 1;
      },
    );

  const backfill = program
    .command('backfill')
    .description('backfill partition ranges: start, status, list, cancel, resume');
  backfill
    .command('start')
    .description('plan a range and run it with bounded concurrency, resumable, with a live progress bar')
    .requiredOption('-s, --select <selection>', 'asset selection')
    .requiredOption('--from <date>', 'first partition (inclusive)')
    .requiredOption('--to <date>', 'last partition (inclusive)')
    .addOption(new Option('--only <which>', 'which partitions to run').choices(ONLY).default('missing'))
    .option('--concurrency <n>', 'steps at once', positive, 4)
    .option('--window-days <n>', 'plan and run a long range this many days at a time', positive, 14)
    .option('--id <id>', 'backfill id (default: a new one)')
    .option('--dry-run', 'print the plan and start nothing')
    .option(
      '--max-bytes <size>',
      'refuse to start (exit 1) when the BigQuery dry runs of the steps it would run add up to more, e.g. 10GB',
    )
    .option('--wait', 'wait and show progress', true)
    .option('--no-wait', 'start and return')
    .action(
      async (o: {
        select: string;
        from: string;
        to: string;
        only: (typeof ONLY)[number];
        concurrency: number;
        windowDays: number;
        id?: string;
        dryRun?: boolean;
        maxBytes?: string;
        wait: boolean;
      }) => {
        const c = ctx();
        const maxBytes = maxBytesOption(o.maxBytes);
        if (o.id !== undefined && !/^[\w.:-]+$/.test(o.id))
          throw new UsageError(`--id "${o.id}" may hold only letters, digits, '_', '-', '.' and ':'`);
        const request = planRequestFrom(o.select, { from: o.from, to: o.to, force: o.only === 'all' });
        const plan = await planFor(c, request);
        // Cost before it is spent: the steps `--only` keeps, estimated before anything starts.
        if (maxBytes !== undefined)
          enforceBudget(await planCostFor(c, { ...plan, steps: filterPlan(plan, o.only) }), maxBytes);
        if (o.dryRun) return printPlan(plan, c.json);
        const backfillId = o.id ?? `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
        const handle = await startBackfill(await c.client(), c.target, {
          backfillId,
          request,
          only: o.only,
          concurrency: o.concurrency,
          windowDays: o.windowDays,
        });
        await finishBackfill(c, handle, backfillId, o.wait);
      },
    );
  backfill
    .command('status <id>')
    .description('state of a backfill: live progress while it runs, the ledger record after')
    .action(async (id: string) => {
      const c = ctx();
      const handle = (await c.client()).workflow.getHandle(backfillWorkflowId(id));
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw await unknownBackfill(c, id);
        throw e;
      }
      const progress =
        status === 'RUNNING'
          ? await handle.query<BackfillProgressView>('progress').catch(() => undefined)
          : undefined;
      const record = (await (await c.ledger()).backfills()).find((b) => b.backfillId === id);
      if (c.json) return printJson({ backfillId: id, status, progress, ledger: record });
      process.stdout.write(`${id}: ${status}\n`);
      const p = progress ?? record;
      if (p) process.stdout.write(`${p.done}/${p.total} done, ${p.failed} failed\n`);
      if (record) process.stdout.write(`${record.selection} from ${record.from} to ${record.to}\n`);
    });
  backfill
    .command('list')
    .description('backfills in the ledger, newest first')
    .action(async () => {
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
      if (c.json) printJson(rows);
      else printTable(rows);
    });
  backfill
    .command('cancel <id>')
    .description('cancel a running backfill (steps in flight are cancelled; `resume` continues it)')
    .action(async (id: string) => {
      const c = ctx();
      const handle = (await c.client()).workflow.getHandle(backfillWorkflowId(id));
      try {
        const { status } = await handle.describe();
        if (status.name !== 'RUNNING')
          throw new UsageError(`backfill "${id}" is not running (${status.name}); nothing to cancel`);
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw await unknownBackfill(c, id);
        throw e;
      }
      await handle.cancel();
      if (c.json) printJson({ backfillId: id, cancelled: true });
      else process.stdout.write(`cancel requested for ${id}\n`);
    });
  backfill
    .command('resume <id>')
    .description(
      'start a stopped backfill again with the same id: fresh partitions are skipped, the rest run',
    )
    .option('--concurrency <n>', 'steps at once', positive, 4)
    .option('--wait', 'wait and show progress', true)
    .option('--no-wait', 'start and return')
    .action(async (id: string, o: { concurrency: number; wait: boolean }) => {
      const c = ctx();
      const record = (await (await c.ledger()).backfills()).find((b) => b.backfillId === id);
      if (!record) throw await unknownBackfill(c, id);
      const request = { selection: record.selection, range: { from: record.from, to: record.to } };
      const handle = await startBackfill(await c.client(), c.target, {
        backfillId: id,
        request,
        only: 'missing',
        concurrency: o.concurrency,
      });
      await finishBackfill(c, handle, id, o.wait);
    });
}
