import { Option, type Command } from 'commander';
import type { AssetDefinition, Definitions } from '../../dsl/index.js';
import type { CliContext } from '../context.js';
import { printJson, printTable } from '../output.js';

const summary = (a: AssetDefinition) => ({
  key: a.key,
  kind: a.kind,
  partitions: a.partitions?.fingerprint ?? 'none',
  deps: a.deps.map((d) => d.key),
  group: a.group ?? '',
  publishGroup: a.publishGroup ?? '',
  codeVersion: a.codeVersion,
});

/** Lineage of a selection as an indented tree (each asset under the assets it reads) or Graphviz DOT. */
function lineage(defs: Definitions, keys: readonly string[], format: 'tree' | 'dot'): string {
  const selected = new Set(keys);
  if (format === 'dot') {
    const edges = keys.flatMap((k) =>
      defs
        .asset(k)
        .deps.filter((d) => selected.has(d.key))
        .map((d) => `  "${d.key}" -> "${k}";`),
    );
    return `digraph lineage {\n  rankdir=LR;\n${keys.map((k) => `  "${k}";`).join('\n')}\n${edges.join('\n')}\n}\n`;
  }
  const lines: string[] = [];
  const walk = (key: string, depth: number, path: Set<string>) => {
    const a = defs.asset(key);
    lines.push(`${'  '.repeat(depth)}${key} (${a.kind})`);
    for (const d of a.deps)
      if (selected.has(d.key) && !path.has(d.key)) walk(d.key, depth + 1, new Set([...path, d.key]));
  };
  // Roots of the printed tree: selected assets that no selected asset reads.
  const read = new Set(keys.flatMap((k) => defs.asset(k).deps.map((d) => d.key)));
  for (const k of keys) if (!read.has(k)) walk(k, 0, new Set([k]));
  return `${lines.join('\n')}\n`;
}

export function registerAssets(program: Command, ctx: () => CliContext): void {
  const assets = program.command('assets').description('list, show and trace the assets of the catalog');
  assets
    .command('list')
    .description('assets of a selection with kind, partitions and publish group')
    .option('-s, --select <selection>', 'selection, e.g. "+reporting.mart_daily_revenue" or "kind:scd2"', '*')
    .action(async (opts: { select: string }) => {
      const defs = await ctx().definitions();
      const rows = defs.select(opts.select).map((k) => summary(defs.asset(k)));
      if (ctx().json) printJson(rows);
      else
        printTable(
          rows.map((r) => ({ ...r, deps: r.deps.length })),
          ['key', 'kind', 'partitions', 'deps', 'publishGroup'],
        );
    });
  assets
    .command('show <key>')
    .description('one asset: deps with their mappings, downstream, checks, owners, SQL')
    .action(async (key: string) => {
      const defs = await ctx().definitions();
      const a = defs.asset(key);
      const detail = {
        ...summary(a),
        description: a.description ?? '',
        deps: a.deps.map((d) => ({ key: d.key, mapping: d.mapping.fingerprint })),
        downstream: defs.graph.downstream.get(key) ?? [],
        checks: a.checks.map((c) => ({ name: c.name, blocking: c.blocking })),
        owners: a.owners,
        tags: a.tags,
        sql: a.sql?.trim() ?? '',
      };
      if (ctx().json) printJson(detail);
      else {
        for (const [k, v] of Object.entries(detail)) {
          if (k === 'sql') continue;
          process.stdout.write(`${k.padEnd(13)} ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
        }
        if (detail.sql) process.stdout.write(`sql:\n${detail.sql}\n`);
      }
    });
  assets
    .command('lineage [selection]')
    .description('what a selection reads, as a tree (each asset above what it reads) or Graphviz DOT')
    .addOption(new Option('--format <format>', 'output format').choices(['tree', 'dot']).default('tree'))
    .action(async (selection: string | undefined, opts: { format: 'tree' | 'dot' }) => {
      const defs = await ctx().definitions();
      const keys = defs.select(selection ?? '*');
      if (ctx().json) printJson(keys.map((k) => ({ key: k, upstream: defs.graph.upstream.get(k) ?? [] })));
      else process.stdout.write(lineage(defs, keys, opts.format));
    });
}
