/**
 * Worker creation. One worker hosts every Tessera workflow plus the given activities and the runtime's own
 * (awaitStepWorkflow). Shutdown: the SDK Runtime turns SIGINT/SIGTERM into worker.shutdown() (running
 * activities get `shutdownGraceTime` to finish, then are cancelled and retried elsewhere).
 */
import type { Client } from '@temporalio/client';
import type { Duration, Logger } from '@temporalio/common';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { WorkerOptions, WorkflowBundleOption } from '@temporalio/worker';
import type { Activities, TesseraActivities } from '../activities/types.js';
import { createRuntimeActivities } from './activities.js';
import { workflowBundle } from './bundle.js';
import { faultInterceptors, FAULTS_ENV, parseFaults } from './faults.js';
import type { TemporalConfig } from './config.js';
import { createPinoLogger, temporalLogger } from './logger.js';
import { connectWithRetry, shutdownSignal } from './worker-connect.js';

export interface CreateWorkerOptions {
  readonly connection: NativeConnection;
  /** Client the runtime activities use to await step workflows of other runs (default: the worker's own). */
  readonly client?: Client;
  readonly taskQueue: string;
  readonly namespace?: string;
  readonly activities: TesseraActivities;
  /** Steps running at once on this worker (default 8). */
  readonly maxConcurrentActivityTaskExecutions?: number;
  readonly maxConcurrentLocalActivityExecutions?: number;
  readonly maxConcurrentWorkflowTaskExecutions?: number;
  readonly maxCachedWorkflows?: number;
  /** Time running activities get to finish on shutdown before they are cancelled (default 10s). */
  readonly shutdownGraceTime?: Duration;
  readonly workflowBundle?: WorkflowBundleOption;
  readonly identity?: string;
  /**
   * Longest wait before a heartbeat reaches the server (default 5s). Cancellation reaches a running activity only
   * on a heartbeat response, so this bounds how long a cancelled step keeps running.
   */
  readonly maxHeartbeatThrottleInterval?: Duration;
  /** Heartbeat period of awaitStepWorkflow (default 5s). */
  readonly awaitHeartbeatMs?: number;
}

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const activities: Activities = {
    ...opts.activities,
    ...createRuntimeActivities({ client: opts.client, heartbeatMs: opts.awaitHeartbeatMs }),
  };
  const options: WorkerOptions = {
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle ?? (await workflowBundle()),
    activities,
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 8,
    maxConcurrentLocalActivityExecutions: opts.maxConcurrentLocalActivityExecutions,
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: opts.maxCachedWorkflows,
    shutdownGraceTime: opts.shutdownGraceTime ?? '10s',
    identity: opts.identity,
    maxHeartbeatThrottleInterval: opts.maxHeartbeatThrottleInterval ?? '5s',
  };
  // Chaos tests only (src/runtime/faults.ts); unset everywhere else.
  const faults = parseFaults(process.env[FAULTS_ENV]);
  if (faults) options.interceptors = { activity: faultInterceptors(faults) };
  // The native layer rejects explicit `undefined`s: pass only what is set.
  return Worker.create(
    Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as WorkerOptions,
  );
}

let installed = false;

/**
 * Installs the SDK Runtime once per process: SDK and workflow logs go through pino; the listed signals shut
 * every worker down gracefully. Call before creating connections or workers (CLI entry points only).
 */
export function installRuntime(opts: { logger?: Logger; shutdownSignals?: NodeJS.Signals[] } = {}): void {
  if (installed) return;
  Runtime.install({
    logger: opts.logger ?? temporalLogger(createPinoLogger({ name: 'temporal' })),
    shutdownSignals: opts.shutdownSignals ?? ['SIGINT', 'SIGTERM'],
  });
  installed = true;
}

/** Connects (waiting for the server when it is not up yet), runs a worker until a shutdown signal, then closes the connection. */
export async function runWorker(
  config: TemporalConfig,
  activities: TesseraActivities,
  opts: Partial<Omit<CreateWorkerOptions, 'connection' | 'activities'>> = {},
): Promise<void> {
  installRuntime();
  const log = createPinoLogger({ name: 'worker' });
  const stopping = shutdownSignal();
  const connection = await connectWithRetry({
    address: config.address,
    logger: log,
    signal: stopping.signal,
  });
  stopping.dispose();
  if (!connection) return;
  try {
    const worker = await createWorker({
      taskQueue: config.taskQueue,
      namespace: config.namespace,
      ...opts,
      connection,
      activities,
    });
    log.info({ taskQueue: config.taskQueue, address: config.address }, 'worker started');
    await worker.run();
    log.info('worker stopped');
  } finally {
    await connection.close();
  }
}
