/**
 * ingestSource: one landing pass of a source outside any materialization (the ingest workflows). Lands what is
 * new through the loader's `land()`, records the watermark, and re-reports the partitions late data re-opened, so
 * the planner sees their readers as `upstream_changed` (the ledger's one notion of staleness).
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ConfigError } from '../config/index.js';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import { withJobScope } from '../engines/core/job-scope.js';
import type { KeyedLock } from '../engines/core/keyed-lock.js';
import { stepId, type Ledger } from '../ledger/index.js';
import type { PlanStep } from '../planner/types.js';
import { SourceError } from '../sources/cdc/errors.js';
import type { LandResult, SourceLoader } from '../sources/types.js';
import { partitionFacts } from './step-context.js';
import type { IngestPassResult, IngestSourceInput, StepResult } from './types.js';

export interface IngestDeps {
  readonly definitions: Definitions;
  readonly ledger: Ledger;
  /** The worker's loaders as registered (with `land`). */
  readonly loaders: Readonly<Record<string, SourceLoader>>;
  /** The per-source lock materialize steps ingest under: a pass never runs beside a step's ingestion. */
  readonly lock: KeyedLock;
  readonly heartbeat: () => void;
  readonly now: () => string;
  /** Materializes one partition of an ingested asset (checks, ledger record); takes the source lock itself. */
  readonly restate: (runId: string, step: PlanStep) => Promise<StepResult>;
}

/**
 * Heartbeats inside an activity and stops the pass (between files) once the activity is cancelled, so a stopped
 * ingestion workflow does not keep landing. A no-op outside an activity (tests, CLI).
 */
export function cancellableHeartbeat(): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return; // not in an activity
  }
  ctx.heartbeat();
  if (ctx.cancellationSignal.aborted) throw new CancelledFailure('ingestion pass cancelled');
}

/**
 * This landing pass, the same on every attempt of its activity (workflow run and activity id; the attempt
 * number is left out): a retried pass re-attaches to the jobs its killed predecessor started. Outside an
 * activity (tests, CLI) nothing retries it: a fresh id.
 */
function passKey(): string {
  try {
    const info = Context.current().info;
    return `pass-${info.workflowExecution?.runId ?? 'no-workflow'}-${info.activityId}`;
  } catch {
    return `pass-${randomUUID()}`;
  }
}

/** Source errors carry their own verdict: a schema drift or a lost slot needs a person, not a retry. */
function sourceFailure(err: unknown): unknown {
  if (err instanceof SourceError && !err.retryable)
    return ApplicationFailure.nonRetryable(err.message, err.name, { alertable: err.alertable });
  return err;
}

function loaderOf(deps: IngestDeps, source: string): SourceLoader & Required<Pick<SourceLoader, 'land'>> {
  const loader = deps.loaders[source];
  if (!loader)
    throw new ConfigError(
      `no loader is registered for source "${source}" on this worker (loaders: ${Object.keys(deps.loaders).sort().join(', ') || 'none'})`,
    );
  const land = loader.land?.bind(loader);
  if (!land)
    throw new ConfigError(`the loader of source "${source}" has no land(): it ingests only in steps`);
  return { ...loader, ingest: loader.ingest.bind(loader), land };
}

/**
 * Re-reports each re-opened partition that was reported before and whose content changed since: a new data
 * version in the ledger makes every reader that recorded the old one stale. Partitions never reported are left
 * to the planner (they are `missing`); unchanged ones are left alone (no history noise, nothing goes stale).
 */
async function restateReopened(
  deps: IngestDeps,
  input: IngestSourceInput,
  loader: SourceLoader,
  reopened: NonNullable<LandResult['reopened']>,
): Promise<string[]> {
  const restated: string[] = [];
  const pass = passKey();
  const assets = deps.definitions.assets.filter((a) => a.ingest?.source === input.source);
  const streamOf = (a: AssetDefinition): string | undefined => a.ingest?.stream;
  const view = await deps.ledger.view(assets.map((a) => a.key));
  for (const { stream, partitionKey } of reopened) {
    for (const asset of assets.filter((a) => streamOf(a) === stream)) {
      if (asset.partitions && !asset.partitions.has(partitionKey)) continue;
      const before = view.latestSuccess(asset.key, partitionKey);
      if (!before) continue;
      const facts = partitionFacts(asset.partitions, partitionKey);
      const now = await deps.lock.run(input.source, () =>
        loader.ingest({
          assetKey: asset.key,
          stream,
          partitionKey,
          ...(facts.window ? { window: facts.window } : {}),
          ...(facts.dimensions ? { dimensions: facts.dimensions } : {}),
          heartbeat: deps.heartbeat,
        }),
      );
      if (now.dataVersion === before.dataVersion) continue;
      const id = stepId(asset.key, partitionKey);
      // Under this pass's own job scope: the ingest workflow's run id is the same for every pass, and a later
      // pass restating this partition again must run its jobs anew, not re-attach to this pass's (BigQuery).
      await withJobScope({ key: `${input.runId}/${pass}` }, () =>
        deps.restate(input.runId, {
          id,
          assetKey: asset.key,
          partitionKey,
          reason: 'upstream_changed',
          upstream: [],
          inputs: [],
        }),
      );
      restated.push(id);
      deps.heartbeat();
    }
  }
  return restated;
}

export async function ingestSource(deps: IngestDeps, input: IngestSourceInput): Promise<IngestPassResult> {
  const loader = loaderOf(deps, input.source);
  try {
    const r = await deps.lock.run(input.source, () => loader.land(deps.heartbeat));
    if (r.watermark) await deps.ledger.setWatermark({ ...r.watermark, updatedAt: deps.now() });
    const restated = r.reopened?.length ? await restateReopened(deps, input, loader, r.reopened) : [];
    return {
      source: input.source,
      landed: r.landed,
      quarantined: r.quarantined,
      ...(r.watermark ? { watermark: r.watermark.watermark } : {}),
      reopened: r.reopened?.length ?? 0,
      restated,
      finishedAt: deps.now(),
    };
  } catch (err) {
    throw sourceFailure(err);
  }
}
