import { loadConfig, type TesseraConfig } from '../config/index.js';
import type { Definitions } from '../dsl/index.js';
import { openLedger, type Ledger } from '../ledger/index.js';

/** Options every command accepts. */
export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
}

/** Lazily loaded config, definitions and ledger for one CLI invocation. */
export class CliContext {
  private cfg: TesseraConfig | undefined;
  private ledgerPromise: Promise<Ledger> | undefined;

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

  async close(): Promise<void> {
    if (this.ledgerPromise) await (await this.ledgerPromise).close();
  }
}
