/**
 * Activities: every piece of I/O the workflows ask for, built by `createActivities(deps)` over the definitions,
 * engines, ledger, source loaders and alert routes. Each is idempotent. May import anything but src/workflows.
 */
import { Context } from '@temporalio/activity';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { AlertRouteConfig, SparkConfig } from '../config/index.js';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import { DIALECTS, ENGINES, type Engine, type SqlDialect } from '../engines/index.js';
import { KeyedLock } from '../engines/core/keyed-lock.js';
import type { Ledger } from '../ledger/index.js';
import { filterPlan, plan, splitRange, withoutInputs } from '../planner/index.js';
import type { SourceLoader } from '../sources/types.js';
import { deliverAlert, effectiveRoutes, routesFor, sendAlert } from './alerts.js';
import { barrierStatus } from './barrier.js';
import { classify } from './errors.js';
import { heartbeat } from './heartbeat.js';
import { cancellableHeartbeat, ingestSource } from './ingest.js';
import { createLeaseActivities, leasedMaterializeStep, type StepLeaseOptions } from './lease.js';
import { MemoryStepLeaseStore, type StepLeaseStore } from './lease-store.js';
import type { LeaseActivities } from '../runtime/lease-types.js';
import { materializeStep } from './materialize.js';
import { runSparkJob, type SparkJobInput } from './spark-job.js';
import { assertSparkReady } from './spark-step.js';
import { publishGroup } from './publish.js';
import { rollbackGroup, runReadOnlyQuery } from './query.js';
import { freshnessBreaches } from './freshness.js';
import { tickRequest } from './tick.js';
import type { MaterializeStepInput, StepResult, TesseraActivities } from './types.js';

export interface ActivityDeps {
  readonly definitions: Definitions;
  /** Engines by name (config `engines`); assets without `engine` use `defaultEngine`. */
  readonly engines: Readonly<Record<string, Engine>>;
  readonly defaultEngine: string;
  /** The engine name of an asset (config `assetEngines`, src/config/asset-engines.ts); default: its own or defaultEngine. */
  readonly engineOf?: (asset: AssetDefinition) => string;
  readonly ledger: Ledger;
  readonly loaders?: Readonly<Record<string, SourceLoader>>;
  readonly alertRoutes: readonly AlertRouteConfig[];
  readonly latenessMs: number;
  readonly logger: Logger;
  /** The `spark:` config: how assets declared with `spark` run their PySpark job (none: such assets refuse). */
  readonly spark?: SparkConfig;
  /** Clock for ledger timestamps (tests pin it). */
  readonly now?: () => string;
  /**
   * Step leases (src/activities/lease-store.ts: `openStepLeaseStore(config.ledger)`): every materializeStep claims
   * its step's lease first, so two runs never build one step at once in any mode. Default: leases in this process
   * only (runs on other workers are not excluded).
   */
  readonly leases?: StepLeaseStore;
  readonly leaseOptions?: StepLeaseOptions;
}

/**
 * Heartbeats every 10 s while `fn` runs: one statement on a server engine (a Trino MERGE on a loaded machine)
 * can outlast the heartbeat timeout, and the step is alive as long as this process is. A killed worker stops
 * beating, so Temporal still retries its steps elsewhere after the timeout.
 */
async function whileBeating<T>(fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(heartbeat, 10_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Wraps an activity so its errors are classified (non-retryable vs retryable) in one place. */
const classified =
  <I, O>(fn: (input: I) => Promise<O>) =>
  async (input: I): Promise<O> => {
    try {
      return await fn(input);
    } catch (err) {
      throw classify(err);
    }
  };

export function createActivities(deps: ActivityDeps): TesseraActivities & LeaseActivities {
  const now = deps.now ?? (() => DateTime.utc().toISO() ?? '');
  // An asset that needs Spark must be able to run at start-up, not fail (or be skipped) at its first step.
  assertSparkReady(deps.definitions, deps.spark);
  const sparkConfig = deps.spark;
  const stepDeps = sparkConfig
    ? {
        spark: (input: SparkJobInput) => {
          let signal: AbortSignal | undefined;
          try {
            // Cancelling the step's activity ends the spark-submit process group.
            signal = Context.current().cancellationSignal;
          } catch {
            // Not in an activity (tests, CLI): nothing cancels it.
          }
          return runSparkJob(sparkConfig, input, { heartbeat, ...(signal ? { signal } : {}) });
        },
      }
    : {};
  const engineFor = async (asset: AssetDefinition): Promise<{ engine: Engine; dialect: SqlDialect }> => {
    const name = deps.engineOf ? deps.engineOf(asset) : (asset.engine ?? deps.defaultEngine);
    const engine = deps.engines[name];
    if (!engine) throw new Error(`asset ${asset.key} runs on engine "${name}", which is not configured`);
    // A registered engine's own dialect (Trino, Spark, BigQuery); DIALECTS holds the render-only ones too.
    const dialect =
      (ENGINES as Record<string, { readonly dialect: SqlDialect } | undefined>)[engine.name]?.dialect ??
      (DIALECTS as Record<string, SqlDialect | undefined>)[engine.name];
    if (!dialect) throw new Error(`engine "${engine.name}" has no registered dialect`);
    return { engine, dialect };
  };
  const common = { definitions: deps.definitions, ledger: deps.ledger, engineFor, now };
  const alerting = {
    definitions: deps.definitions,
    routes: effectiveRoutes(deps.definitions, deps.alertRoutes),
    logger: deps.logger,
  };
  // One ingestion at a time per source on this worker: partitions of one source land the same files or slot.
  const ingestLock = new KeyedLock();
  const loaders = Object.fromEntries(
    Object.entries(deps.loaders ?? {}).map(([name, loader]) => [
      name,
      {
        ingest: (req: Parameters<SourceLoader['ingest']>[0]) => {
          // Queued behind another partition of the source: on a server engine one ingestion can outlast the
          // heartbeat timeout, so a queued step keeps beating (else Temporal retries it while it waits).
          const queued = setInterval(() => req.heartbeat(), 5_000);
          return ingestLock
            .run(name, () => {
              clearInterval(queued);
              return loader.ingest(req);
            })
            .finally(() => clearInterval(queued));
        },
      },
    ]),
  );
  const leases = deps.leases ?? new MemoryStepLeaseStore();
  const leaseOptions = deps.leaseOptions ?? {};
  const build = (input: MaterializeStepInput): Promise<StepResult> =>
    materializeStep({ ...common, ...stepDeps, loaders, heartbeat }, input);
  const leased = leasedMaterializeStep(leases, leaseOptions, build, deps.logger);
  // An ingest pass's restatement has no workflow to wait in: it waits on the lease inside the activity.
  const restate = leasedMaterializeStep(leases, leaseOptions, build, deps.logger, 'wait');
  return {
    materializeStep: classified((input) => whileBeating(() => leased(input))),
    ...createLeaseActivities(leases, leaseOptions, deps.logger),
    ingestSource: classified((input) =>
      ingestSource(
        {
          ...common,
          loaders: deps.loaders ?? {},
          lock: ingestLock,
          heartbeat: cancellableHeartbeat,
          restate: (runId, step) => restate({ runId, step, force: false }),
        },
        input,
      ),
    ),
    planRun: classified(async (request) => {
      const keys = deps.definitions.select(request.selection);
      return withoutInputs(plan(deps.definitions, request, await deps.ledger.view(keys)));
    }),
    planBackfillWindows: classified(async ({ request, only, windowDays }) => {
      const keys = deps.definitions.select(request.selection);
      const view = await deps.ledger.view(keys);
      let skippedFresh = 0;
      const windows = (request.range ? splitRange(request.range, windowDays) : []).map((range) => {
        const p = plan(deps.definitions, { ...request, range, force: only === 'all' }, view);
        const steps = filterPlan(p, only).length;
        skippedFresh += p.skippedFresh + p.steps.length - steps;
        return { range, steps };
      });
      return { windows, skippedFresh };
    }),
    sendAlert: classified((alert) => sendAlert(alerting, alert)),
    alertRoutes: classified(async (alert) =>
      routesFor(alerting.definitions, alerting.routes, alert).map((r) => r.name),
    ),
    deliverAlert: classified(({ alert, route }) => deliverAlert(alerting, alert, route)),
    barrierStatus: classified((input) => barrierStatus(common, input)),
    publishGroup: classified((input) => publishGroup({ ...common, latenessMs: deps.latenessMs }, input)),
    recordBackfill: classified(async (progress) => {
      const { skipped: _skipped, ...record } = progress;
      await deps.ledger.upsertBackfill({ ...record, updatedAt: now() });
    }),
    tickRequest: classified(async (input) => tickRequest(deps.definitions, input)),
    freshnessBreaches: classified((input) => freshnessBreaches(common, input)),
    runQuery: classified(async (input) => {
      const name = input.engine ?? deps.defaultEngine;
      const engine = deps.engines[name];
      if (!engine) throw new Error(`engine "${name}" is not configured on this worker`);
      return runReadOnlyQuery(engine, deps.definitions, input);
    }),
    rollbackGroup: classified((input) =>
      rollbackGroup(
        { definitions: deps.definitions, engineOf: async (a) => (await engineFor(a)).engine },
        input,
      ),
    ),
  };
}
