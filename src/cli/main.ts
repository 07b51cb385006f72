/**
 * The `tessera` command. Each command lives in commands/; this file wires them and maps errors to exit codes:
 * 0 ok, 1 assets or checks failed, 2 usage errors (which name the bad argument and suggest the nearest valid one).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { DslError } from '../dsl/index.js';
import { registerAssets } from './commands/assets.js';
import { registerDemo } from './commands/demo.js';
import { registerOps } from './commands/ops.js';
import { registerPlan } from './commands/plan.js';
import { registerRun } from './commands/run.js';
import { registerWorker } from './commands/worker.js';
import { CliContext, type GlobalOptions } from './context.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './errors.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('tessera')
    .description('Tessera: data assets on Temporal')
    .option('-c, --config <file>', 'config file (default: config/$TESSERA_ENV.yaml, TESSERA_ENV=local)')
    .option('--json', 'print machine-readable JSON')
    .exitOverride()
    .showSuggestionAfterError(true);
  let context: CliContext | undefined;
  const ctx = () => (context ??= new CliContext(program.opts<GlobalOptions>()));
  registerAssets(program, ctx);
  registerPlan(program, ctx);
  registerRun(program, ctx);
  registerOps(program, ctx);
  registerWorker(program, ctx);
  registerDemo(program, ctx);
  try {
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
