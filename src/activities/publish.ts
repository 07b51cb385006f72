import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import type { Engine, SqlDialect } from '../engines/index.js';
import type { Ledger } from '../ledger/index.js';
import { barrierStatus } from './barrier.js';
import { buildTable } from './tables.js';
import type { PublishGroupInput } from './types.js';

export interface PublishDeps {
  readonly definitions: Definitions;
  readonly ledger: Ledger;
  readonly engineFor: (asset: AssetDefinition) => Promise<{ engine: Engine; dialect: SqlDialect }>;
  readonly latenessMs: number;
  readonly now: () => string;
}

/**
 * Flips a publish group to new versions of its marts in one step. The barrier is checked again here, right
 * before the flip, so nothing that changed since the workflow's last look can slip through. Idempotent: the
 * version is derived from the run and partition, and re-flipping to the same tables changes nothing.
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
  const tables: Record<string, string> = {};
  for (const a of assets) {
    const { dialect } = await deps.engineFor(a);
    const r = await only.createVersionedTable({
      assetKey: a.key,
      version,
      selectSql: `SELECT * FROM ${dialect.table(buildTable(a))}`,
    });
    tables[a.key] = r.table;
  }
  const flip = await only.flipPublishGroup({ group: input.group, tables, version, runId: input.runId });
  await deps.ledger.recordPublication({
    group: input.group,
    version: flip.state.version,
    tables,
    runId: input.runId,
    publishedAt: deps.now(),
  });
  return { version: flip.state.version };
}
