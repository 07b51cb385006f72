import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { assetEngineResolver } from '../../config/index.js';
import { createEngine, type Engine } from '../../engines/index.js';
import type { CompactResult } from '../../gdpr/duckdb-compact.js';
import type { EraseResult } from '../../gdpr/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';

/** DuckDB's message when another process holds the file. */
const LOCKED = /Could not set lock|Conflicting lock/i;

/**
 * Opens every configured engine read-write in this process. Erasure edits tables in place, so a DuckDB file held
 * by a running worker must be released first (erasure does not go through the worker).
 */
async function openEngines(c: CliContext): Promise<Record<string, Engine>> {
  const engines: Record<string, Engine> = {};
  try {
    for (const [name, cfg] of Object.entries(c.config.engines)) {
      if (cfg.type === 'duckdb' && cfg.path !== ':memory:' && !existsSync(cfg.path))
        throw new Error(`the warehouse ${cfg.path} does not exist: nothing to erase`);
      try {
        engines[name] = await createEngine(cfg);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (cfg.type === 'duckdb' && LOCKED.test(message))
          throw new Error(
            `the warehouse ${cfg.path} is held by another process (a worker?): stop it, erase, then start it again`,
          );
        throw e;
      }
    }
  } catch (e) {
    await Promise.allSettled(Object.values(engines).map((x) => x.close()));
    throw e;
  }
  return engines;
}

/** Closes each engine once (a second call is a no-op). */
async function closeAll(engines: Record<string, Engine>): Promise<void> {
  const open = Object.entries(engines);
  for (const [name] of open) delete engines[name];
  await Promise.allSettled(open.map(([, e]) => e.close()));
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function printErasure(r: EraseResult): void {
  printTable(
    r.tables.map((t) => ({
      table: t.table,
      action: t.action,
      rows: t.rows,
      partitions: t.partitions.length || '',
    })),
    ['table', 'action', 'rows', 'partitions'],
  );
  const found = Object.entries(r.identifiers)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const verb = r.dryRun ? 'would touch' : 'touched';
  process.stdout.write(
    `${r.erasureId}: ${verb} ${r.rowsTouched} rows in ${r.tables.length} tables (identifiers: ${found}) in ${r.seconds}s\n`,
  );
  if (!r.dryRun) {
    process.stdout.write(
      `${r.ledgerRecords} partitions recorded with their new data versions; audit entry ${r.erasureId} (subject ${r.subjectHash.slice(0, 16)}…)\n`,
    );
  }
}

export function registerGdpr(program: Command, ctx: () => CliContext): void {
  const gdpr = program
    .command('gdpr')
    .description('GDPR: erase a data subject everywhere (declared policy), list the erasures');
  gdpr
    .command('erase')
    .description(
      'delete or anonymise a person in every raw table, SCD2 history, snapshot, mart and published store; keep them out of later landings',
    )
    .requiredOption('--user <id>', "the user's id, as the source systems write it")
    .option('--dry-run', 'count what would be touched; change nothing')
    .addHelpText(
      'after',
      `
Needs the PII key ($TESSERA_PII_KEY): the erasure list and the audit keep keyed hashes, never the id. A DuckDB
warehouse must not be held by a running worker. Exit code 1 if any table still holds the person afterwards.

Examples:
  tessera gdpr erase --user 42 --dry-run
  tessera gdpr erase --user 42 --json`,
    )
    .action(async (o: { user: string; dryRun?: boolean }) => {
      const c = ctx();
      if (o.user.trim() === '') throw new UsageError('--user needs an id');
      const [{ eraseSubject, ErasureKey, ErasureKeyError, ErasurePolicyError }, module] = await Promise.all([
        import('../../gdpr/index.js'),
        c.definitionsModule(),
      ]);
      if (!module.erasure)
        throw new UsageError(
          'the definitions module declares no erasure policy (export `erasure = defineErasurePolicy(…)`)',
        );
      // A missing key or a policy that does not fit the catalog is set-up, not a failed erasure (exit 2).
      const asUsage = (e: unknown): unknown =>
        e instanceof ErasureKeyError || e instanceof ErasurePolicyError ? new UsageError(e.message) : e;
      let key: ReturnType<typeof ErasureKey.from>;
      try {
        key = ErasureKey.from();
      } catch (e) {
        throw asUsage(e);
      }
      const engines = await openEngines(c);
      try {
        const result = await eraseSubject(
          {
            definitions: module.definitions,
            policy: module.erasure,
            key,
            engines,
            defaultEngine: c.config.defaultEngine,
            engineNameOf: assetEngineResolver(c.config, module.definitions),
            ledger: await c.ledger(),
          },
          { subject: o.user, dryRun: o.dryRun ?? false },
        ).catch((e: unknown) => {
          throw asUsage(e);
        });
        // DuckDB keeps deleted rows and freed blocks in its file: rewrite each file erasure changed.
        await closeAll(engines);
        const compacted: Record<string, CompactResult> = {};
        if (!result.dryRun && result.rowsTouched > 0) {
          const { compactDuckDbFile } = await import('../../gdpr/duckdb-compact.js');
          for (const [name, cfg] of Object.entries(c.config.engines))
            if (cfg.type === 'duckdb' && cfg.path !== ':memory:')
              compacted[name] = await compactDuckDbFile(cfg.path);
        }
        if (c.json) printJson({ ...result, compacted });
        else {
          printErasure(result);
          for (const [name, r] of Object.entries(compacted))
            process.stdout.write(
              `${name}: rewrote ${r.tables} tables into a new file (${mb(r.bytesBefore)} → ${mb(r.bytesAfter)}) in ${r.seconds}s: no erased value is left in it\n`,
            );
        }
        const left = Object.entries(result.remaining);
        if (left.length > 0) {
          process.stderr.write(
            `still matching after the erasure: ${left.map(([t, n]) => `${t} (${n})`).join(', ')}\n`,
          );
          process.exitCode = 1;
        }
      } finally {
        await closeAll(engines);
      }
    });
  gdpr
    .command('audit')
    .description('the erasures made: when, rows per table, the keyed hash of the subject (never the id)')
    .action(async () => {
      const c = ctx();
      const { readAudit } = await import('../../gdpr/index.js');
      const engines = await openEngines(c);
      try {
        const rows = await readAudit(engines, c.config.defaultEngine);
        if (c.json) return printJson(rows);
        printTable(
          rows.map((r) => ({ ...r, subject_hash: `${String(r['subject_hash']).slice(0, 16)}…` })),
          ['erasure_id', 'erased_at', 'subject', 'subject_hash', 'rows_touched', 'seconds'],
        );
      } finally {
        await Promise.allSettled(Object.values(engines).map((e) => e.close()));
      }
    });
}
