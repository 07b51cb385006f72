import { ApplicationFailure } from '@temporalio/common';
import { ConfigError } from '../config/index.js';
import { DslError, PartitionError } from '../dsl/index.js';
import { EngineError } from '../engines/index.js';
import type { NonRetryableErrorType } from './types.js';

/**
 * Turns an error into what Temporal should do with it: SQL, validation, permission and config errors cannot be
 * fixed by running again (non-retryable, typed); anything else (I/O, locks, timeouts) is retried with backoff.
 */
export function classify(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const type = nonRetryableType(e);
  return type ? ApplicationFailure.nonRetryable(e.message, type) : e;
}

function nonRetryableType(e: Error): NonRetryableErrorType | undefined {
  if (e instanceof PartitionError) return 'PartitionError';
  if (e instanceof DslError) return 'ValidationError';
  if (e instanceof ConfigError) return 'ConfigError';
  if (e instanceof EngineError) return e.retryable ? undefined : 'SqlError';
  if (/permission denied|unauthori[sz]ed|forbidden|\b40[13]\b/i.test(e.message)) return 'PermissionError';
  return undefined;
}
