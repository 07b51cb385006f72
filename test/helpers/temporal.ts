/**
 * Real Temporal server for tests: reuses the one at TESSERA_TEMPORAL_ADDRESS (default 127.0.0.1:7233) when it
 * answers, otherwise starts it with scripts/services/temporal.sh (which installs the CLI on first use).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import type { TesseraActivities } from '../../src/activities/types.js';
import { createWorker } from '../../src/runtime/worker.js';
import type { CreateWorkerOptions } from '../../src/runtime/worker.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEMPORAL_ADDRESS = process.env.TESSERA_TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
/** Where the CLI says the Web UI is: the URL, else the moved port (as src/runtime/ui.ts resolves it). */
export const UI_BASE_URL =
  process.env.TESSERA_TEMPORAL_UI_URL ?? `http://127.0.0.1:${process.env.TESSERA_TEMPORAL_UI_PORT ?? '8233'}`;

async function healthy(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 2_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

let ensured: Promise<void> | undefined;

export function ensureTemporalServer(): Promise<void> {
  ensured ??= (async () => {
    if (await healthy(TEMPORAL_ADDRESS)) return;
    const port = TEMPORAL_ADDRESS.split(':').pop() ?? '7233';
    await promisify(execFile)(join(repo, 'scripts', 'services', 'temporal.sh'), ['start'], {
      env: { ...process.env, TESSERA_TEMPORAL_PORT: port },
      timeout: 180_000,
    });
    if (!(await healthy(TEMPORAL_ADDRESS)))
      throw new Error(`Temporal at ${TEMPORAL_ADDRESS} did not come up`);
  })();
  return ensured;
}

export interface TemporalTestEnv {
  readonly client: Client;
  readonly connection: Connection;
  readonly nativeConnection: NativeConnection;
  /** A task queue unique to this env (one per test file). */
  readonly taskQueue: string;
  /** Prefix unique to this env for asset keys, so step ids never collide across files or runs. */
  readonly ns: string;
  close(): Promise<void>;
}

let runtimeInstalled = false;

/** SDK logs at ERROR only (TESSERA_TEST_LOG=INFO for more); must run before the first native connection. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = process.env.TESSERA_TEST_LOG === 'INFO' ? 'INFO' : 'ERROR';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // already installed by someone else in this process
  }
}

export async function connectTestEnv(name: string): Promise<TemporalTestEnv> {
  installQuietRuntime();
  await ensureTemporalServer();
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const nativeConnection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const id = randomUUID().slice(0, 8);
  return {
    client: new Client({ connection, namespace: 'default' }),
    connection,
    nativeConnection,
    taskQueue: `test-${name}-${id}`,
    ns: `t${id}`,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

export interface RunningWorker {
  readonly worker: Worker;
  /** Graceful shutdown; resolves when the worker has stopped. */
  stop(): Promise<void>;
}

/** Creates and runs a worker in the background on the env's task queue. */
export async function startWorker(
  env: TemporalTestEnv,
  activities: TesseraActivities,
  opts: Partial<CreateWorkerOptions> = {},
): Promise<RunningWorker> {
  const worker = await createWorker({
    connection: env.nativeConnection,
    client: env.client,
    taskQueue: env.taskQueue,
    activities,
    shutdownGraceTime: '200ms',
    awaitHeartbeatMs: 1_000,
    maxHeartbeatThrottleInterval: '300ms',
    ...opts,
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
