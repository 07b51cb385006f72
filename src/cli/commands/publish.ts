import { Option, type Command } from 'commander';
import { nearest, type Definitions } from '../../dsl/index.js';
import { startPublish } from '../../runtime/client.js';
import { workflowUrl } from '../../runtime/ui.js';
import type { PublishResult } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { queryWarehouse, rollbackWarehouse, VIAS, type Via } from '../warehouse.js';

function groupNamed(defs: Definitions, group: string) {
  const found = defs.publishGroups.find((g) => g.name === group);
  if (found) return found;
  const names = defs.publishGroups.map((g) => g.name);
  const hint = nearest(group, names);
  throw new UsageError(
    `unknown publish group "${group}"${hint ? `; did you mean "${hint}"?` : ''} (groups: ${names.join(', ') || 'none'})`,
  );
}

interface Served {
  readonly version: string;
  readonly seq: number;
  readonly publishedAt: string;
  /** Versions withdrawn by rollbacks. */
  readonly rolledBack: number;
}

/** What each group serves now, from the engine's publish history (the ledger does not record rollbacks). */
async function served(c: CliContext, groups: readonly string[]): Promise<Map<string, Served> | string> {
  const list = groups.map((g) => `'${g.replace(/'/g, "''")}'`).join(', ');
  try {
    const { result } = await queryWarehouse(
      c,
      {
        sql: `SELECT group_name, seq, version, published_at, rolled_back FROM tessera_meta.publish_history WHERE group_name IN (${list}) ORDER BY group_name, seq`,
        limit: 10_000,
      },
      'auto',
    );
    const out = new Map<string, Served>();
    for (const g of groups) {
      const rows = result.rows.filter((r) => r['group_name'] === g);
      const live = rows.filter((r) => r['rolled_back'] !== true).at(-1);
      if (live)
        out.set(g, {
          version: String(live['version']),
          seq: Number(live['seq']),
          publishedAt: String(live['published_at']),
          rolledBack: rows.length - rows.filter((r) => r['rolled_back'] !== true).length,
        });
    }
    return out;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // Never published: the history table does not exist yet.
    return /publish_history does not exist|does not exist yet/i.test(message) ? new Map() : message;
  }
}

export function registerPublish(program: Command, ctx: () => CliContext): void {
  const publish = program.command('publish').description('publish groups: status, run, rollback');
  publish
    .command('status [group]')
    .description('what each group serves now (warehouse) and its recent publications (ledger)')
    .action(async (group?: string) => {
      const c = ctx();
      const defs = await c.definitions();
      const groups = group ? [groupNamed(defs, group).name] : defs.publishGroups.map((g) => g.name);
      const ledger = await c.ledger();
      const serving = await served(c, groups);
      const out = await Promise.all(
        groups.map(async (g) => ({
          group: g,
          assets: defs.publishGroups.find((x) => x.name === g)?.assets ?? [],
          serving: typeof serving === 'string' ? null : (serving.get(g) ?? null),
          publications: (await ledger.publications(g)).slice(-5),
        })),
      );
      if (c.json) return printJson(out);
      printTable(
        out.map((o) => ({
          group: o.group,
          serving: o.serving?.version ?? '(never published)',
          since: o.serving?.publishedAt ?? '',
          rolled_back: o.serving?.rolledBack ?? 0,
          last_published: o.publications.at(-1)?.version ?? '',
        })),
      );
      if (typeof serving === 'string') process.stderr.write(`(serving versions unavailable: ${serving})\n`);
    });
  publish
    .command('run <group>')
    .description('wait for the barrier of one partition, then flip the group to it (atomically)')
    .requiredOption('--partition <key>', 'partition to publish')
    .option('--timeout <minutes>', 'give up after this long (default: barrierTimeoutMinutes)')
    .option('--wait', 'wait for the flip', true)
    .option('--no-wait', 'start the barrier and return')
    .action(async (name: string, o: { partition: string; timeout?: string; wait: boolean }) => {
      const c = ctx();
      const defs = await c.definitions();
      const group = groupNamed(defs, name);
      for (const k of group.assets) defs.asset(k).partitions?.assertHas(o.partition);
      const minutes = o.timeout === undefined ? c.config.barrierTimeoutMinutes : Number(o.timeout);
      if (!Number.isFinite(minutes) || minutes <= 0)
        throw new UsageError(`--timeout takes minutes above 0, not "${o.timeout ?? ''}"`);
      const handle = await startPublish(await c.client(), c.target, {
        group: group.name,
        partitionKey: o.partition,
        lateness: c.config.lateness.defaultMinutes * 60_000,
        timeout: minutes * 60_000,
        pollInitial: '1s',
      });
      const url = workflowUrl(handle.workflowId, {
        baseUrl: c.target.uiBaseUrl,
        namespace: c.config.temporal.namespace,
      });
      if (!o.wait) {
        if (c.json)
          printJson({ group: group.name, partition: o.partition, workflowId: handle.workflowId, url });
        else process.stdout.write(`barrier started for ${group.name}@${o.partition}\n${url}\n`);
        return;
      }
      const r: PublishResult = await handle.result();
      if (r.status !== 'published') process.exitCode = 1;
      if (c.json) return printJson({ group: group.name, partition: o.partition, ...r, url });
      process.stdout.write(
        r.status === 'published'
          ? `${group.name} now serves ${r.version} (barrier checked ${r.checks}×)\n`
          : `barrier timed out; ${group.name} keeps its version. Waiting on:\n  ${r.waitingOn.join('\n  ')}\n`,
      );
    });
  publish
    .command('rollback <group>')
    .description(
      'serve the previous version of a group again (through the worker when it holds the warehouse)',
    )
    .addOption(
      new Option('--via <route>', 'reach the warehouse directly or through the worker')
        .choices(VIAS)
        .default('auto'),
    )
    .action(async (group: string, o: { via: Via }) => {
      const c = ctx();
      const { result, route } = await rollbackWarehouse(c, group, o.via);
      if (c.json) return printJson({ ...result, route });
      process.stdout.write(
        `${result.group} now serves version ${result.version} (seq ${result.seq}, published ${result.publishedAt}; ${route === 'worker' ? 'through the worker' : 'directly'})\n`,
      );
    });
}
