/**
 * Runs the `tessera` CLI as a subprocess against real services: a temp config pointing the warehouse and the
 * ledger into a temp dir, a task queue unique to the test file, and the test catalog (fixtures/catalog.ts) with
 * a prefix unique to the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEMPORAL_ADDRESS, UI_BASE_URL } from '../helpers/temporal.js';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliEnv {
  readonly dir: string;
  readonly configFile: string;
  readonly taskQueue: string;
  /** Prefix of every schema and group of the test catalog, e.g. `t1a2b3c4d_`. */
  readonly prefix: string;
  readonly warehouse: string;
  /** `node bin/tessera.js --config <file> ...args`. */
  run(args: readonly string[], opts?: { stdin?: string }): Promise<CliResult>;
  /** Like run, and parses stdout as JSON. */
  json<T>(args: readonly string[]): Promise<{ code: number | null; value: T; stderr: string }>;
  /** A long-running command (worker, dev) in one process, so a signal reaches the CLI itself. */
  spawnLong(args: readonly string[], extraEnv?: Readonly<Record<string, string>>): LongRunning;
}

export interface LongRunning {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  /** Resolves when stdout (or stderr, or either) has printed something matching `pattern`. */
  waitFor(pattern: RegExp, opts?: { timeoutMs?: number; stream?: 'stdout' | 'stderr' }): Promise<void>;
  /** Sends SIGTERM (or `signal`) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function cliEnv(
  name: string,
  opts: { catalog?: boolean; temporalAddress?: string; maxConcurrentActivities?: number } = {},
): CliEnv {
  const id = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), `tessera-cli-${name}-`));
  const taskQueue = `test-cli-${name}-${id}`;
  const warehouse = join(dir, 'warehouse.duckdb');
  const configFile = join(dir, 'tessera.yaml');
  writeFileSync(
    configFile,
    [
      'environment: test',
      `stateDir: ${dir}`,
      'defaultEngine: duckdb',
      'engines:',
      '  duckdb:',
      '    type: duckdb',
      `    path: ${warehouse}`,
      'ledger:',
      '  type: sqlite',
      `  path: ${join(dir, 'ledger.sqlite')}`,
      'temporal:',
      `  address: ${opts.temporalAddress ?? TEMPORAL_ADDRESS}`,
      `  taskQueue: ${taskQueue}`,
      `  uiUrl: ${UI_BASE_URL}`,
      'worker:',
      `  maxConcurrentActivities: ${opts.maxConcurrentActivities ?? 4}`,
      'lateness:',
      '  defaultMinutes: 0',
      'barrierTimeoutMinutes: 2',
      '',
    ].join('\n'),
  );
  const prefix = `t${id}_`;
  const env = {
    ...process.env,
    TESSERA_TEST_PREFIX: prefix,
    TESSERA_LOG_LEVEL: 'warn',
    ...(opts.catalog === false
      ? {}
      : { TESSERA_DEFINITIONS: join(repo, 'test', 'cli', 'fixtures', 'catalog.ts') }),
  };

  const run = (args: readonly string[], o: { stdin?: string } = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(repo, 'bin', 'tessera.js'), '--config', configFile, ...args],
        {
          cwd: repo,
          env,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(o.stdin ?? '');
    });

  return {
    dir,
    configFile,
    taskQueue,
    prefix,
    warehouse,
    run,
    async json<T>(args: readonly string[]) {
      const r = await run(['--json', ...args]);
      let value: T;
      try {
        value = JSON.parse(r.stdout) as T;
      } catch {
        throw new Error(
          `tessera ${args.join(' ')} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`,
        );
      }
      return { code: r.code, value, stderr: r.stderr };
    },
    spawnLong(args, extraEnv = {}) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(repo, 'src', 'cli', 'main.ts'), '--config', configFile, ...args],
        // Info logs: the worker says "worker started" at info.
        {
          cwd: repo,
          env: { ...env, TESSERA_LOG_LEVEL: 'info', ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      const listeners: (() => void)[] = [];
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        listeners.forEach((l) => l());
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        listeners.forEach((l) => l());
      });
      return {
        child,
        output: () => ({ stdout, stderr }),
        waitFor: (pattern, { timeoutMs = 90_000, stream } = {}) =>
          new Promise<void>((resolve, reject) => {
            const check = () => {
              const seen =
                stream === 'stdout' ? stdout : stream === 'stderr' ? stderr : `${stdout}\n${stderr}`;
              if (!pattern.test(seen)) return;
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(
              () => reject(new Error(`no ${String(pattern)} after ${timeoutMs} ms:\n${stdout}\n${stderr}`)),
              timeoutMs,
            );
            listeners.push(check);
            check();
            void exited.then((code) => {
              clearTimeout(timer);
              reject(new Error(`exited (${code}) before ${String(pattern)}:\n${stdout}\n${stderr}`));
            });
          }),
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null) child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          const code = await exited;
          clearTimeout(timer);
          if (code === null)
            throw new Error(`did not stop on ${signal} within 20 s:\n${stdout}\n${stderr.slice(-3000)}`);
          return code;
        },
      };
    },
  };
}
