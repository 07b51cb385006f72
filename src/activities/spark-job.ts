/**
 * runSparkJob: runs one PySpark job of `jobs/` (the heavy assets: SCD2 merge of a large
 * dimension, Snowplow sessionization) through `spark-submit` against a master URL from config (`local[2]`
 * here, a cluster in production), heartbeating while it runs. The job gets the plan step's id and records it
 * in the Iceberg snapshot summary of its one commit; a retry (a worker killed mid-job, a timed-out attempt)
 * finds it there and writes nothing (jobs/tessera_job.py). Cancellation (seen on a heartbeat) ends the
 * spark-submit process group. materializeStep calls it for assets declared with `spark` (spark-step.ts);
 * createSparkJobActivities offers it as an activity of its own for workflows that run a job outside a step.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { sparkConfigSchema } from '../config/spark.js';

/** The `spark:` config section (src/config/spark.ts): spark-submit, master, properties file, jars, ... */
export const sparkJobConfigSchema = sparkConfigSchema;
export type SparkJobConfig = z.input<typeof sparkJobConfigSchema>;

/** The jobs there are, each with its arguments (names as the job's --flags, without the dashes). */
export const SPARK_JOBS = {
  scd2_merge: z.object({
    changes: z.string(),
    target: z.string(),
    'business-key': z.string(),
    tracked: z.string(),
    /** One column, or several (`_lsn,_seq`): compared as their text, each after the first zero-padded to 20. */
    'order-by': z.string(),
    'commit-time': z.string(),
    op: z.string(),
    buckets: z.number().int().positive().optional(),
  }),
  sessionize: z.object({
    source: z.string(),
    target: z.string(),
    day: z.string().regex(/^\d{4}-\d\d-\d\d$/),
  }),
} as const;
export type SparkJobName = keyof typeof SPARK_JOBS;

export interface SparkJobInput {
  readonly job: SparkJobName;
  /** The plan step this run carries out: recorded in the commit, checked before it. */
  readonly stepId: string;
  readonly args: Readonly<Record<string, string | number>>;
}

const resultSchema = z.object({
  status: z.enum(['committed', 'skipped']),
  table: z.string(),
  snapshot_id: z.union([z.string(), z.number()]).nullable(),
  step_id: z.string(),
});

export interface SparkJobResult {
  readonly status: 'committed' | 'skipped';
  readonly table: string;
  /** The Iceberg snapshot that recorded the step (null when there was nothing to write). */
  readonly snapshotId: string | null;
  readonly stepId: string;
}

export interface SparkJobHooks {
  /** Called every `heartbeatMs` while the job runs; throwing cancels the job. */
  readonly heartbeat?: () => void;
  /** Aborting ends the spark-submit process group. */
  readonly signal?: AbortSignal;
}

/** The repository's jobs/ folder (config `spark.jobsDir` overrides it). */
export const REPO_JOBS = fileURLToPath(new URL('../../jobs/', import.meta.url));

/** Runs one job to its end; throws (with the job's last output lines) when it fails. */
export async function runSparkJob(
  configInput: SparkJobConfig,
  input: SparkJobInput,
  hooks: SparkJobHooks = {},
): Promise<SparkJobResult> {
  const config = sparkJobConfigSchema.parse(configInput);
  const schema = SPARK_JOBS[input.job];
  if (!schema)
    throw ApplicationFailure.nonRetryable(`unknown Spark job '${String(input.job)}'`, 'SparkJobError');
  const args = schema.parse(input.args);
  const jobsDir = config.jobsDir ?? REPO_JOBS;
  const argv = [
    '--master',
    config.master,
    ...(config.propertiesFile ? ['--properties-file', config.propertiesFile] : []),
    ...(config.jars.length > 0 ? ['--jars', config.jars.join(',')] : []),
    '--py-files',
    `${jobsDir}/tessera_job.py`,
    `${jobsDir}/${input.job}.py`,
    ...Object.entries(args).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, String(v)])),
    '--step-id',
    input.stepId,
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TZ: 'UTC',
    ...(config.python ? { PYSPARK_PYTHON: config.python, PYSPARK_DRIVER_PYTHON: config.python } : {}),
    ...(config.javaHome ? { JAVA_HOME: config.javaHome } : {}),
  };
  // Its own process group: cancelling ends spark-submit, the JVM and the Python driver together.
  const child = spawn(config.submit, argv, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const tail: string[] = [];
  const keep = (buffer: string[], max: number) => (chunk: Buffer) => {
    buffer.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (buffer.length > max) buffer.splice(0, buffer.length - max);
  };
  child.stdout.on('data', keep(out, 50));
  child.stderr.on('data', keep(tail, 40));
  const kill = (): void => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  hooks.signal?.addEventListener('abort', kill, { once: true });
  let beatError: unknown;
  const timer = setInterval(() => {
    try {
      hooks.heartbeat?.();
    } catch (err) {
      beatError = err;
      kill();
    }
  }, config.heartbeatMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    if (beatError) throw beatError;
    if (hooks.signal?.aborted) throw new Error(`Spark job ${input.job} (${input.stepId}) cancelled`);
    if (code !== 0) {
      const lines = tail.filter((l) => !/^\s+at |WARN/.test(l)).slice(-12);
      const message = `Spark job ${input.job} (${input.stepId}) exited with ${String(code)}:\n${lines.join('\n')}`;
      // A refused input (late or malformed changes) fails the same way on every attempt: needs a person.
      if (tail.some((l) => l.includes('InputError')))
        throw ApplicationFailure.nonRetryable(message, 'SparkJobInputError');
      throw ApplicationFailure.retryable(message, 'SparkJobError');
    }
    const last = [...out].reverse().find((l) => l.trim().startsWith('{'));
    if (!last) throw new Error(`Spark job ${input.job} printed no result line`);
    const r = resultSchema.parse(JSON.parse(last));
    return {
      status: r.status,
      table: r.table,
      snapshotId: r.snapshot_id === null ? null : String(r.snapshot_id),
      stepId: r.step_id,
    };
  } finally {
    clearInterval(timer);
    hooks.signal?.removeEventListener('abort', kill);
  }
}

/** The activity, heartbeating through Temporal and ending the job when the activity is cancelled. */
export function createSparkJobActivities(config: SparkJobConfig): {
  sparkJob(input: SparkJobInput): Promise<SparkJobResult>;
} {
  const parsed = sparkJobConfigSchema.parse(config);
  return {
    async sparkJob(input) {
      const ctx = Context.current();
      return runSparkJob(parsed, input, {
        heartbeat: () => ctx.heartbeat({ job: input.job, stepId: input.stepId }),
        signal: ctx.cancellationSignal,
      });
    },
  };
}
