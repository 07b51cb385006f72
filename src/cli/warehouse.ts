/**
 * Reaching the warehouse from the CLI while a worker may hold it. DuckDB allows one writing process per file
 * and a worker keeps its warehouse open, so:
 * 1. open the file directly (read-only for queries, read-write for a rollback); DuckDB refuses when another
 *    process holds it, and then
 * 2. route the request through the worker: a one-activity workflow (queryWorkflow / rollbackGroupWorkflow) on
 *    the configured task queue, after checking that a worker polls it.
 * Both routes run the same code (src/activities/query.ts). `via` forces one.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApplicationFailure,
  TemporalFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time.js';
import { rollbackGroup, runReadOnlyQuery } from '../activities/query.js';
import {
  QUERY_REJECTED_ERROR_TYPE,
  type QueryResult,
  type RollbackGroupResult,
  type RunQueryInput,
} from '../activities/types.js';
import { assetEngineResolver } from '../config/index.js';
import { nearest } from '../dsl/index.js';
import { createEngine, type Engine } from '../engines/index.js';
import type { queryWorkflow, rollbackGroupWorkflow } from '../workflows/index.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

export type Via = 'auto' | 'direct' | 'worker';
export type Route = 'direct' | 'worker';
export const VIAS: readonly Via[] = ['auto', 'direct', 'worker'];

/** DuckDB's message when another process holds the file. */
const LOCKED = /Could not set lock|Conflicting lock/i;
/** Pollers seen this recently count as a live worker (an idle worker re-polls about every minute). */
const POLLER_FRESH_MS = 90_000;
/** How long a worker has to take a routed request before the CLI gives up on it. */
const PICKUP_MS = 10_000;

type Opened = { engine: Engine } | { busy: string };

function engineConfig(ctx: CliContext, name: string) {
  const engines = ctx.config.engines;
  const cfg = engines[name];
  if (!cfg) {
    const hint = nearest(name, Object.keys(engines));
    throw new UsageError(`unknown engine "${name}"${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  return cfg;
}

/** Opens an engine in this process, or says why it must go through the worker. */
async function openHere(ctx: CliContext, name: string, readOnly: boolean): Promise<Opened> {
  const cfg = engineConfig(ctx, name);
  if (cfg.type !== 'duckdb') return { busy: `engine "${name}" (${cfg.type}) is reached through the worker` };
  if (cfg.path === ':memory:') return { busy: `the in-memory warehouse lives inside the worker` };
  if (!existsSync(cfg.path))
    throw new Error(`the warehouse ${cfg.path} does not exist yet: materialize something first`);
  try {
    return { engine: await createEngine({ ...cfg, readOnly }) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (LOCKED.test(message)) return { busy: `the warehouse ${cfg.path} is held by another process` };
    throw e;
  }
}

/** Errors of either route, as the CLI reports them: a refused statement is a usage error (exit 2). */
function cliError(e: unknown): unknown {
  let c: unknown = e instanceof WorkflowFailedError ? e.cause : e;
  while (c instanceof TemporalFailure && !(c instanceof ApplicationFailure) && c.cause) c = c.cause;
  if (c instanceof ApplicationFailure)
    return c.type === QUERY_REJECTED_ERROR_TYPE ? new UsageError(c.message) : new Error(c.message);
  return c instanceof Error ? c : e;
}

async function requireWorker(ctx: CliContext, client: Client, why: string): Promise<void> {
  const { taskQueue, namespace, address } = { ...ctx.config.temporal, taskQueue: ctx.target.taskQueue };
  const deadline = Date.now() + 3_000;
  for (;;) {
    const r = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    const live = r.pollers.some((p) => {
      const seen = optionalTsToDate(p.lastAccessTime);
      return seen !== undefined && Date.now() - seen.getTime() < POLLER_FRESH_MS;
    });
    if (live) return;
    if (Date.now() > deadline)
      throw new Error(
        `${why}, and no worker polls task queue "${taskQueue}" at ${address}: stop that process, or start \`tessera worker\` with this config`,
      );
    await sleep(500);
  }
}

/**
 * The workflow's result, or an error when no worker takes its first task in time: pollers of a worker that
 * stopped a moment ago still look alive to the server, and the request would otherwise wait for the timeout.
 */
async function resultOrNoWorker<R>(handle: WorkflowHandle, why: string, taskQueue: string): Promise<R> {
  let settled = false;
  const result = (handle.result() as Promise<R>).finally(() => (settled = true));
  const deadline = Date.now() + PICKUP_MS;
  while (!settled && Date.now() < deadline) {
    await Promise.race([result.catch(() => undefined), sleep(300)]);
    if (settled) break;
    const d = await handle.describe();
    // Started + task scheduled = 2 events: nobody has taken the task yet.
    if (d.historyLength > 2 || d.status.name !== 'RUNNING') return result;
  }
  if (!settled) {
    await handle.terminate('no worker took the request').catch(() => undefined);
    throw new Error(
      `${why}, and no worker on task queue "${taskQueue}" took the request within ${PICKUP_MS / 1000} s: start \`tessera worker\` with this config`,
    );
  }
  return result;
}

async function throughWorker<R>(
  ctx: CliContext,
  why: string,
  start: (client: Client) => Promise<WorkflowHandle>,
): Promise<R> {
  const client = await ctx.client();
  await requireWorker(ctx, client, why);
  try {
    return await resultOrNoWorker<R>(await start(client), why, ctx.target.taskQueue);
  } catch (e) {
    throw cliError(e);
  }
}

const forced = (via: Via, why: string): never => {
  throw new Error(`${why}; --via ${via} cannot be honoured (try --via auto)`);
};

export async function queryWarehouse(
  ctx: CliContext,
  input: RunQueryInput,
  via: Via,
): Promise<{ result: QueryResult; route: Route }> {
  const defs = await ctx.definitions();
  const name = input.engine ?? ctx.config.defaultEngine;
  let why = `--via worker`;
  if (via !== 'worker') {
    const opened = await openHere(ctx, name, true);
    if ('engine' in opened) {
      try {
        return { result: await runReadOnlyQuery(opened.engine, defs, input), route: 'direct' };
      } catch (e) {
        throw cliError(e);
      } finally {
        await opened.engine.close();
      }
    }
    if (via === 'direct') forced(via, opened.busy);
    why = opened.busy;
  }
  const result = await throughWorker<QueryResult>(ctx, why, (client) =>
    client.workflow.start<typeof queryWorkflow>('queryWorkflow', {
      taskQueue: ctx.target.taskQueue,
      workflowId: `tessera/query/${randomUUID()}`,
      args: [input],
      workflowExecutionTimeout: '10m',
    }),
  );
  return { result, route: 'worker' };
}

export async function rollbackWarehouse(
  ctx: CliContext,
  group: string,
  via: Via,
): Promise<{ result: RollbackGroupResult; route: Route }> {
  const defs = await ctx.definitions();
  const spec = defs.publishGroups.find((g) => g.name === group);
  if (!spec) {
    const hint = nearest(
      group,
      defs.publishGroups.map((g) => g.name),
    );
    throw new UsageError(`unknown publish group "${group}"${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  const engineOf = assetEngineResolver(ctx.config, defs);
  const engineName = (key: string) => engineOf(defs.asset(key));
  let why = '--via worker';
  if (via !== 'worker') {
    const opened = new Map<string, Engine>();
    let busy: string | undefined;
    try {
      for (const name of new Set(spec.assets.map(engineName))) {
        const o = await openHere(ctx, name, false);
        if ('busy' in o) {
          busy = o.busy;
          break;
        }
        opened.set(name, o.engine);
      }
      if (busy === undefined) {
        const engineOf = async (a: { key: string }): Promise<Engine> => {
          const e = opened.get(engineName(a.key));
          if (!e) throw new Error(`engine of ${a.key} is not open`);
          return e;
        };
        return { result: await rollbackGroup({ definitions: defs, engineOf }, { group }), route: 'direct' };
      }
    } catch (e) {
      throw cliError(e);
    } finally {
      for (const e of opened.values()) await e.close();
    }
    if (via === 'direct') forced(via, busy);
    why = busy;
  }
  const result = await throughWorker<RollbackGroupResult>(ctx, why, (client) =>
    client.workflow.start<typeof rollbackGroupWorkflow>('rollbackGroupWorkflow', {
      taskQueue: ctx.target.taskQueue,
      workflowId: `tessera/rollback/${group}/${randomUUID()}`,
      args: [{ group }],
      workflowExecutionTimeout: '10m',
    }),
  );
  return { result, route: 'worker' };
}
