import type { AssetDefinition, Definitions } from '../dsl/index.js';
import type { Engine, PartitionSelector, WriteResult } from '../engines/index.js';
import { renderTemplate, type SqlDialect } from '../engines/index.js';
import { currentJobScope, withJobScope, type JobScope } from '../engines/core/job-scope.js';
import { RAW_LOG_ORDER_PARTS } from '../engines/dialect/scd2-log.js';
import { stepId, type Ledger } from '../ledger/index.js';
import type { SourceLoader } from '../sources/types.js';
import { stepInputs } from '../planner/index.js';
import { runCompute } from './compute.js';
import { runSparkStep, type SparkRunner } from './spark-step.js';
import { buildTable, PARTITION_COLUMN } from './tables.js';
import { partitionFacts, snapshotInstant, type PartitionFacts } from './step-context.js';
import type { MaterializeStepInput, StepCheckResult, StepResult } from './types.js';

/** The check an ingested step records with the number of inputs its landing pass quarantined. */
export const QUARANTINED_CHECK = 'quarantined';

/** scd2 assets from a change log: how long before the newest version a late change is still refused. */
export const SCD2_LOG_LATE_WINDOW_SECONDS = 3600;

export interface MaterializeDeps {
  readonly definitions: Definitions;
  readonly engineFor: (asset: AssetDefinition) => Promise<{ engine: Engine; dialect: SqlDialect }>;
  readonly ledger: Ledger;
  readonly loaders: Readonly<Record<string, SourceLoader>>;
  readonly heartbeat: () => void;
  readonly now: () => string;
  /** Runs the PySpark job of an asset declared with `spark` (absent: the worker has no `spark:` config). */
  readonly spark?: SparkRunner;
}

interface Written {
  readonly rowCount: number;
  readonly dataVersion: string;
  readonly selector?: PartitionSelector;
  /** Inputs the ingest pass set aside in raw.quarantine (ingested assets whose loader counts them). */
  readonly quarantined?: number;
}

/** Runs the asset's kind for one partition: every write replaces the partition (or merges by key) whole. */
async function write(
  deps: MaterializeDeps,
  asset: AssetDefinition,
  facts: PartitionFacts,
  engine: Engine,
  dialect: SqlDialect,
): Promise<Written> {
  const table = buildTable(asset);
  const partitioned = asset.partitions !== undefined;
  const selector: PartitionSelector | undefined = partitioned
    ? { type: 'values', values: { [PARTITION_COLUMN]: facts.partitionKey } }
    : undefined;
  const replace = (selectSql: string): Promise<WriteResult> => {
    if (!selector) return engine.replaceTable({ table, selectSql });
    const tagged = `SELECT q.*, ${dialect.literal(facts.partitionKey)} AS ${dialect.quote(PARTITION_COLUMN)} FROM (${selectSql}) AS q`;
    return engine.replacePartition({ table, partition: selector, selectSql: tagged });
  };
  const replaced = (r: WriteResult): Written => ({
    rowCount: r.rowCount,
    dataVersion: r.dataVersion,
    ...(selector ? { selector } : {}),
  });

  if (asset.spark) {
    // The job commits under the step's scope key (the same on every attempt): a retry finds it, writes nothing.
    const stepKey = currentJobScope()?.key ?? '';
    const { definitions, spark: run } = deps;
    return runSparkStep({ definitions, asset, facts, engine, dialect, stepKey, run });
  }
  if (asset.ingest) {
    const loader = deps.loaders[asset.ingest.source];
    if (!loader)
      throw new Error(`no loader is registered for source "${asset.ingest.source}" (asset ${asset.key})`);
    const r = await loader.ingest({
      assetKey: asset.key,
      stream: asset.ingest.stream,
      partitionKey: facts.partitionKey,
      ...(facts.window ? { window: facts.window } : {}),
      ...(facts.dimensions ? { dimensions: facts.dimensions } : {}),
      heartbeat: deps.heartbeat,
    });
    if (r.watermark) {
      await deps.ledger.setWatermark({ ...r.watermark, updatedAt: deps.now() });
    }
    return {
      rowCount: r.rowCount,
      dataVersion: r.dataVersion,
      ...(r.partition ? { selector: r.partition } : {}),
      ...(r.quarantined !== undefined ? { quarantined: r.quarantined } : {}),
    };
  }
  if (asset.compute) return replaced(await replace(await runCompute(asset, facts, engine, dialect)));
  switch (asset.kind) {
    case 'scd2': {
      const o = asset.scd2;
      if (!o) throw new Error(`asset ${asset.key} has no scd2 options`);
      const names = o.columnNames ? { columnNames: o.columnNames } : {};
      const source = buildTable(deps.definitions.asset(o.source));
      const r =
        (o.strategy ?? 'log') === 'log'
          ? await engine.mergeScd2FromChanges({
              target: table,
              // Changes of one transaction share its commit LSN; _seq orders them inside it.
              changes: `SELECT *, ${dialect.quote('_lsn')} || lpad(CAST(${dialect.quote('_seq')} AS ${dialect.portable.types.text}), 20, '0') AS ${dialect.quote('_pos')} FROM ${dialect.table(source)}`,
              businessKey: o.businessKey,
              tracked: o.tracked,
              orderBy: '_pos',
              orderParts: RAW_LOG_ORDER_PARTS, // _pos's columns: scans prune by the high-water mark's parts
              commitTimeColumn: '_commit_time',
              opColumn: '_op',
              // The raw log is appended in commit order: read only what follows the table's newest version
              // (an hour's slack for commits whose LSN and timestamp disagree), not the whole history.
              lateWindowSeconds: SCD2_LOG_LATE_WINDOW_SECONDS,
              ...names,
            })
          : await engine.mergeScd2FromSnapshot({
              target: table,
              snapshotSql: `SELECT * FROM ${dialect.table(source)}`,
              snapshotTime: deps.now(),
              businessKey: o.businessKey,
              tracked: o.tracked,
              ...names,
            });
      return { rowCount: r.rowCount, dataVersion: r.dataVersion };
    }
    case 'snapshot': {
      const from = asset.snapshot?.from;
      if (!from || !facts.window)
        throw new Error(`snapshot ${asset.key} needs a source and a time partition`);
      const scd2 = deps.definitions.asset(from);
      const sql = engine.snapshotAsOfSql({
        scd2Table: buildTable(scd2),
        asOf: snapshotInstant(facts.window.end),
        ...(scd2.scd2?.columnNames ? { columnNames: scd2.scd2.columnNames } : {}),
      });
      return replaced(await replace(sql));
    }
    default: {
      if (!asset.sql) throw new Error(`asset ${asset.key} (${asset.kind}) has no sql`);
      const sql = renderTemplate(dialect, asset.sql, {
        partitionKey: facts.partitionKey,
        ...(facts.window ? { partitionStart: facts.window.start, partitionEnd: facts.window.end } : {}),
        ...(facts.dimensions ? { partition: facts.dimensions } : {}),
      });
      return replaced(await replace(sql));
    }
  }
}

/**
 * Materializes one partition, runs its checks and records both in the ledger. Idempotent: the partition is
 * replaced whole and ledger records are keyed by (asset, partition, run). A failed blocking check fails the step:
 * the data stays written (to look at) but nothing downstream and no publication may use it.
 */
export async function materializeStep(
  deps: MaterializeDeps,
  input: MaterializeStepInput,
): Promise<StepResult> {
  const { step, runId } = input;
  const asset = deps.definitions.asset(step.assetKey);
  const startedAt = deps.now();
  // Plans that crossed Temporal carry no inputs (see PlanStep.inputs): recompute them the way the planner did.
  const inputs = step.inputs.length > 0 ? step.inputs : stepInputs(deps.definitions, step);
  const view = await deps.ledger.view([...new Set(inputs.map((i) => i.slice(0, i.lastIndexOf('@'))))]);
  const inputDataVersions: Record<string, string> = {};
  for (const input of inputs) {
    const at = input.lastIndexOf('@');
    const up = view.latestSuccess(input.slice(0, at), input.slice(at + 1));
    if (up) inputDataVersions[input] = up.dataVersion;
  }
  const base = {
    assetKey: asset.key,
    partitionKey: step.partitionKey,
    runId,
    codeVersion: asset.codeVersion,
    inputDataVersions,
    startedAt,
  };
  const { engine, dialect } = await deps.engineFor(asset);
  const facts = partitionFacts(asset.partitions, step.partitionKey);
  // One scope object for the write and the checks (the same key on every attempt, never the attempt number):
  // engines whose work runs as remote jobs (BigQuery) derive job ids from it, so a retried activity
  // re-attaches to the jobs its killed predecessor started, and they heartbeat through it while they poll.
  // A caller that materializes the step inside a unit of its own opens a scope around the call, and its key
  // prefixes this one: an ingest pass restating a partition (a later pass of the same run may restate it again,
  // and must not re-attach to the jobs of the earlier one).
  const outer = currentJobScope();
  const scope: JobScope = { key: `${outer?.key ?? runId}/${step.id}`, heartbeat: deps.heartbeat };
  let written: Written;
  try {
    written = await withJobScope(scope, () => write(deps, asset, facts, engine, dialect));
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    await deps.ledger.recordMaterialization({
      ...base,
      dataVersion: '',
      rowCount: 0,
      status: 'failed',
      error,
      endedAt: deps.now(),
    });
    throw err;
  }
  deps.heartbeat();

  const checks: StepCheckResult[] = [];
  const table = buildTable(asset);
  if (written.quarantined !== undefined) {
    // Quarantine is never silent: a non-blocking check the run summary, `tessera checks` and the ledger show.
    const n = written.quarantined;
    const detail = `${n} input(s) quarantined by the ingest pass (raw.quarantine, source ${asset.ingest?.source ?? ''})`;
    checks.push({ name: QUARANTINED_CHECK, blocking: false, passed: n === 0, detail });
    await deps.ledger.recordCheck({
      assetKey: asset.key,
      partitionKey: step.partitionKey,
      runId,
      checkName: QUARANTINED_CHECK,
      blocking: false,
      passed: n === 0,
      failingRows: n,
      detail,
      checkedAt: deps.now(),
    });
  }
  for (const declared of asset.checks) {
    // A SQL check sees its partition and its table as the asset's SQL does ({{ partition_start }}, {{ this }}).
    const check =
      declared.type === 'sql'
        ? {
            ...declared,
            sql: renderTemplate(dialect, declared.sql, {
              partitionKey: step.partitionKey,
              this: table,
              ...(facts.window ? { partitionStart: facts.window.start, partitionEnd: facts.window.end } : {}),
              ...(facts.dimensions ? { partition: facts.dimensions } : {}),
            }),
          }
        : declared;
    const r = await withJobScope(scope, () =>
      engine.runCheck(check, table, {
        ...(written.selector && check.type !== 'scd2_intervals' ? { partition: written.selector } : {}),
        ...(asset.scd2
          ? {
              scd2: {
                businessKey: asset.scd2.businessKey,
                ...(asset.scd2.columnNames ? { columnNames: asset.scd2.columnNames } : {}),
              },
            }
          : {}),
        now: deps.now(),
      }),
    );
    checks.push({ name: check.name, blocking: check.blocking, passed: r.passed, detail: r.detail });
    await deps.ledger.recordCheck({
      assetKey: asset.key,
      partitionKey: step.partitionKey,
      runId,
      checkName: check.name,
      blocking: check.blocking,
      passed: r.passed,
      failingRows: r.failingRows,
      detail: r.detail,
      checkedAt: deps.now(),
    });
  }
  const blocked = checks.filter((c) => c.blocking && !c.passed);
  const error =
    blocked.length > 0
      ? `blocking check failed: ${blocked.map((c) => `${c.name} (${c.detail ?? ''})`).join('; ')}`
      : undefined;
  await deps.ledger.recordMaterialization({
    ...base,
    dataVersion: written.dataVersion,
    rowCount: written.rowCount,
    status: error ? 'failed' : 'success',
    ...(error ? { error } : {}),
    endedAt: deps.now(),
  });
  return {
    stepId: stepId(asset.key, step.partitionKey),
    status: error ? 'failed' : 'success',
    rowCount: written.rowCount,
    dataVersion: written.dataVersion,
    checks,
    ...(written.quarantined ? { quarantined: written.quarantined } : {}),
    ...(error ? { error } : {}),
  };
}
