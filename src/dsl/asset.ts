import { z } from 'zod';
import { checkSpecSchema, resolveCheck } from './checks.js';
import { computeCodeVersion } from './code-version.js';
import type { ComputeFn } from './compute.js';
import type { PartitionMapping } from './mappings/types.js';
import type { PartitionsDefinition } from './partitions/types.js';
import {
  ASSET_KINDS,
  type AssetDeclaration,
  type AssetSpec,
  type CheckDefinition,
  type DepSpec,
  type SparkJobOptions,
} from './types.js';
import { formatIssues, ValidationError, type ValidationProblem } from './validate.js';

/** A job of jobs/ (its file name without .py) and its --flags. */
const SPARK_JOB_NAME = /^[a-z][a-z0-9_]*$/;
const SPARK_ARG_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * The `spark` option of an asset: a PySpark job of jobs/ builds it.
 *
 *   asset({ key: 'core.dim_listings', kind: 'scd2', scd2: { ... }, spark: sparkJob('scd2_merge') })
 *   asset({ key: 'clickstream.fct_sessions', kind: 'fact', partitions: daily(...), deps: ['raw.snowplow_events'],
 *     spark: sparkJob('sessionize', { source: 'raw.snowplow_events', day: '{{ partition_key }}' },
 *       { timeColumn: 'started_at' }) })
 */
export function sparkJob(
  job: string,
  args?: Readonly<Record<string, string | number>>,
  opts: { readonly timeColumn?: string } = {},
): SparkJobOptions {
  return { job, ...(args ? { args } : {}), ...(opts.timeColumn ? { timeColumn: opts.timeColumn } : {}) };
}

/** Asset keys become SQL identifiers `schema.name`, hence lower snake case. */
export const ASSET_KEY_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

const assetKey = z.string().regex(ASSET_KEY_PATTERN, {
  error: 'must be a lower snake case "schema.name" (it becomes a SQL identifier), e.g. "core.dim_users"',
});
const names = z.array(z.string().min(1, { error: 'must not be empty' }));
const nonEmptyNames = names.min(1, { error: 'must not be empty' });

// Partitions and mappings are objects with methods made by our constructors; zod checks only their shape.
const partitions = z.custom<PartitionsDefinition>(
  (v) => typeof v === 'object' && v !== null && 'fingerprint' in v && 'has' in v && 'type' in v,
  { error: 'must be made with hourly/daily/weekly/monthly(), staticPartitions() or multiPartitions()' },
);
const mapping = z.custom<PartitionMapping>(
  (v) => typeof v === 'object' && v !== null && 'fingerprint' in v && 'upstreamKeys' in v,
  {
    error: 'must be made with identity(), lookback(n), rollup(), containing(), allUpstream() or dimension()',
  },
);

const specSchema = z.strictObject({
  key: assetKey,
  kind: z.enum(ASSET_KINDS, { error: `kind must be one of ${ASSET_KINDS.join(', ')}` }),
  description: z.string().optional(),
  deps: z
    .array(
      z.union([assetKey, z.strictObject({ key: assetKey, mapping: mapping.optional() })], {
        error: 'must be an asset key or { key, mapping }',
      }),
    )
    .optional(),
  partitions: partitions.optional(),
  engine: z.string().min(1, { error: 'must not be empty' }).optional(),
  sql: z.string().trim().min(1, { error: 'must not be empty' }).optional(),
  compute: z
    .custom<ComputeFn>((v) => typeof v === 'function', {
      error: 'must be an async function (ctx) => ({ columns, rows })',
    })
    .optional(),
  scd2: z
    .strictObject({
      source: assetKey,
      businessKey: nonEmptyNames,
      tracked: nonEmptyNames,
      strategy: z.enum(['log', 'check']).optional(),
      columnNames: z.enum(['tessera', 'dbt']).optional(),
    })
    .optional(),
  snapshot: z.strictObject({ from: assetKey }).optional(),
  ingest: z
    .strictObject({ source: z.string().min(1, { error: 'must not be empty' }), stream: z.string().min(1) })
    .optional(),
  primaryKey: nonEmptyNames.optional(),
  spark: z
    .strictObject({
      job: z
        .string()
        .regex(SPARK_JOB_NAME, { error: 'must be a job file name of jobs/ without .py, e.g. "scd2_merge"' }),
      args: z
        .record(
          z.string().regex(SPARK_ARG_NAME, { error: 'must be a --flag name without the dashes' }),
          z.union([z.string(), z.number()]),
        )
        .refine((args) => !Object.hasOwn(args, 'target'), {
          error: "target is the asset's own table; remove it",
        })
        .refine((args) => !Object.hasOwn(args, 'step-id'), {
          error: 'step-id is given by the step; remove it',
        })
        .optional(),
      timeColumn: z.string().min(1).optional(),
    })
    .optional(),
  checks: z.array(checkSpecSchema).optional(),
  owners: names.optional(),
  tags: names.optional(),
  group: z.string().min(1).optional(),
  freshness: z.strictObject({ maxLagMinutes: z.number().positive({ error: 'must be > 0' }) }).optional(),
  publishGroup: z.string().min(1).optional(),
  version: z.string().optional(),
});
const SPEC_FIELDS = Object.keys(specSchema.shape);

/** Which kinds need which option; sql for kinds we generate SQL for would be ignored, so it is an error. */
function kindProblems(spec: AssetSpec): string[] {
  const out: string[] = [];
  const takesSql =
    spec.kind === 'fact' || spec.kind === 'metric' || spec.kind === 'mart' || spec.kind === 'custom';
  // Facts and custom assets may be landed by a source loader (ingest) instead of computed by SQL.
  const ingestible = spec.kind === 'fact' || spec.kind === 'custom';
  // Custom assets and marts may be computed by a TypeScript function instead.
  const computable = spec.kind === 'custom' || spec.kind === 'mart';
  const producers = [
    spec.sql !== undefined ? 'sql' : undefined,
    spec.compute !== undefined ? 'compute' : undefined,
    spec.ingest !== undefined ? 'ingest' : undefined,
    spec.spark !== undefined ? 'spark' : undefined,
  ].filter((p) => p !== undefined);
  if (takesSql && producers.length === 0) {
    const or = computable ? ', or compute (a function returning its rows)' : '';
    out.push(`kind ${spec.kind} needs sql (the SELECT producing a partition)${or}`);
  }
  if (!takesSql && spec.sql !== undefined) {
    out.push(`sql is generated for kind ${spec.kind}; remove sql or use kind custom`);
  }
  if (producers.length > 1) out.push(`give exactly one of ${producers.join(', ')}, not several`);
  if (spec.compute !== undefined && !computable) out.push('compute only applies to kinds custom and mart');
  if (spec.ingest !== undefined && !ingestible && spec.kind !== 'raw_cdc') {
    out.push(`ingest options only apply to kinds raw_cdc, fact and custom`);
  }
  if (spec.kind === 'raw_cdc' && spec.ingest === undefined) out.push('kind raw_cdc needs ingest options');
  if (spec.spark !== undefined) out.push(...sparkProblems(spec, spec.spark));
  const options = { scd2: 'scd2', snapshot: 'snapshot' } as const;
  for (const [kind, field] of Object.entries(options)) {
    if (spec.kind === kind && spec[field] === undefined) out.push(`kind ${kind} needs ${field} options`);
    if (spec.kind !== kind && spec[field] !== undefined)
      out.push(`${field} options only apply to kind ${kind}`);
  }
  if (spec.kind === 'snapshot' && spec.partitions?.type !== 'time') {
    out.push("kind snapshot needs time partitions, e.g. partitions: daily({ start: '2026-01-01' })");
  }
  return out;
}

/** Which assets a Spark job may build, and what its options need. */
function sparkProblems(spec: AssetSpec, spark: SparkJobOptions): string[] {
  const out: string[] = [];
  if (!['scd2', 'fact', 'custom', 'mart'].includes(spec.kind)) {
    out.push(`spark only applies to kinds scd2, fact, custom and mart, not ${spec.kind}`);
  }
  if (spec.kind === 'scd2') {
    // The job reads the change log (jobs/scd2_merge.py); versions from snapshots and dbt's names are the
    // engines' own SCD2 merge only.
    if ((spec.scd2?.strategy ?? 'log') !== 'log') out.push("spark builds scd2 with strategy 'log' only");
    if ((spec.scd2?.columnNames ?? 'tessera') !== 'tessera')
      out.push("spark builds scd2 with columnNames 'tessera' only");
  }
  if (spark.timeColumn !== undefined && spec.partitions?.type !== 'time') {
    out.push('spark.timeColumn applies to time-partitioned assets only');
  }
  return out;
}

/** Deps as DepSpec, with the source of an scd2 / snapshot added when not listed. */
function resolveDeps(spec: AssetSpec): { deps: DepSpec[]; problems: string[] } {
  const deps: DepSpec[] = [];
  const problems: string[] = [];
  for (const d of spec.deps ?? []) {
    const dep: DepSpec = typeof d === 'string' ? { key: d } : d;
    if (dep.key === spec.key) problems.push('depends on itself');
    else if (deps.some((x) => x.key === dep.key)) problems.push(`dep "${dep.key}" is listed twice`);
    else deps.push(dep);
  }
  for (const implied of [spec.scd2?.source, spec.snapshot?.from]) {
    if (implied !== undefined && !deps.some((d) => d.key === implied)) deps.push({ key: implied });
  }
  return { deps, problems };
}

/** Built-in checks first (scd2 intervals, primary key), then the user's; a user check of the same name wins. */
function resolveChecks(spec: AssetSpec): { checks: CheckDefinition[]; problems: string[] } {
  const builtIn: CheckDefinition[] = [];
  if (spec.kind === 'scd2') builtIn.push(resolveCheck({ type: 'scd2_intervals' }));
  if (spec.primaryKey) {
    builtIn.push(resolveCheck({ type: 'unique', columns: spec.primaryKey }));
    builtIn.push(resolveCheck({ type: 'not_null', columns: spec.primaryKey }));
  }
  const user = (spec.checks ?? []).map(resolveCheck);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const c of user) {
    if (seen.has(c.name)) problems.push(`two checks are named "${c.name}"; give one a name`);
    seen.add(c.name);
  }
  return { checks: [...builtIn.filter((c) => !seen.has(c.name)), ...user], problems };
}

/**
 * Declares an asset. Validates the spec (all problems at once, as a ValidationError), fills defaults, adds
 * implied deps and built-in checks, and computes the code version. Dep mappings are resolved later by
 * defineDefinitions, which knows the upstream partitions.
 */
export function asset(spec: AssetSpec): AssetDeclaration {
  const label = `asset "${typeof spec?.key === 'string' ? spec.key : '(no key)'}"`;
  const parsed = specSchema.safeParse(spec);
  const fail = (messages: readonly string[]): never => {
    const problems = messages.map((message): ValidationProblem => ({
      code: 'invalid_spec',
      message,
      asset: spec?.key,
    }));
    throw new ValidationError(problems);
  };
  if (!parsed.success) {
    // Kind rules only read top-level fields, so they can be reported alongside shape problems.
    const validKind = typeof spec === 'object' && spec !== null && ASSET_KINDS.includes(spec.kind);
    const kindRules = validKind ? kindProblems(spec) : [];
    fail([
      ...formatIssues(label, parsed.error.issues, SPEC_FIELDS),
      ...kindRules.map((p) => `${label}: ${p}`),
    ]);
  }

  const { deps, problems: depProblems } = resolveDeps(spec);
  const { checks, problems: checkProblems } = resolveChecks(spec);
  const problems = [...kindProblems(spec), ...depProblems, ...checkProblems];
  if (problems.length > 0) fail(problems.map((p) => `${label}: ${p}`));

  const [schema, name] = spec.key.split('.') as [string, string];
  const { deps: _deps, checks: _checks, owners, tags, ...rest } = spec;
  return Object.freeze({
    ...rest,
    schema,
    name,
    deps: Object.freeze(deps),
    checks: Object.freeze(checks),
    owners: Object.freeze([...(owners ?? [])]),
    tags: Object.freeze([...(tags ?? [])]),
    codeVersion: computeCodeVersion({ ...spec, deps }),
  });
}
