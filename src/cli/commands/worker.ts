import type { Command } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import { createPinoLogger, createWorker, installRuntime } from '../../runtime/index.js';
import type { CliContext } from '../context.js';
import { openPlatform } from '../platform.js';

/** Runs a worker until SIGINT/SIGTERM: every Tessera workflow and the activities over this config's engines. */
export async function runWorker(
  ctx: CliContext,
  opts: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const logger = createPinoLogger({ name: 'tessera-worker' });
  installRuntime();
  const config = ctx.config;
  const platform = await openPlatform({ config, definitions: await ctx.definitions(), logger });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
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
    logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'worker started');
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await connection.close();
    await platform.close();
  }
}

export function registerWorker(program: Command, ctx: () => CliContext): void {
  program
    .command('worker')
    .description('run a worker (task queue and concurrency from config); stops gracefully on SIGTERM')
    .option('--concurrency <n>', 'steps at once on this worker', (v) => Number(v))
    .action(async (opts: { concurrency?: number }) => runWorker(ctx(), opts));
}
