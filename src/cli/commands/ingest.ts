import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import {
  ScheduleNotFoundError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { nearest } from '../../dsl/index.js';
import { upsertIngestSchedule } from '../../runtime/schedules.js';
import { RUN_KIND } from '../../runtime/search-attributes.js';
import { workflowUrl } from '../../runtime/ui.js';
import type { ingestWorkflow } from '../../workflows/index.js';
import {
  ingestNowSignal,
  ingestProgressQuery,
  ingestWorkflowId,
  type IngestInput,
  type IngestProgress,
} from '../../workflows/ingest.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';

/**
 * `tessera ingest start|status|stop`: a source's ingestion as Temporal workflows on this config's task queue,
 * either continuous (one long-running workflow, continue-as-new) or micro-batches (a Schedule of one-pass
 * workflows). Both share the id `tessera/ingest/<taskQueue>/<source>`; one source runs in one mode at a time.
 */

/** `30s`, `1m`, `5m`, `1h`: at least a second (dev-server timers have 1 s granularity). */
export function parseEvery(v: string): string {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v.trim());
  const unit: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 };
  if (!m || Number(m[1]) * (unit[m[2] ?? ''] ?? 0) < 1000)
    throw new InvalidArgumentError('takes a duration of at least 1s, such as 30s, 1m, 5m or 1h.');
  return `${m[1]}${m[2]}`;
}

export interface IngestTarget {
  readonly taskQueue: string;
  readonly uiBaseUrl?: string;
}

export interface IngestStatus {
  readonly source: string;
  readonly mode: 'continuous' | 'schedule' | 'off';
  readonly id: string;
  /** Continuous: the wait between passes; schedule: the interval. */
  readonly every?: string;
  readonly paused?: boolean;
  /** The running workflow's progress (continuous), or the latest pass's (schedule). */
  readonly progress?: IngestProgress;
  /** The latest scheduled pass failed (its error), or the workflow closed without stopping cleanly. */
  readonly error?: string;
  readonly url?: string;
}

async function describeWorkflow(
  client: Client,
  id: string,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(id).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

const running = (d: WorkflowExecutionDescription | undefined): boolean => d?.status.name === 'RUNNING';

async function scheduleOf(client: Client, id: string) {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) return undefined;
    throw e;
  }
}

/** `p`'s value, or undefined after `ms` or on failure (queries need a worker; none may be running). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const QUERY_MS = 10_000;
const NO_WORKER = 'no worker answered the progress query: is `tessera worker` running on this task queue?';

const durationText = (ms: number): string =>
  ms % 3.6e6 === 0 ? `${ms / 3.6e6}h` : ms % 6e4 === 0 ? `${ms / 6e4}m` : `${ms / 1e3}s`;

/**
 * Starts continuous ingestion (USE_EXISTING: a running one is kept as it is) or creates/updates the micro-batch
 * schedule. Refuses to run a source in both modes at once.
 */
export async function startIngestion(
  client: Client,
  target: IngestTarget,
  o: { source: string; every: string; schedule: boolean; input?: Partial<IngestInput> },
): Promise<{ id: string; mode: 'continuous' | 'schedule'; started: boolean; every: string }> {
  const id = ingestWorkflowId(target.taskQueue, o.source);
  const input: IngestInput = { ...o.input, source: o.source, every: o.every };
  if (o.schedule) {
    if (running(await describeWorkflow(client, id)))
      throw new UsageError(
        `${o.source} is ingesting continuously; \`tessera ingest stop ${o.source}\` before scheduling it`,
      );
    const done = await upsertIngestSchedule(client, {
      scheduleId: id,
      workflowId: id,
      taskQueue: target.taskQueue,
      every: o.every,
      input,
    });
    return { id, mode: 'schedule', started: done === 'created', every: o.every };
  }
  if (await scheduleOf(client, id))
    throw new UsageError(
      `${o.source} ingests on a schedule; \`tessera ingest stop ${o.source}\` before running it continuously`,
    );
  const before = await describeWorkflow(client, id);
  const handle = await client.workflow.start<typeof ingestWorkflow>('ingestWorkflow', {
    taskQueue: target.taskQueue,
    workflowId: id,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    typedSearchAttributes: [{ key: RUN_KIND, value: 'ingest' }],
  });
  // Already running: keep it as it is, and ask for a pass now (what someone starting it again wants).
  if (running(before)) await handle.signal(ingestNowSignal);
  return { id, mode: 'continuous', started: !running(before), every: o.every };
}

/** What runs for one source: the continuous workflow, the schedule and its latest pass, or nothing. */
export async function ingestionStatus(
  client: Client,
  target: IngestTarget,
  source: string,
): Promise<IngestStatus> {
  const id = ingestWorkflowId(target.taskQueue, source);
  const ui = target.uiBaseUrl ? { baseUrl: target.uiBaseUrl } : {};
  const wf = await describeWorkflow(client, id);
  if (running(wf)) {
    const handle = client.workflow.getHandle<typeof ingestWorkflow>(id);
    const progress = await within(handle.query(ingestProgressQuery), QUERY_MS);
    return {
      source,
      mode: 'continuous',
      id,
      ...(progress?.every !== undefined ? { every: progress.every } : {}),
      ...(progress ? { progress } : { error: NO_WORKER }),
      url: workflowUrl(id, ui),
    };
  }
  const schedule = await scheduleOf(client, id);
  if (!schedule) return { source, mode: 'off', id };
  const everyMs = schedule.spec.intervals?.[0]?.every;
  const last = schedule.info.recentActions.at(-1)?.action.workflow;
  let progress: IngestProgress | undefined;
  let error: string | undefined;
  if (last) {
    const handle = client.workflow.getHandle<typeof ingestWorkflow>(
      last.workflowId,
      last.firstExecutionRunId,
    );
    const d = await handle.describe();
    if (d.status.name === 'RUNNING') {
      progress = await within(handle.query(ingestProgressQuery), QUERY_MS);
      if (!progress) error = NO_WORKER;
    } else
      progress = await handle.result().catch((e: unknown) => {
        const err = e as { cause?: { message?: string }; message?: string };
        error = err.cause?.message ?? err.message ?? String(e);
        return undefined;
      });
  }
  return {
    source,
    mode: 'schedule',
    id,
    ...(everyMs !== undefined ? { every: durationText(Number(everyMs)) } : {}),
    paused: schedule.state.paused,
    ...(progress ? { progress } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(last ? { url: workflowUrl(last.workflowId, ui) } : {}),
  };
}

/**
 * Cancels the continuous workflow (waiting for its pass to stop) and deletes the schedule; either may be absent.
 * A workflow no worker closes within `graceMs` of the cancel (none is running) is terminated.
 */
export async function stopIngestion(
  client: Client,
  target: IngestTarget,
  source: string,
  graceMs = 60_000,
): Promise<{ stopped: ('continuous' | 'schedule')[]; terminated?: boolean; progress?: IngestProgress }> {
  const id = ingestWorkflowId(target.taskQueue, source);
  const stopped: ('continuous' | 'schedule')[] = [];
  let progress: IngestProgress | undefined;
  if (await scheduleOf(client, id)) {
    await client.schedule
      .getHandle(id)
      .delete()
      .catch((e: unknown) => {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
      });
    stopped.push('schedule');
  }
  if (running(await describeWorkflow(client, id))) {
    const handle = client.workflow.getHandle<typeof ingestWorkflow>(id);
    progress = await within(handle.query(ingestProgressQuery), QUERY_MS);
    await handle.cancel();
    // Closed once the pass in flight stopped (between files): nothing lands after this returns.
    const closed = await within(
      handle.result().then(
        () => true,
        () => true,
      ),
      graceMs,
    );
    if (!closed) await handle.terminate('tessera ingest stop: not closed after the cancel (no worker?)');
    stopped.push('continuous');
    if (!closed) return { stopped, terminated: true };
  }
  return { stopped, ...(progress ? { progress: { ...progress, state: 'stopped' } } : {}) };
}

/** The sources the definitions ingest (`ingest: { source }`), or a usage error naming the nearest one. */
async function sourcesOf(c: CliContext): Promise<string[]> {
  const defs = await c.definitions();
  return [...new Set(defs.assets.flatMap((a) => (a.ingest ? [a.ingest.source] : [])))].sort();
}

async function known(c: CliContext, source: string): Promise<string> {
  const sources = await sourcesOf(c);
  if (sources.includes(source)) return source;
  const hint = nearest(source, sources);
  throw new UsageError(
    `unknown source "${source}"${hint ? `; did you mean "${hint}"?` : ''} (sources: ${sources.join(', ') || 'none'})`,
  );
}

const failing = (s: IngestStatus): boolean =>
  s.error !== undefined ||
  (s.progress?.lastErrorPass !== undefined && s.progress.lastErrorPass === s.progress.passes);

function row(s: IngestStatus): Record<string, unknown> {
  const p = s.progress;
  return {
    source: s.source,
    mode: s.mode === 'schedule' && s.paused ? 'schedule (paused)' : s.mode,
    every: s.every ?? '',
    state: p?.state ?? '',
    passes: p?.passes ?? '',
    rows: p?.rowsLanded ?? '',
    watermark: p?.lastWatermark ?? '',
    error: s.error ?? (failing(s) ? (p?.lastError ?? '') : ''),
  };
}

export function registerIngest(program: Command, ctx: () => CliContext): void {
  const ingest = program
    .command('ingest')
    .description('ingest sources as Temporal workflows: continuous, or micro-batches on a schedule');
  ingest
    .command('start <source>')
    .description('start ingesting a source on the worker (continuous unless --schedule)')
    .option(
      '--every <duration>',
      'wait between passes, or the schedule interval with --schedule',
      parseEvery,
      '1m',
    )
    .option('--schedule', 'micro-batches: a Temporal Schedule runs one pass every --every (overlap: skip)')
    .action(async (s: string, o: { every: string; schedule?: boolean }) => {
      const c = ctx();
      const source = await known(c, s);
      const r = await startIngestion(await c.client(), c.target, {
        source,
        every: o.every,
        schedule: o.schedule ?? false,
      });
      if (c.json) return printJson({ source, ...r });
      const line =
        r.mode === 'schedule'
          ? `${r.started ? 'ingesting' : 'rescheduled'} ${source}: a pass every ${r.every} (schedule ${r.id})`
          : r.started
            ? `ingesting ${source}: continuously every ${r.every}`
            : `already ingesting ${source} (a pass runs now)`;
      process.stdout.write(`${line}\n`);
      if (r.mode === 'continuous')
        process.stdout.write(`  ${workflowUrl(r.id, { baseUrl: c.target.uiBaseUrl })}\n`);
    });
  ingest
    .command('status [source]')
    .description('ingestion per source: mode, passes, rows landed, watermark, last error (exit 1 if failing)')
    .action(async (s: string | undefined) => {
      const c = ctx();
      const sources = s === undefined ? await sourcesOf(c) : [await known(c, s)];
      const client = await c.client();
      const all = await Promise.all(sources.map((x) => ingestionStatus(client, c.target, x)));
      if (all.some(failing)) process.exitCode = 1;
      if (c.json) return printJson(s === undefined ? all : all[0]);
      printTable(all.map(row));
    });
  ingest
    .command('stop <source>')
    .description('stop a source’s ingestion: cancel the continuous workflow, delete its schedule')
    .action(async (s: string) => {
      const c = ctx();
      const source = await known(c, s);
      const r = await stopIngestion(await c.client(), c.target, source);
      if (c.json) return printJson({ source, ...r });
      if (r.stopped.length === 0) process.stdout.write(`${source}: no ingestion was running\n`);
      else
        process.stdout.write(
          `stopped ${source} (${r.stopped.join(', ')})${r.terminated ? '; terminated: no worker closed it' : ''}\n`,
        );
    });
}
