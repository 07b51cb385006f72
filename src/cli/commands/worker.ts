import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import {
  connectWithRetry,
  createWorker,
  installRuntime,
  shutdownSignal,
  temporalLogger,
} from '../../runtime/index.js';
import type { CliContext } from '../context.js';
import { openPlatform } from '../platform.js';
import { positive } from './run.js';

/** Logs go to stderr: stdout is for what a command prints (`tessera dev --json` prints its addresses there). */
export function cliLogger(name: string): Logger {
  return pino({ name, level: process.env.TESSERA_LOG_LEVEL ?? 'info' }, pino.destination(2));
}

/**
 * Runs a worker until SIGINT/SIGTERM (the SDK Runtime turns them into a graceful shutdown) or `signal`: every
 * Tessera workflow and the activities over this config's engines, with the definitions module's loaders.
 */
export async function runWorker(
  ctx: CliContext,
  opts: { concurrency?: number; signal?: AbortSignal; onReady?: () => void } = {},
): Promise<void> {
  const logger = cliLogger('tessera-worker');
  installRuntime({ logger: temporalLogger(cliLogger('temporal')) });
  const config = ctx.config;
  const module = await ctx.definitionsModule();
  let loaders: readonly string[] = [];
  const platform = await openPlatform({
    config,
    definitions: module.definitions,
    logger,
    // Loaders land rows in the engines the platform opens.
    loadersFor: (engines) => {
      const built = module.loaders?.({ engines, config }) ?? {};
      loaders = Object.keys(built);
      return built;
    },
  });
  // Until the worker runs, a shutdown signal (or `signal`) stops start-up itself; then the SDK's handling does.
  const stopping = shutdownSignal();
  const abort = (): void => stopping.dispose();
  opts.signal?.addEventListener('abort', abort, { once: true });
  try {
    const connection = await connectWithRetry({
      address: config.temporal.address,
      logger,
      signal: opts.signal ? AbortSignal.any([stopping.signal, opts.signal]) : stopping.signal,
    });
    stopping.dispose();
    if (!connection) {
      logger.info('worker stopped before Temporal answered');
      return;
    }
    try {
      const worker = await createWorker({
        connection,
        taskQueue: config.temporal.taskQueue,
        namespace: config.temporal.namespace,
        activities: platform.activities,
        maxConcurrentActivityTaskExecutions: opts.concurrency ?? config.worker.maxConcurrentActivities,
        maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
      });
      opts.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
      const running = worker.run();
      logger.info(
        { taskQueue: config.temporal.taskQueue, address: config.temporal.address, loaders },
        'worker started',
      );
      opts.onReady?.();
      await running;
      logger.info('worker stopped');
    } finally {
      await connection.close();
    }
  } finally {
    stopping.dispose();
    opts.signal?.removeEventListener('abort', abort);
    // Last: the warehouse lock goes with the process, never to an orphan.
    await platform.close();
  }
}

export function registerWorker(program: Command, ctx: () => CliContext): void {
  program
    .command('worker')
    .description('run a worker (task queue and concurrency from config); stops gracefully on SIGINT/SIGTERM')
    .option('--concurrency <n>', 'steps at once on this worker', positive)
    .action(async (opts: { concurrency?: number }) => runWorker(ctx(), opts));
}
