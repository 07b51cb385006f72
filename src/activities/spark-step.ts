/**
 * The step of an asset declared with `spark` (a PySpark job of jobs/ builds it): its job arguments, the start-up
 * check of every such asset against the `spark:` config, and the write itself as materializeStep runs it. The
 * job writes the asset's table on the shared Iceberg catalog; the step's row count and data version are then
 * read from that table on the asset's own engine (Trino, or Spark's SQL server), like any other step's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { SparkConfig } from '../config/index.js';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import type { Engine, PartitionSelector, SqlDialect } from '../engines/index.js';
import { REPO_JOBS, SPARK_JOBS, type SparkJobInput, type SparkJobResult } from './spark-job.js';
import type { PartitionFacts } from './step-context.js';
import { buildTable, PARTITION_COLUMN } from './tables.js';

/** Runs one job to its end (spark-submit, heartbeating, cancelled with the activity). */
export type SparkRunner = (input: SparkJobInput) => Promise<SparkJobResult>;

/**
 * What an SCD2 asset's change log gives the job (the engines' merge reads the same columns, see
 * materialize.ts): one transaction's changes share `_lsn`, `_seq` orders them within it.
 */
const CHANGE_LOG_ARGS = { 'order-by': '_lsn,_seq', 'commit-time': '_commit_time', op: '_op' } as const;

const PLACEHOLDER = /\{\{\s*([a-z_]+(?:\.[a-z0-9_]+)?)\s*\}\}/g;

function isSparkJob(job: string): job is keyof typeof SPARK_JOBS {
  return Object.hasOwn(SPARK_JOBS, job);
}

/** The arguments the asset's declaration implies, before its own `args` (which win). */
function impliedArgs(definitions: Definitions, asset: AssetDefinition): Record<string, string> {
  const o = asset.scd2;
  if (asset.kind !== 'scd2' || asset.spark?.job !== 'scd2_merge' || !o) return {};
  return {
    changes: buildTable(definitions.asset(o.source)),
    'business-key': o.businessKey.join(','),
    tracked: o.tracked.join(','),
    ...CHANGE_LOG_ARGS,
  };
}

/** `{{ partition_key }}` and friends as plain text (not SQL literals: they become command-line values). */
function renderArg(value: string, facts: PartitionFacts, asset: string): string {
  return value.replace(PLACEHOLDER, (_m, name: string) => {
    const dimension = name.startsWith('partition.') ? facts.dimensions?.[name.slice(10)] : undefined;
    const v =
      name === 'partition_key'
        ? facts.partitionKey
        : name === 'partition_start'
          ? facts.window?.start
          : name === 'partition_end'
            ? facts.window?.end
            : name === 'partition_date'
              ? facts.window?.start.slice(0, 10)
              : dimension;
    if (v === undefined)
      throw ApplicationFailure.nonRetryable(
        `asset ${asset}: spark argument placeholder {{ ${name} }} has no value for partition "${facts.partitionKey}"`,
        'SparkJobInputError',
      );
    return v;
  });
}

/** The job's arguments for one step: deps by key become their tables, placeholders the partition. */
export function sparkArgs(
  definitions: Definitions,
  asset: AssetDefinition,
  facts: PartitionFacts,
): Record<string, string | number> {
  const deps = new Set(asset.deps.map((d) => d.key));
  const own = Object.entries(asset.spark?.args ?? {}).map(([k, v]) => {
    if (typeof v === 'number') return [k, v] as const;
    return [k, deps.has(v) ? buildTable(definitions.asset(v)) : renderArg(v, facts, asset.key)] as const;
  });
  return { ...impliedArgs(definitions, asset), ...Object.fromEntries(own), target: buildTable(asset) };
}

/**
 * Every problem with the assets built by Spark jobs, for start-up: no `spark:` config, an unknown job, a job file
 * missing from the jobs folder, an argument the job does not take or one it needs and is not given.
 */
export function sparkStartupProblems(definitions: Definitions, spark: SparkConfig | undefined): string[] {
  const assets = definitions.assets.filter((a) => a.spark !== undefined);
  if (assets.length === 0) return [];
  const problems: string[] = [];
  if (!spark) {
    problems.push(
      `${assets.length === 1 ? 'asset' : 'assets'} ${assets.map((a) => a.key).join(', ')} ${assets.length === 1 ? 'is' : 'are'} built by Spark jobs, ` +
        'but the config has no "spark:" section (add `spark: {}` to take spark-submit from the TESSERA_SPARK_* ' +
        'environment that scripts/services/spark.sh start prints, or give submit, master, jars, ...)',
    );
    return problems;
  }
  if (spark.submit.includes('/') && !existsSync(spark.submit))
    problems.push(`spark.submit: ${spark.submit} does not exist`);
  if (spark.propertiesFile && !existsSync(spark.propertiesFile))
    problems.push(`spark.propertiesFile: ${spark.propertiesFile} does not exist`);
  for (const jar of spark.jars) if (!existsSync(jar)) problems.push(`spark.jars: ${jar} does not exist`);
  const jobsDir = spark.jobsDir ?? REPO_JOBS;
  for (const asset of assets) {
    const job = asset.spark?.job ?? '';
    const where = `asset ${asset.key}`;
    if (!isSparkJob(job)) {
      problems.push(`${where}: unknown Spark job "${job}"; jobs: ${Object.keys(SPARK_JOBS).join(', ')}`);
      continue;
    }
    if (!existsSync(join(jobsDir, `${job}.py`)))
      problems.push(`${where}: ${join(jobsDir, `${job}.py`)} does not exist`);
    const shape = SPARK_JOBS[job].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
    const given = {
      ...impliedArgs(definitions, asset),
      ...(asset.spark?.args ?? {}),
      target: buildTable(asset),
    };
    for (const name of Object.keys(given)) {
      if (!Object.hasOwn(shape, name))
        problems.push(
          `${where}: Spark job ${job} takes no argument "${name}" (it takes ${Object.keys(shape).join(', ')})`,
        );
    }
    for (const [name, schema] of Object.entries(shape)) {
      if (!Object.hasOwn(given, name) && !schema.safeParse(undefined).success)
        problems.push(`${where}: Spark job ${job} needs the argument "${name}"`);
    }
  }
  return problems;
}

/** Throws, listing every problem, when an asset needs Spark that this config cannot run (start-up). */
export function assertSparkReady(definitions: Definitions, spark: SparkConfig | undefined): void {
  const problems = sparkStartupProblems(definitions, spark);
  if (problems.length > 0)
    throw new Error(`Spark jobs cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

/** The rows of the step's partition: by the declared time column's window, else by the partition column. */
function partitionOf(asset: AssetDefinition, facts: PartitionFacts): PartitionSelector | undefined {
  if (asset.partitions === undefined) return undefined;
  const column = asset.spark?.timeColumn;
  if (column && facts.window)
    return { type: 'window', column, start: facts.window.start, end: facts.window.end };
  return { type: 'values', values: { [PARTITION_COLUMN]: facts.partitionKey } };
}

export interface SparkWritten {
  readonly rowCount: number;
  readonly dataVersion: string;
  readonly selector?: PartitionSelector;
}

/**
 * Runs the asset's job for one step, then reads what it wrote on the asset's engine. `stepKey` is the same on
 * every attempt of the step (run id / step id): the job records it in its Iceberg commit and a retry that
 * finds it there writes nothing, so a worker killed after the commit never makes the step write twice.
 */
export async function runSparkStep(opts: {
  readonly definitions: Definitions;
  readonly asset: AssetDefinition;
  readonly facts: PartitionFacts;
  readonly engine: Engine;
  readonly dialect: SqlDialect;
  readonly stepKey: string;
  readonly run: SparkRunner | undefined;
}): Promise<SparkWritten> {
  const { asset, dialect: d } = opts;
  const job = asset.spark?.job ?? '';
  if (!opts.run)
    throw ApplicationFailure.nonRetryable(
      `asset ${asset.key} is built by Spark job "${job}", but this worker has no "spark:" config`,
      'SparkJobError',
    );
  if (!isSparkJob(job))
    throw ApplicationFailure.nonRetryable(`asset ${asset.key}: unknown Spark job "${job}"`, 'SparkJobError');
  await opts.run({ job, stepId: opts.stepKey, args: sparkArgs(opts.definitions, asset, opts.facts) });

  const selector = partitionOf(asset, opts.facts);
  const table = buildTable(asset);
  // SCD2: the fingerprint the engines' own merge reports (key, validity, deletion, ordering, row_hash), so
  // equal histories give equal versions whichever engine built them; otherwise the whole-row fingerprint
  // replacePartition reports.
  const o = asset.scd2;
  const exprs = o
    ? [...o.businessKey, 'valid_from', 'valid_to', 'is_deleted', 'source_lsn', 'row_hash'].map((c) =>
        d.quote(c),
      )
    : ['__tessera_row'];
  const where = selector ? ` WHERE ${d.partitionPredicate(selector)}` : '';
  const [r] = await opts.engine.query(
    `SELECT count(*) AS ${d.quote('rows')}, ${d.fingerprint(exprs)} AS ${d.quote('version')} ` +
      `FROM ${d.table(table)} AS __tessera_row${where}`,
  );
  return {
    rowCount: Number(r?.['rows'] ?? 0),
    dataVersion: String(r?.['version'] ?? ''),
    ...(selector ? { selector } : {}),
  };
}
