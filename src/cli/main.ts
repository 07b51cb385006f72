/**
 * The `tessera` command. Each command lives in commands/; this file wires them and maps errors to exit codes:
 * 0 ok, 1 assets or checks failed, 2 usage errors (which name the bad argument and suggest the nearest valid one).
 *
 * Only the module of the command being run is loaded (the Temporal worker, DuckDB and the ledger drivers take
 * a second to load); help and unknown commands load them all, so commander can list and suggest every command.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { DslError } from '../dsl/index.js';
import { CliContext, type GlobalOptions } from './context.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './errors.js';

type Register = (program: Command, ctx: () => CliContext) => void;

/** Command modules in help order. */
const MODULES = {
  assets: async (): Promise<Register> => (await import('./commands/assets.js')).registerAssets,
  plan: async (): Promise<Register> => (await import('./commands/plan.js')).registerPlan,
  run: async (): Promise<Register> => (await import('./commands/run.js')).registerRun,
  ops: async (): Promise<Register> => (await import('./commands/ops.js')).registerOps,
  publish: async (): Promise<Register> => (await import('./commands/publish.js')).registerPublish,
  schedules: async (): Promise<Register> => (await import('./commands/schedules.js')).registerSchedules,
  ingest: async (): Promise<Register> => (await import('./commands/ingest.js')).registerIngest,
  query: async (): Promise<Register> => (await import('./commands/query.js')).registerQuery,
  experiments: async (): Promise<Register> => (await import('./commands/experiments.js')).registerExperiments,
  worker: async (): Promise<Register> => (await import('./commands/worker.js')).registerWorker,
  dev: async (): Promise<Register> => (await import('./commands/dev.js')).registerDev,
  simulate: async (): Promise<Register> => (await import('./commands/simulate.js')).registerSimulate,
  demo: async (): Promise<Register> => (await import('./commands/demo.js')).registerDemo,
  ui: async (): Promise<Register> => (await import('./commands/ui.js')).registerUi,
  gdpr: async (): Promise<Register> => (await import('./commands/gdpr.js')).registerGdpr,
} as const;

/** Top-level command → the module registering it. */
const COMMANDS: Readonly<Record<string, keyof typeof MODULES>> = {
  assets: 'assets',
  plan: 'plan',
  materialize: 'run',
  backfill: 'run',
  status: 'ops',
  checks: 'ops',
  publish: 'publish',
  schedules: 'schedules',
  ingest: 'ingest',
  query: 'query',
  experiments: 'experiments',
  worker: 'worker',
  dev: 'dev',
  simulate: 'simulate',
  demo: 'demo',
  ui: 'ui',
  gdpr: 'gdpr',
};

/** Global options that take a value (their value is not the command name). */
const VALUED = new Set(['-c', '--config', '--definitions']);

function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (VALUED.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('tessera')
    .description('Tessera: data assets on Temporal')
    .option('-c, --config <file>', 'config file (default: config/$TESSERA_ENV.yaml, TESSERA_ENV=local)')
    .option('--json', 'print machine-readable JSON')
    .option(
      '--definitions <module>',
      'definitions module exporting `definitions` (and `loaders`) instead of the catalog in src/assets (env TESSERA_DEFINITIONS)',
    )
    .exitOverride()
    .showSuggestionAfterError(true);
  let context: CliContext | undefined;
  const ctx = () => (context ??= new CliContext(program.opts<GlobalOptions>()));
  // An explicit --config must exist and be valid, whether or not the command reads it.
  program.hook('preAction', () => {
    if (program.opts<GlobalOptions>().config !== undefined) void ctx().config;
  });
  try {
    const name = commandName(argv);
    const one = name === undefined ? undefined : COMMANDS[name];
    const modules = one ? [one] : (Object.keys(MODULES) as (keyof typeof MODULES)[]);
    for (const register of await Promise.all(modules.map((m) => MODULES[m]()))) register(program, ctx);
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander; they already printed.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const usage = e instanceof UsageError || e instanceof DslError || e instanceof ConfigError;
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return usage ? EXIT_USAGE : EXIT_FAILED;
  } finally {
    await context?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(EXIT_FAILED);
  },
);
