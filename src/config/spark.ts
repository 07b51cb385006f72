import { z } from 'zod';

/**
 * The `spark:` section: how the materializeStep activity runs the PySpark jobs of jobs/ (spark-submit) for
 * assets that declare `spark`. Without the section, such an asset is a start-up error, never a skipped step.
 *
 *   spark: {}                                 # everything from the TESSERA_SPARK_* environment
 *   spark: { master: 'spark://10.0.0.5:7077', submit: /opt/spark/bin/spark-submit, jars: [...] }
 *
 * Keys left out come from the environment `scripts/services/spark.sh start` prints (SPARK_ENV below).
 */
const SUBMIT_MISSING =
  'needs spark-submit: set spark.submit or TESSERA_SPARK_SUBMIT (scripts/services/spark.sh start prints it)';

export const sparkConfigSchema = z
  .object({
    /** spark-submit (`$TESSERA_SPARK_SUBMIT`: PyPI pyspark's, installed by scripts/services/spark.sh). */
    submit: z.string({ error: SUBMIT_MISSING }).min(1, { error: SUBMIT_MISSING }),
    /** `local[2]` (default), `spark://host:7077`, `yarn`, `k8s://...`. */
    master: z.string().min(1).default('local[2]'),
    /** spark-submit --properties-file: the Iceberg catalog and session settings (`$TESSERA_SPARK_PROPERTIES`). */
    propertiesFile: z.string().min(1).optional(),
    /** --jars: the Iceberg Spark runtime and the PostgreSQL JDBC driver (`$TESSERA_SPARK_JARS`, comma-separated). */
    jars: z.array(z.string().min(1)).default([]),
    /** PYSPARK_PYTHON for driver and executors: a Python that has pyspark (`$TESSERA_SPARK_PYTHON`). */
    python: z.string().min(1).optional(),
    /** JAVA_HOME for spark-submit (`$TESSERA_SPARK_JAVA_HOME`). */
    javaHome: z.string().min(1).optional(),
    /** Folder of the job files; default the repository's `jobs/`. */
    jobsDir: z.string().min(1).optional(),
    /** Heartbeat period while a job runs (the step activity's heartbeat timeout, 1 min, must be longer). */
    heartbeatMs: z.number().int().positive().max(30_000).default(5_000),
  })
  .strict();

export type SparkConfig = z.infer<typeof sparkConfigSchema>;

/** Config key → the environment variable that gives its default. */
export const SPARK_ENV = {
  submit: 'TESSERA_SPARK_SUBMIT',
  master: 'TESSERA_SPARK_MASTER',
  propertiesFile: 'TESSERA_SPARK_PROPERTIES',
  jars: 'TESSERA_SPARK_JARS',
  python: 'TESSERA_SPARK_PYTHON',
  javaHome: 'TESSERA_SPARK_JAVA_HOME',
} as const;

/** A `spark:` section (an object) with the keys it leaves out filled from the environment; anything else as is. */
export function withSparkEnvDefaults(section: unknown, env: NodeJS.ProcessEnv): unknown {
  if (section === null || typeof section !== 'object' || Array.isArray(section)) return section;
  const out: Record<string, unknown> = { ...(section as Record<string, unknown>) };
  for (const [key, variable] of Object.entries(SPARK_ENV)) {
    const value = env[variable];
    if (Object.hasOwn(out, key) || value === undefined || value === '') continue;
    out[key] = key === 'jars' ? value.split(',').filter(Boolean) : value;
  }
  return out;
}
