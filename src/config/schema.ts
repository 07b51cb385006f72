import { z } from 'zod';
import {
  ENGINES,
  engineConfigSchema as registeredEngineConfigSchema,
  type EngineConfig as RegisteredEngineConfig,
} from '../engines/registry.js';
import { assetEnginesSchema, unknownAssetEngines } from './asset-engines.js';
import { sparkConfigSchema } from './spark.js';

/**
 * Engine connections; one of them is the environment's default warehouse. Each entry is the registered engine's
 * own config schema (src/engines/registry.ts: DuckDB's path, threads, memoryLimit, ...). A `type` with no
 * implementation in this build is a config error naming the implemented ones: an engine named in config is
 * opened at start-up, never skipped. Unknown keys are errors, as everywhere in the config.
 */
export const engineConfigSchema = z.unknown().transform((raw, ctx): RegisteredEngineConfig => {
  const implemented = Object.keys(ENGINES).sort().join(', ');
  const entry = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : undefined;
  const type: unknown = entry ? (entry as Record<string, unknown>)['type'] : undefined;
  if (!entry || typeof type !== 'string') {
    ctx.addIssue({
      code: 'custom',
      message: `an engine needs a "type"; implemented engines: ${implemented}`,
    });
    return z.NEVER;
  }
  if (!Object.hasOwn(ENGINES, type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `engine type "${type}" has no implementation in this build (implemented engines: ${implemented})`,
    });
    return z.NEVER;
  }
  const parsed = registeredEngineConfigSchema.safeParse(entry);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', path: issue.path.map(String), message: issue.message });
    return z.NEVER;
  }
  // Engine schemas strip keys they do not know: a misspelt option would silently not apply.
  const unknown = Object.keys(entry).filter((k) => !Object.hasOwn(parsed.data, k));
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `Unrecognized key${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => `"${k}"`).join(', ')}`,
    });
    return z.NEVER;
  }
  return parsed.data;
});

export const ledgerConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sqlite'), path: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('postgres'),
      url: z.string().min(1),
      schema: z.string().default('tessera_ledger'),
    })
    .strict(),
]);

export const alertRouteSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(['webhook', 'slack', 'log']),
    url: z.url().optional(),
    match: z
      .object({ owners: z.array(z.string()).optional(), tags: z.array(z.string()).optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((r) => r.type === 'log' || r.url !== undefined, { message: 'webhook and slack routes need a url' });

const sourceSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('postgres'),
      url: z.string().min(1),
      slot: z.string().regex(/^[a-z0-9_]+$/),
      tables: z.array(z.string()).min(1),
      pii: z.record(z.string(), z.enum(['drop', 'hash'])).default({}),
      /** Logical decoding output plugin: pgoutput (built in, needs a publication, created) or wal2json. */
      plugin: z.enum(['pgoutput', 'wal2json']).default('pgoutput'),
      /** Simulation hook: commit times from the simulator's replay-clock messages (docs/sources-cdc.md). */
      replayClock: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      type: z.literal('landing'),
      path: z.string().min(1),
      format: z.enum(['debezium', 'snowplow', 'ads']),
    })
    .strict(),
  z
    .object({
      type: z.literal('kafka'),
      brokers: z.array(z.string()).min(1),
      topic: z.string().min(1),
      format: z.enum(['debezium', 'snowplow']),
      groupId: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('ads'),
      platform: z.enum(['google', 'facebook', 'tiktok', 'twitter']),
      baseUrl: z.url(),
      restatementDays: z.number().int().min(0).optional(),
    })
    .strict(),
  // All four ads platforms as one source (`ads`); without base URLs, live mode serves the simulator's data
  // from the local API fakes (stand-ins for the cloud APIs).
  z
    .object({
      type: z.literal('ads_api'),
      baseUrls: z.partialRecord(z.enum(['google', 'facebook', 'tiktok', 'twitter']), z.url()).optional(),
      /** Ad account ids per platform; credentials come from the TESSERA_* environment variables. */
      accounts: z
        .partialRecord(z.enum(['google', 'facebook', 'tiktok', 'twitter']), z.array(z.string().min(1)))
        .optional(),
      restatementDays: z.number().int().min(0).optional(),
    })
    .strict(),
]);

export const configSchema = z
  .object({
    environment: z.string().min(1),
    /** Where local state lives (warehouse file, ledger, landing folder, Temporal's database). */
    stateDir: z.string().default('.state'),
    defaultEngine: z.string().min(1),
    engines: z.record(z.string(), engineConfigSchema),
    /** Per-asset engine by selection, first match wins (src/config/asset-engines.ts). */
    assetEngines: assetEnginesSchema,
    ledger: ledgerConfigSchema,
    temporal: z
      .object({
        address: z.string().default('127.0.0.1:7233'),
        namespace: z.string().default('default'),
        taskQueue: z.string().default('tessera'),
        uiUrl: z.url().default('http://127.0.0.1:8233'),
      })
      .strict()
      .prefault({}),
    worker: z
      .object({
        maxConcurrentActivities: z.number().int().positive().default(4),
        maxConcurrentWorkflowTasks: z.number().int().positive().default(10),
      })
      .strict()
      .prefault({}),
    sources: z.record(z.string(), sourceSchema).default({}),
    /** Minutes of allowed lateness per source before the barrier stops waiting for it. */
    lateness: z
      .object({
        defaultMinutes: z.number().int().min(0).default(60),
        perSource: z.record(z.string(), z.number().int().min(0)).default({}),
      })
      .strict()
      .prefault({}),
    barrierTimeoutMinutes: z.number().int().positive().default(360),
    alerts: z
      .object({ routes: z.array(alertRouteSchema).default([]) })
      .strict()
      .prefault({}),
    /** spark-submit for assets built by PySpark jobs (src/config/spark.ts); absent: such assets refuse to start. */
    spark: sparkConfigSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (!(cfg.defaultEngine in cfg.engines)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultEngine'],
        message: `names no engine; configured engines: ${Object.keys(cfg.engines).join(', ') || '(none)'}`,
      });
    }
    for (const [selection, engine] of unknownAssetEngines(cfg.assetEngines, Object.keys(cfg.engines))) {
      ctx.addIssue({
        code: 'custom',
        path: ['assetEngines', selection],
        message: `names engine "${engine}", which is not configured; configured engines: ${Object.keys(cfg.engines).join(', ') || '(none)'}`,
      });
    }
  });

export type TesseraConfig = z.infer<typeof configSchema>;
export type EngineConfig = z.infer<typeof engineConfigSchema>;
export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;
export type AlertRouteConfig = z.infer<typeof alertRouteSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
