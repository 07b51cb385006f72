/**
 * The UI tests' parts: `tessera ui` as a subprocess (its address read from its JSON line) and a real Chromium
 * (Debian's `chromium` package, driven by playwright-core; TESSERA_CHROMIUM overrides the path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repo } from '../cli/helpers.js';

export const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set TESSERA_CHROMIUM to a Chromium binary)`,
    );
  // Chromium's sandbox refuses to run as root (CI containers).
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: CHROMIUM, args });
}

export interface RunningUi {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `tessera --config <config> ui --port 0 --json …args` and resolves when it prints its address. */
export function startUi(
  config: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningUi> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repo, 'src', 'cli', 'main.ts'),
      '--config',
      config,
      '--json',
      'ui',
      '--port',
      '0',
      ...args,
    ],
    {
      cwd: repo,
      env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (!line) return;
      child.stdout?.off('data', onData);
      const { url } = JSON.parse(line) as { url: string };
      resolve({
        url,
        child,
        output: () => out,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) =>
      reject(new Error(`tessera ui exited (${code}) before printing its address:\n${out}`)),
    );
  });
}
