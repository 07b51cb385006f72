/** Opening a ledger from configuration; the stores themselves live in memory.ts, sqlite.ts, postgres.ts. */
import { z } from 'zod';
import { openPostgresLedger } from './postgres.js';
import { openSqliteLedger } from './sqlite.js';
import type { Ledger } from './types.js';

export const ledgerConfigSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('sqlite'),
    path: z.string().min(1),
    busyTimeoutMs: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal('postgres'), url: z.string().min(1), schema: z.string().optional() }),
]);

export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;

/** Opens (and migrates) the configured ledger store. */
export const openLedger = async (config: LedgerConfig): Promise<Ledger> => {
  const c = ledgerConfigSchema.parse(config);
  return c.type === 'sqlite'
    ? openSqliteLedger(c.path, c.busyTimeoutMs !== undefined ? { busyTimeoutMs: c.busyTimeoutMs } : {})
    : openPostgresLedger(c.url, c.schema !== undefined ? { schema: c.schema } : {});
};

export * from './types.js';
export {
  LedgerConflictError,
  MemoryLedgerView,
  ledgerViewOf,
  materializationSchema,
  checkResultSchema,
  publicationSchema,
  watermarkSchema,
  backfillSchema,
} from './records.js';
export { MemoryLedger } from './memory.js';
export { SqlLedger, LATEST_SCHEMA_VERSION } from './sql.js';
export { openSqliteLedger } from './sqlite.js';
export { openPostgresLedger, DEFAULT_PG_SCHEMA } from './postgres.js';
