import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../errors.js';

/**
 * A private BigQuery emulator process for one engine instance (tests): a fresh, empty warehouse per engine,
 * as DuckDB's ':memory:' gives. Emptying a shared emulator instead is no option (a DROP TABLE takes it
 * 6-10 s), and one emulator holding a project per test slows every query (its cost grows with the number
 * of projects). Starting one takes well under a second.
 */
export interface EmulatorProcess {
  readonly endpoint: string;
  stop(): Promise<void>;
  /** Why the process ended when nobody stopped it (exit code or signal, and its last stderr); undefined while it runs. */
  exitReason(): string | undefined;
}

const READY_ATTEMPTS = 600;

export async function startEmulator(
  binary: string,
  projectId: string,
  opts: {
    /** Also append the process's stderr (Go panics, fatal errors) to this file: a crash keeps its reason. */
    readonly logFile?: string;
  } = {},
): Promise<EmulatorProcess> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    binary,
    [
      `--project=${projectId}`,
      '--host=127.0.0.1',
      `--port=${port}`,
      `--grpc-port=${grpcPort}`,
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-2000);
    if (opts.logFile) appendFileSync(opts.logFile, b);
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exitReason = (): string | undefined => {
    if (child.exitCode === null && child.signalCode === null) return undefined;
    const how = child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`;
    return `${stopping ? 'stopped' : 'ended on its own'} (${how})${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    }
  };
  for (let i = 0; i < READY_ATTEMPTS; i++) {
    if (child.exitCode !== null) {
      throw new EngineError(
        'bigquery',
        `the emulator ${binary} exited (${child.exitCode}): ${stderr.trim()}`,
      );
    }
    const up = await fetch(`${endpoint}/bigquery/v2/projects/${projectId}/datasets`, {
      signal: AbortSignal.timeout(2000),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { endpoint, stop, exitReason };
    await sleep(50);
  }
  await stop();
  throw new EngineError('bigquery', `the emulator ${binary} did not answer on ${endpoint}`);
}

/** A port free right now on 127.0.0.1 (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
