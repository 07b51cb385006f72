/**
 * `tessera` processes for bench/backfill.ts: a worker started as a user starts it (`bin/tessera.js worker`),
 * its memory read from /proc (VmHWM, the kernel's own peak RSS, of every process in its tree), and one-shot CLI
 * commands timed from spawn to exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const TESSERA = join(ROOT, 'bin', 'tessera.js');

/** Peak memory of one process of the tree, in MB (VmHWM), with its command line. */
export interface ProcessPeak {
  readonly pid: number;
  readonly command: string;
  readonly hwmMb: number;
}

export interface WorkerMemory {
  /** Every process seen in the worker's tree, with its VmHWM read just before the worker was stopped. */
  readonly processes: readonly ProcessPeak[];
  /** The largest sum of VmRSS over the tree among the samples (sampled every `sampleMs`). */
  readonly peakTreeRssMb: number;
  /** The tree's sum of VmHWM once the worker had started (start-up: the workflow bundle, the catalog, DuckDB). */
  readonly readyHwmMb: number;
}

const statusField = (pid: number, field: string): number | undefined => {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined; // the process is gone
  }
};

const commandOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 4).join(' ');
  } catch {
    return '?';
  }
};

/** The pid and every descendant (from /proc/<pid>/task/<tid>/children). */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] ?? 0;
    try {
      for (const tid of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/)) {
        if (tid !== '') out.push(Number(tid));
      }
    } catch {
      // gone between reads
    }
  }
  return out;
}

export interface RunningWorker {
  readonly pid: number;
  /** Stops sampling, reads every process's VmHWM, then stops the worker gracefully (SIGTERM) and waits. */
  stop(): Promise<WorkerMemory>;
}

/** Starts `tessera worker` on `config`; resolves once it logged "worker started" (its task queue is polled). */
export async function startWorker(opts: {
  readonly config: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly concurrency?: number;
  readonly sampleMs?: number;
}): Promise<RunningWorker> {
  const args = [TESSERA, '-c', opts.config, 'worker'];
  if (opts.concurrency !== undefined) args.push('--concurrency', String(opts.concurrency));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, TESSERA_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start tessera worker');
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer): void => {
      log = (log + b.toString()).slice(-20_000);
      if (log.includes('"worker started"')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume(); // keep draining: a full pipe would block the worker's logging
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`tessera worker exited (${code}) before it started:\n${log}`)),
    );
  });
  const seen = new Map<number, string>();
  let peakTree = 0;
  const sample = (): void => {
    let sum = 0;
    for (const p of tree(pid)) {
      if (!seen.has(p)) seen.set(p, commandOf(p));
      sum += statusField(p, 'VmRSS') ?? 0;
    }
    peakTree = Math.max(peakTree, sum);
  };
  sample();
  const readyHwmMb = tree(pid).reduce((a, p) => a + (statusField(p, 'VmHWM') ?? 0), 0);
  const timer = setInterval(sample, opts.sampleMs ?? 200);
  return {
    pid,
    async stop(): Promise<WorkerMemory> {
      clearInterval(timer);
      sample();
      const processes = [...seen].map(([p, command]) => ({
        pid: p,
        command,
        hwmMb: statusField(p, 'VmHWM') ?? 0,
      }));
      await stopChild(child);
      return { processes, peakTreeRssMb: peakTree, readyHwmMb };
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

export interface CliRun {
  /** Epoch milliseconds at spawn and at exit. */
  readonly spawnedAt: number;
  readonly exitedAt: number;
  readonly seconds: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one `tessera` command to its end, timed from spawn to exit (the CLI's start-up included). */
export async function tessera(config: string, args: readonly string[]): Promise<CliRun> {
  const t0 = performance.now();
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [TESSERA, '-c', config, ...args], {
    cwd: ROOT,
    env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  return { spawnedAt, exitedAt: Date.now(), seconds: (performance.now() - t0) / 1000, code, stdout, stderr };
}
