import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the caller of an engine operation tells engines whose work runs as remote jobs (BigQuery): a key
 * that is the same on every attempt of one step (e.g. `<run id>/<step id>`, never the attempt number), so a
 * retried activity re-attaches to the job its killed predecessor started instead of starting (and paying
 * for) a second one; and a heartbeat to call while it waits on a job. Engines without remote jobs ignore it.
 *
 *   await withJobScope({ key: `${runId}/${stepId}`, heartbeat }, () => engine.replacePartition(req));
 */
export interface JobScope {
  readonly key: string;
  heartbeat?(): void;
}

const storage = new AsyncLocalStorage<JobScope>();

export function withJobScope<T>(scope: JobScope, fn: () => Promise<T>): Promise<T> {
  return storage.run(scope, fn);
}

export function currentJobScope(): JobScope | undefined {
  return storage.getStore();
}
