/**
 * An experiment declared in code: where exposures come from, its variations and traffic weights, its metrics
 * with their roles, and the analysis settings (engine, correction, alpha). The catalog turns one declaration
 * into the sufficient-statistics asset (sql.ts) and the results mart (results.ts).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { analysisSettingsSchema, metricRoleSchema } from './analysis.js';
import { metricDefinitionSchema } from './metrics.js';
import { experimentStatsSql, type ExperimentSqlSpellings } from './sql.js';

const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case identifier');
const assetKey = z.string().regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, 'an asset key schema.name');
const instant = z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z)?$/, 'ISO-8601 UTC');

export const exposureSourceSchema = z
  .object({
    table: assetKey,
    unitColumn: identifier.default('user_id'),
    experimentColumn: identifier.default('experiment_key'),
    variationColumn: identifier.default('variation'),
    timestampColumn: identifier.default('event_ts'),
    filter: z.string().min(1).optional(),
  })
  .strict();

const { variations: _v, ...analysisShape } = analysisSettingsSchema.shape;

export const experimentDefinitionSchema = z
  .object({
    key: identifier,
    name: z.string().min(1),
    hypothesis: z.string().optional(),
    exposures: exposureSourceSchema,
    /** Exposures outside [start, end) assign nobody (ISO dates or instants, UTC). */
    exposureWindow: z.object({ start: instant.optional(), end: instant.optional() }).strict().optional(),
    variations: z
      .array(
        z
          .object({ id: z.string().min(1), name: z.string().optional(), weight: z.number().positive() })
          .strict(),
      )
      .min(2),
    metrics: z
      .array(z.object({ metric: metricDefinitionSchema, role: metricRoleSchema.default('goal') }).strict())
      .min(1),
    analysis: z.object(analysisShape).strict().prefault({}),
  })
  .strict()
  .refine((e) => new Set(e.metrics.map((m) => m.metric.id)).size === e.metrics.length, {
    message: 'metric ids must be unique within an experiment',
  })
  // The settings' cross-field rules (one-sided needs the frequentist engine, ...) hold at declaration.
  .superRefine((e, ctx) => {
    const parsed = analysisSettingsSchema.safeParse({ ...e.analysis, variations: e.variations });
    for (const issue of parsed.error?.issues ?? [])
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['analysis', ...issue.path] });
  });
export type ExperimentDefinition = z.infer<typeof experimentDefinitionSchema>;
export type ExperimentDefinitionInput = z.input<typeof experimentDefinitionSchema>;

export function defineExperiment(input: ExperimentDefinitionInput): ExperimentDefinition {
  return experimentDefinitionSchema.parse(input);
}

const fullInstant = (s: string): string => (s.length === 10 ? `${s}T00:00:00Z` : s);

/**
 * The one query computing every listed experiment's sufficient statistics; `until` is a SQL timestamp
 * expression (in an asset, `{{ partition_end }}`). Experiments must share their exposure source and window.
 * By default the query is a portable template, rendered by the engine that runs it (sql.ts).
 */
export function experimentsStatsSql(
  experiments: readonly ExperimentDefinition[],
  until: string,
  spellings?: ExperimentSqlSpellings,
): string {
  const [first] = experiments;
  if (!first) throw new Error('no experiments');
  const same = (e: ExperimentDefinition) =>
    JSON.stringify([e.exposures, e.exposureWindow]) ===
    JSON.stringify([first.exposures, first.exposureWindow]);
  if (!experiments.every(same)) throw new Error('experiments of one query must share exposures and window');
  // Metrics of the same id must be the same metric across experiments (one UNION ALL branch each).
  const metrics = new Map<string, ExperimentDefinition['metrics'][number]['metric']>();
  for (const e of experiments)
    for (const { metric } of e.metrics) {
      const seen = metrics.get(metric.id);
      if (seen && JSON.stringify(seen) !== JSON.stringify(metric))
        throw new Error(`metric "${metric.id}" is declared twice with different settings`);
      metrics.set(metric.id, metric);
    }
  const w = first.exposureWindow;
  return experimentStatsSql({
    exposures: first.exposures,
    experimentKeys: experiments.map((e) => e.key),
    metrics: [...metrics.values()],
    until,
    ...(w
      ? {
          exposureWindow: {
            ...(w.start ? { start: fullInstant(w.start) } : {}),
            ...(w.end ? { end: fullInstant(w.end) } : {}),
          },
        }
      : {}),
    ...(spellings ? { spellings } : {}),
  });
}

/** A short hash of the declarations, for the code version of assets whose functions close over them. */
export function experimentsFingerprint(experiments: readonly ExperimentDefinition[]): string {
  return createHash('sha256').update(JSON.stringify(experiments)).digest('hex').slice(0, 16);
}
