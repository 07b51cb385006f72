import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { positive } from './run.js';
import { DEFAULT_UI_PORT, startUi, uiLine } from './ui.js';
import { runWorker } from './worker.js';

const SCRIPT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'scripts',
  'services',
  'temporal.sh',
);

export interface DevServer {
  readonly address: string;
  /** Web UI URL, or undefined when the server runs headless. */
  readonly ui?: string;
}

/** What temporal.sh prints: `export NAME=value` lines and/or `Temporal gRPC: …` / `Temporal Web UI: …`. */
export function parseServerOutput(stdout: string, fallbackAddress: string): DevServer {
  let address = fallbackAddress;
  let ui: string | undefined;
  for (const line of stdout.split('\n')) {
    const exp = /^export\s+(\w+)=["']?([^"'\s]*)["']?\s*$/.exec(line.trim());
    if (exp?.[1] === 'TESSERA_TEMPORAL_ADDRESS' && exp[2]) address = exp[2];
    if (exp?.[1] === 'TESSERA_TEMPORAL_UI_URL' && exp[2]) ui = exp[2];
    const grpc = /^Temporal gRPC:\s*(\S+)/.exec(line.trim());
    if (grpc?.[1]) address = grpc[1];
    const web = /^Temporal Web UI:\s*(https?:\/\/\S+)/.exec(line.trim());
    if (web?.[1]) ui = web[1];
  }
  return { address, ...(ui ? { ui } : {}) };
}

/** Starts (or reuses) the local dev server through scripts/services/temporal.sh, at the configured address. */
async function startServer(ctx: CliContext): Promise<DevServer> {
  const { address } = ctx.config.temporal;
  const uiUrl = ctx.target.uiBaseUrl;
  const [host = '127.0.0.1', port = '7233'] = address.split(':');
  const env = {
    ...process.env,
    TESSERA_TEMPORAL_IP: host,
    TESSERA_TEMPORAL_PORT: port,
    TESSERA_TEMPORAL_UI_PORT: new URL(uiUrl).port || '8233',
    TESSERA_STATE_DIR: ctx.config.stateDir,
  };
  if (!existsSync(SCRIPT))
    throw new Error(`${SCRIPT} is missing: \`tessera dev\` runs from a Tessera checkout`);
  // The script logs progress on stderr (shown as is) and prints the addresses on stdout.
  const child = spawn('bash', [SCRIPT, 'start'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${SCRIPT} start failed (exit ${code ?? 'signal'}); see its log above`);
  return parseServerOutput(out, address);
}

export function registerDev(program: Command, ctx: () => CliContext): void {
  program
    .command('dev')
    .description(
      'local development: start (or reuse) a Temporal dev server with its Web UI and run a worker here until Ctrl-C',
    )
    .option('--concurrency <n>', 'steps at once on the worker', positive)
    .option('--ui-port <port>', 'port of the Tessera UI (`tessera ui`)', positive, DEFAULT_UI_PORT)
    .option('--no-ui', 'do not start the Tessera UI')
    .action(async (o: { concurrency?: number; uiPort: number; ui: boolean }) => {
      const c = ctx();
      const server = await startServer(c);
      // The worker below holds the warehouse: the UI reads it through the worker, like `tessera query` would.
      // A busy port costs the UI, not the worker.
      let uiError: string | undefined;
      const tessera = o.ui
        ? await startUi(c, { host: '127.0.0.1', port: o.uiPort, via: 'worker' }).catch((e: unknown) => {
            uiError = e instanceof Error ? e.message : String(e);
            return undefined;
          })
        : undefined;
      const ready = () => {
        const info = {
          address: server.address,
          ui: server.ui ?? null,
          tesseraUi: tessera?.url ?? null,
          taskQueue: c.target.taskQueue,
          namespace: c.config.temporal.namespace,
        };
        // One JSON line (not pretty-printed) so a tool can read it while dev keeps running.
        if (c.json) return process.stdout.write(`${JSON.stringify(info)}\n`);
        process.stdout.write(
          `Temporal Web UI: ${server.ui ?? '(none: the server runs headless)'}\n` +
            `Temporal gRPC:   ${server.address} (namespace ${info.namespace})\n` +
            (tessera
              ? `${uiLine(tessera.url)}\n`
              : uiError
                ? `Tessera UI:      (not started: ${uiError})\n`
                : '') +
            `Worker:          task queue ${info.taskQueue}; Ctrl-C stops it (the server keeps running; ` +
            `\`scripts/services/temporal.sh stop\` stops it)\n`,
        );
      };
      try {
        await runWorker(c, { ...(o.concurrency ? { concurrency: o.concurrency } : {}), onReady: ready });
      } finally {
        await tessera?.close();
      }
    });
}
