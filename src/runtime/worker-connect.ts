/**
 * Worker start-up against a Temporal server that may not be up yet (a container started before the server, a
 * laptop whose dev server is still booting): connect, and on failure say so and try again with backoff until it
 * answers or a shutdown signal arrives. Node-side only.
 */
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';

export interface ConnectRetryOptions {
  readonly address: string;
  readonly logger: Logger;
  /** Aborting stops waiting (connectWithRetry then resolves undefined). */
  readonly signal?: AbortSignal;
  /** First pause between attempts (default 1s), doubled up to `maxDelayMs` (default 15s). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Tests replace it. */
  readonly connect?: (address: string) => Promise<NativeConnection>;
}

const defaultConnect = (address: string): Promise<NativeConnection> => NativeConnection.connect({ address });

/** The connection, or undefined when `signal` aborted the wait. Never gives up on its own. */
export async function connectWithRetry(opts: ConnectRetryOptions): Promise<NativeConnection | undefined> {
  const connect = opts.connect ?? defaultConnect;
  const max = opts.maxDelayMs ?? 15_000;
  let delay = Math.min(opts.initialDelayMs ?? 1_000, max);
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) return undefined;
    try {
      const connection = await connect(opts.address);
      if (attempt > 1) opts.logger.info({ address: opts.address, attempt }, 'connected to Temporal');
      return connection;
    } catch (err) {
      if (opts.signal?.aborted) return undefined;
      opts.logger.warn(
        { address: opts.address, attempt, retryInMs: delay, error: firstLine(err) },
        `Temporal at ${opts.address} is not reachable yet; retrying in ${Math.round(delay / 1000)}s`,
      );
    }
    if (!(await pause(delay, opts.signal))) return undefined;
    delay = Math.min(delay * 2, max);
  }
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The SDK's transport errors span lines (`tonic::transport::Error … Connection refused`): the gist is enough. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? text
  );
}

/**
 * An AbortSignal raised by the first of `signals` (default SIGINT, SIGTERM) until `dispose()`: lets start-up
 * (connecting, opening engines) stop cleanly on Ctrl-C before the SDK's own shutdown handling takes over.
 */
export function shutdownSignal(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): {
  readonly signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  for (const s of signals) process.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
