import { z } from 'zod';
import { duckdbConfigSchema } from '../engines/duckdb/duckdb-engine.js';

/**
 * Engine connections; one of them is the environment's default warehouse. DuckDB's are the engine's own
 * config (path, threads, memoryLimit, checkpointThreshold, readOnly).
 */
const duckdbEngine = duckdbConfigSchema.strict();
const trinoEngine = z
  .object({
    type: z.literal('trino'),
    url: z.url(),
    catalog: z.string().min(1),
    user: z.string().default('tessera'),
  })
  .strict();
const bigqueryEngine = z
  .object({
    type: z.literal('bigquery'),
    projectId: z.string().min(1),
    location: z.string().default('US'),
    apiEndpoint: z.url().optional(),
  })
  .strict();
const sparkEngine = z
  .object({ type: z.literal('spark'), master: z.string().default('local[2]'), warehouse: z.string() })
  .strict();
export const engineConfigSchema = z.discriminatedUnion('type', [
  duckdbEngine,
  trinoEngine,
  bigqueryEngine,
  sparkEngine,
]);

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
  });

export type TesseraConfig = z.infer<typeof configSchema>;
export type EngineConfig = z.infer<typeof engineConfigSchema>;
export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;
export type AlertRouteConfig = z.infer<typeof alertRouteSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
