import { z } from 'zod';
import type { EngineHooks } from '../core/context.js';
import { KeyedLock } from '../core/keyed-lock.js';
import { SqlEngine } from '../core/sql-engine.js';
import { renderPublishMetaDdl } from '../dialect/publish.js';
import type { FlipRequest, FlipResult } from '../types.js';
import { BigQueryClient } from './bigquery-client.js';
import { BigQueryDialect } from './bigquery-dialect.js';
import { startEmulator } from './bigquery-emulator.js';
import * as publish from './bigquery-publish.js';

/**
 * Wiring: BigQuery = the BigQuery dialect rendering, a BigQuery client running jobs (deferred DML
 * transactions, deterministic job ids: bigquery-client.ts), SqlEngine driving.
 *
 * Credentials come from the environment as the Google client libraries find them (Application Default
 * Credentials: GOOGLE_APPLICATION_CREDENTIALS, workload identity, gcloud); none are in the config. With
 * `apiEndpoint` (the emulator) no credentials are needed.
 */

const DATASET = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;

export const bigqueryConfigSchema = z
  .object({
    type: z.literal('bigquery'),
    projectId: z.string().min(1),
    /** Where jobs run and datasets are created, e.g. 'EU', 'US', 'europe-west1'. */
    location: z.string().min(1).default('US'),
    /**
     * Emulator endpoint, e.g. 'http://127.0.0.1:59050'; default: BigQuery itself. Empty is the default too, so a
     * config may write `${env:TESSERA_BQ_API_ENDPOINT:-}`.
     */
    apiEndpoint: z.preprocess((v) => (v === '' ? undefined : v), z.url().optional()),
    /** Dataset of unqualified table names. */
    defaultDataset: z.string().regex(DATASET, 'a BigQuery dataset name').default('tessera'),
    /** Dataset of staging tables (created on demand; its tables expire after a day). */
    scratchDataset: z.string().regex(DATASET, 'a BigQuery dataset name').default('tessera_scratch'),
    /**
     * Tests: run a private emulator from this binary for this engine instance (an empty warehouse, stopped
     * at close); `apiEndpoint` is then its address.
     */
    emulatorBinary: z.string().min(1).optional(),
    /**
     * Where a SELECT job's result goes: `anonymous` (BigQuery's own temporary result table, cached and free) or
     * `scratch` (a table of its own in `scratchDataset`). Default: `scratch` on an emulator, `anonymous` on
     * BigQuery. The emulator (goccy 0.8.1) gives every anonymous result a dataset of its own, and every dataset
     * a GoogleSQL catalog in its 32-bit WebAssembly memory: ~15-20 MB a job, until it panics after a few
     * thousand jobs; a result table in one dataset costs it <1 MB.
     */
    queryResults: z.enum(['anonymous', 'scratch']).optional(),
  })
  .refine((c) => c.emulatorBinary === undefined || c.apiEndpoint === undefined, {
    message: 'give either apiEndpoint or emulatorBinary (which starts its own emulator), not both',
    path: ['emulatorBinary'],
  });
export type BigQueryConfig = z.infer<typeof bigqueryConfigSchema>;

export class BigQueryEngine extends SqlEngine {
  private readonly publishCtx: publish.BigQueryPublishContext;
  private publishReady: Promise<void> | undefined;

  constructor(
    readonly client: BigQueryClient,
    dialect: BigQueryDialect,
    hooks?: EngineHooks,
  ) {
    super({ dialect, client, ...(hooks ? { hooks } : {}) });
    this.publishCtx = {
      dialect,
      client,
      hooks: hooks ?? {},
      locks: new KeyedLock(),
      ready: () => {
        // The history table (SqlEngine's meta, created on the first history read), then slices and manifest.
        this.publishReady ??= super.publishHistory('').then(async () => {
          for (const s of renderPublishMetaDdl(dialect)) await client.run(s);
        });
        this.publishReady.catch(() => (this.publishReady = undefined));
        return this.publishReady;
      },
    };
  }

  /** Flips by DML only: the views follow the group's live version (bigquery-publish.ts). */
  override flipPublishGroup(req: FlipRequest): Promise<FlipResult> {
    return publish.flipPublishGroup(this.publishCtx, req);
  }

  override rollbackPublishGroup(group: string): Promise<FlipResult> {
    return publish.rollbackPublishGroup(this.publishCtx, group);
  }

  /** Bytes a statement would scan, from a dry run (free on BigQuery; the emulator runs the query). */
  dryRunBytes(sql: string): Promise<number> {
    return this.client.dryRun(sql);
  }
}

export async function createBigQueryEngine(
  config: BigQueryConfig,
  hooks?: EngineHooks,
): Promise<BigQueryEngine> {
  const parsed = bigqueryConfigSchema.parse(config);
  const emulator = parsed.emulatorBinary
    ? await startEmulator(parsed.emulatorBinary, parsed.projectId)
    : undefined;
  const apiEndpoint = emulator?.endpoint ?? parsed.apiEndpoint;
  const client = new BigQueryClient({
    projectId: parsed.projectId,
    location: parsed.location,
    scratchDataset: parsed.scratchDataset,
    resultsInScratch: (parsed.queryResults ?? (apiEndpoint ? 'scratch' : 'anonymous')) === 'scratch',
    ...(apiEndpoint ? { apiEndpoint } : {}),
    ...(emulator ? { onClose: () => emulator.stop() } : {}),
  });
  return new BigQueryEngine(client, new BigQueryDialect(parsed.defaultDataset, parsed.scratchDataset), hooks);
}

/** True when `engine` can estimate what a query would scan (BigQuery dry runs). */
export function canDryRun(engine: unknown): engine is { dryRunBytes(sql: string): Promise<number> } {
  return engine instanceof BigQueryEngine;
}
