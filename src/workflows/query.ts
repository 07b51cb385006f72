/**
 * Warehouse access for the CLI while a worker holds the warehouse (DuckDB allows one writing process per file):
 * `tessera query` and `tessera publish rollback` start these one-activity workflows on the worker's task queue.
 */
import { proxyActivities } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../activities/types.js';
import type {
  QueryResult,
  RollbackGroupInput,
  RollbackGroupResult,
  RunQueryInput,
  TesseraActivities,
} from '../activities/types.js';

type Warehouse = Required<Pick<TesseraActivities, 'runQuery' | 'rollbackGroup'>>;

const reading = proxyActivities<Warehouse>({
  startToCloseTimeout: '5m',
  retry: {
    initialInterval: '1s',
    maximumInterval: '5s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** A rollback is not idempotent (twice withdraws two versions): one attempt, the CLI reports any failure. */
const once = proxyActivities<Warehouse>({ startToCloseTimeout: '5m', retry: { maximumAttempts: 1 } });

export async function queryWorkflow(input: RunQueryInput): Promise<QueryResult> {
  return reading.runQuery(input);
}

export async function rollbackGroupWorkflow(input: RollbackGroupInput): Promise<RollbackGroupResult> {
  return once.rollbackGroup(input);
}
