import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import type { Engine, SqlDialect } from '../engines/index.js';
import type { Ledger } from '../ledger/index.js';
import { barrierStatus } from './barrier.js';
import { plan } from '../planner/index.js';
import { buildTable, PARTITION_COLUMN } from './tables.js';
import type { PublishGroupInput } from './types.js';

export interface PublishDeps {
  readonly definitions: Definitions;
  readonly ledger: Ledger;
  readonly engineFor: (asset: AssetDefinition) => Promise<{ engine: Engine; dialect: SqlDialect }>;
  readonly latenessMs: number;
  readonly now: () => string;
}

/**
 * Publishes one partition of a group: each member's partitions for it are appended to the member's published
 * store (unchanged ones are not rewritten) and the group flips, in one step, to serve them over what it already
 * served. The barrier is checked again here, right before the copy, and the copied rows must be the ones the
 * ledger recorded as passing their checks, so nothing that changed since the workflow's last look can slip
 * through. Idempotent: the version is derived from the run and partition, and re-flipping changes nothing.
 */
export async function publishGroup(
  deps: PublishDeps,
  input: PublishGroupInput,
): Promise<{ version: string }> {
  const group = deps.definitions.publishGroups.find((g) => g.name === input.group);
  if (!group)
    throw ApplicationFailure.nonRetryable(`unknown publish group "${input.group}"`, 'ValidationError');
  const barrier = await barrierStatus(deps, { ...input, latenessMs: deps.latenessMs });
  if (!barrier.ready)
    throw new Error(
      `barrier of ${input.group}@${input.partitionKey} not ready: ${barrier.waitingOn.join('; ')}`,
    );

  const assets = group.assets.map((k) => deps.definitions.asset(k));
  const engines = new Set((await Promise.all(assets.map((a) => deps.engineFor(a)))).map((e) => e.engine));
  const [only] = engines;
  if (engines.size !== 1 || !only) {
    throw ApplicationFailure.nonRetryable(
      `publish group ${input.group} spans several engines; it cannot flip atomically`,
      'ValidationError',
    );
  }
  const version = `${input.partitionKey}_${createHash('sha256').update(input.runId).digest('hex').slice(0, 10)}`;
  // Each member publishes exactly the partitions this barrier covered, never the rest of its build table:
  // the others are served from earlier publications (or not at all, when they never passed a barrier).
  const view = await deps.ledger.view(group.assets);
  const covered = plan(
    deps.definitions,
    { selection: group.assets.join(' or '), partitionKeys: [input.partitionKey], force: true },
    view,
  );
  const tables: Record<string, string> = {};
  for (const a of assets) {
    const { dialect } = await deps.engineFor(a);
    const keys = a.partitions
      ? [...new Set(covered.steps.filter((s) => s.assetKey === a.key).map((s) => s.partitionKey))]
      : [''];
    // A member without a partition for this key (another cadence) keeps serving what it served.
    if (keys.length === 0) continue;
    const build = dialect.table(buildTable(a));
    const r = a.partitions
      ? await only.createVersionedTable({
          assetKey: a.key,
          version,
          selectSql: `SELECT * FROM ${build} WHERE ${dialect.quote(PARTITION_COLUMN)} IN (${keys.map((k) => dialect.literal(k)).join(', ')})`,
          partitions: { column: PARTITION_COLUMN, keys },
        })
      : await only.createVersionedTable({ assetKey: a.key, version, selectSql: `SELECT * FROM ${build}` });
    // The rows copied must be the ones whose checks passed: a rebuild since the barrier (running, or failed
    // after the barrier looked) shows as another fingerprint. Retrying checks the barrier again.
    for (const key of keys) {
      const passed = view.latest(a.key, key);
      const copied = r.partitions[key]?.dataVersion;
      if (passed?.status !== 'success' || passed.dataVersion !== copied) {
        throw new Error(
          `${a.key}@${key} changed since its checks passed (ledger ${passed?.status ?? 'missing'} ` +
            `${passed?.dataVersion ?? ''}, build ${copied ?? 'absent'}); not publishing it`,
        );
      }
    }
    tables[a.key] = r.table;
  }
  const flip = await only.flipPublishGroup({ group: input.group, tables, version, runId: input.runId });
  await deps.ledger.recordPublication({
    group: input.group,
    version: flip.state.version,
    // Unchanged content keeps the version served (and recorded) before: record that one again, a no-op.
    tables: flip.state.tables,
    runId: input.runId,
    publishedAt: deps.now(),
  });
  return { version: flip.state.version };
}
