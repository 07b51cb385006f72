import { z } from 'zod';
import type { EngineHooks } from '../core/context.js';
import { SqlEngine } from '../core/sql-engine.js';
import { DuckDbClient } from './duckdb-client.js';
import { duckdbDialect } from './duckdb-dialect.js';

/** Wiring: DuckDB = the DuckDB dialect (+ type mapper) rendering, a DuckDB client running, SqlEngine driving. */

export const duckdbConfigSchema = z.object({
  type: z.literal('duckdb'),
  /** Warehouse file, created on demand; ':memory:' for tests. */
  path: z.string().min(1),
  /** DuckDB `threads` setting; default: all cores. */
  threads: z.number().int().positive().optional(),
  /** DuckDB `memory_limit`, e.g. '8GB'; default: 80% of RAM. */
  memoryLimit: z.string().optional(),
  /**
   * DuckDB `checkpoint_threshold`, e.g. '256MB' (default 16MB): the WAL size at which a commit checkpoints.
   * Ingestion commits batches of tens of MB, so the default checkpoints (and compresses) on nearly every
   * commit; bench/snowplow.ts (kafka mode) lands about 40% faster at 1GB.
   */
  checkpointThreshold: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/i, "a size such as '256MB'")
    .optional(),
  /**
   * Open with DuckDB's access_mode READ_ONLY: any number of read-only processes may share the file, but
   * not with a writer (opening fails while a worker holds it). The CLI's `query` reads this way.
   */
  readOnly: z.boolean().optional(),
});
export type DuckDbConfig = z.infer<typeof duckdbConfigSchema>;

export async function createDuckDbEngine(config: DuckDbConfig, hooks?: EngineHooks): Promise<SqlEngine> {
  const options: Record<string, string> = {};
  if (config.threads !== undefined) options['threads'] = String(config.threads);
  if (config.memoryLimit !== undefined) options['memory_limit'] = config.memoryLimit;
  if (config.checkpointThreshold !== undefined) options['checkpoint_threshold'] = config.checkpointThreshold;
  if (config.readOnly) options['access_mode'] = 'READ_ONLY';
  const client = await DuckDbClient.open(config.path, options);
  return new SqlEngine({ dialect: duckdbDialect, client, ...(hooks ? { hooks } : {}) });
}
