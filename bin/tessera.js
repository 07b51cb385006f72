#!/usr/bin/env node
// The `tessera` command: runs the TypeScript CLI (src/cli/main.ts) so the package works without a build step.
//
// Two processes, and signals reach the second. This wrapper starts one node process with tsx's loader
// (`--import tsx`, not the tsx CLI, which would add a third process), in its own process group, and forwards
// SIGINT, SIGTERM and SIGHUP to it once each: a Ctrl-C, a process manager's SIGTERM to this PID or a container
// stop all reach the worker, which shuts down gracefully (running activities finish or go back to the server)
// and closes the warehouse. The wrapper exits with the child's code. Should the wrapper die without forwarding
// (SIGKILL), the child notices it was orphaned and stops itself the same way, so no orphan keeps the DuckDB lock.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { clearInterval, setInterval } from 'node:timers';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');
const WRAPPER_ENV = 'TESSERA_WRAPPER_PID';

if (process.env[WRAPPER_ENV] !== undefined) {
  await runChild(Number(process.env[WRAPPER_ENV]));
} else {
  runWrapper();
}

function runWrapper() {
  // A larger young generation: ingestion keeps a batch of decoded rows alive across awaits, which the
  // default 16 MB semi-space promotes to the old generation (bench/cdc.ts: about 15% less CPU per change).
  const nodeOptions = process.env.NODE_OPTIONS ?? '';
  const flags = /--max-semi-space-size/.test(nodeOptions) ? [] : ['--max-semi-space-size=64'];
  const child = spawn(
    process.execPath,
    [...flags, '--import', import.meta.resolve('tsx'), self, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, [WRAPPER_ENV]: String(process.pid) },
      // Its own process group: a terminal's Ctrl-C reaches only this wrapper, which forwards it once (the SDK
      // treats a second SIGINT as "die now").
      detached: true,
    },
  );
  const forward = (signal, as = signal) => {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(as);
    });
  };
  forward('SIGINT');
  forward('SIGTERM');
  // The terminal went away: stop gracefully, as for SIGTERM.
  forward('SIGHUP', 'SIGTERM');
  child.on('error', (err) => {
    process.stderr.write(`tessera: cannot start node: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
  });
}

async function runChild(wrapperPid) {
  // Orphaned (the wrapper was killed outright): stop as if told to. A poll, because no event says so without an
  // IPC channel; unref'd, so it never keeps the process alive.
  const watch = setInterval(() => {
    if (process.ppid !== wrapperPid) {
      clearInterval(watch);
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1_000);
  watch.unref();
  delete process.env[WRAPPER_ENV];
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
