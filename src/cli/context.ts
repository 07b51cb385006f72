import { loadConfig, type TesseraConfig } from '../config/index.js';
import type { Definitions } from '../dsl/index.js';
import { openLedger, type Ledger } from '../ledger/index.js';
import type { Client, Connection } from '@temporalio/client';
import { connectClient } from '../runtime/client.js';

/** Options every command accepts. */
export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
}

/** Lazily loaded config, definitions and ledger for one CLI invocation. */
export class CliContext {
  private cfg: TesseraConfig | undefined;
  private ledgerPromise: Promise<Ledger> | undefined;
  private temporal: Promise<{ connection: Connection; client: Client }> | undefined;

  constructor(readonly options: GlobalOptions) {}

  get config(): TesseraConfig {
    this.cfg ??= loadConfig(this.options.config ? { file: this.options.config } : {});
    return this.cfg;
  }

  async definitions(): Promise<Definitions> {
    // The catalog is code: loading it validates it.
    const { bookMyEvent } = await import('../assets/index.js');
    return bookMyEvent;
  }

  ledger(): Promise<Ledger> {
    this.ledgerPromise ??= openLedger(this.config.ledger);
    return this.ledgerPromise;
  }

  /** Temporal client for the configured server; the error says how to start one when none answers. */
  async client(): Promise<Client> {
    this.temporal ??= connectClient(this.config.temporal).catch((e: unknown) => {
      throw new Error(
        `cannot reach Temporal at ${this.config.temporal.address} (${(e as Error).message}); start one with \`tessera dev\``,
      );
    });
    return (await this.temporal).client;
  }

  /** Where runs go: the task queue and the Web UI base for links. */
  get target(): { taskQueue: string; uiBaseUrl: string } {
    return { taskQueue: this.config.temporal.taskQueue, uiBaseUrl: this.config.temporal.uiUrl };
  }

  async close(): Promise<void> {
    if (this.ledgerPromise) await (await this.ledgerPromise).close();
    if (this.temporal) await (await this.temporal).connection.close();
  }
}
