import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { TesseraConfig } from '../../config/index.js';
import { CliContext } from '../context.js';
import { VIAS, type Via } from '../warehouse.js';

export const DEFAULT_UI_PORT = 8234;

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('takes a port from 0 to 65535.');
  return n;
};

/** The demo's own state (`tessera demo` builds under <stateDir>/demo with its own task queue). */
class DemoContext extends CliContext {
  private demo: TesseraConfig | undefined;
  constructor(
    options: CliContext['options'],
    private readonly toDemo: (base: TesseraConfig, dir: string) => TesseraConfig,
  ) {
    super(options);
  }
  override get config(): TesseraConfig {
    const base = super.config;
    this.demo ??= this.toDemo(base, join(base.stateDir, 'demo'));
    return this.demo;
  }
}

export interface UiOptions {
  readonly host: string;
  readonly port: number;
  readonly allowActions?: boolean;
  readonly demo?: boolean;
  readonly via: Via;
}

/** The line `tessera ui`, `tessera dev` and `tessera demo` print, like the Temporal UI's. */
export const uiLine = (url: string): string => `Tessera UI:      ${url}`;

/**
 * Starts the UI server on a context and returns it; the caller keeps the process alive. Loaded lazily: the
 * server pulls in esbuild, Hono and ELK.
 */
export async function startUi(ctx: CliContext, o: UiOptions) {
  const { startUiServer } = await import('../../ui/server/app.js');
  return startUiServer({
    ctx,
    host: o.host,
    port: o.port,
    allowActions: o.allowActions ?? false,
    via: o.via,
  });
}

export function registerUi(program: Command, ctx: () => CliContext): void {
  program
    .command('ui')
    .description(
      'the asset catalog in the browser: lineage graph, assets and partitions, publish groups, runs, SCD2 history, experiments',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--port <port>',
      `port (0 = any free one; env TESSERA_UI_PORT)`,
      port,
      Number(process.env.TESSERA_UI_PORT ?? DEFAULT_UI_PORT),
    )
    .option('--allow-actions', 'allow materialize, backfill and publish rollback from the browser')
    .option('--demo', "show the state `tessera demo` built (<stateDir>/demo) instead of this config's")
    .addOption(new Option('--via <route>', 'how to reach the warehouse').choices(VIAS).default('auto'))
    .action(async (o: UiOptions) => {
      const base = ctx();
      let c: CliContext = base;
      if (o.demo) {
        const { demoConfig } = await import('./demo.js');
        c = new DemoContext(base.options, demoConfig);
      }
      try {
        const server = await startUi(c, o);
        if (base.json)
          process.stdout.write(
            `${JSON.stringify({ url: server.url, allowActions: o.allowActions ?? false })}\n`,
          );
        else
          process.stdout.write(
            `${uiLine(server.url)}\n` +
              `                 ${o.allowActions ? 'actions allowed (materialize, backfill, rollback)' : 'read-only (--allow-actions enables materialize, backfill, rollback)'}; Ctrl-C stops it\n`,
          );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      } finally {
        if (c !== base) await c.close();
      }
    });
}
