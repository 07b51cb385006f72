import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig, type TesseraConfig } from '../config/index.js';
import type { Definitions } from '../dsl/index.js';
import type { Ledger } from '../ledger/index.js';
import type { Client, Connection } from '@temporalio/client';
import { SCHEDULE_ID_PREFIX } from '../runtime/ids.js';
import { resolveUiUrl } from '../runtime/ui.js';
import { loadDefinitionsModule, type DefinitionsModule } from './definitions-module.js';

/** Options every command accepts. */
export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
  /** A definitions module instead of BookMyEvent's catalog (also TESSERA_DEFINITIONS). */
  readonly definitions?: string;
}

/** Lazily loaded config, definitions and ledger for one CLI invocation. */
export class CliContext {
  private cfg: TesseraConfig | undefined;
  private module: Promise<DefinitionsModule> | undefined;
  private ledgerPromise: Promise<Ledger> | undefined;
  private temporal: Promise<{ connection: Connection; client: Client }> | undefined;

  constructor(readonly options: GlobalOptions) {}

  get config(): TesseraConfig {
    this.cfg ??= loadConfig(this.options.config ? { file: this.options.config } : {});
    return this.cfg;
  }

  get json(): boolean {
    return this.options.json ?? false;
  }

  /** The definitions module: BookMyEvent's catalog unless --definitions / TESSERA_DEFINITIONS names another. */
  definitionsModule(): Promise<DefinitionsModule> {
    this.module ??= loadDefinitionsModule(this.options.definitions ?? process.env.TESSERA_DEFINITIONS);
    return this.module;
  }

  async definitions(): Promise<Definitions> {
    // The catalog is code: loading it validates it.
    return (await this.definitionsModule()).definitions;
  }

  ledger(): Promise<Ledger> {
    const ledger = this.config.ledger;
    if (ledger.type === 'sqlite') mkdirSync(dirname(ledger.path), { recursive: true });
    // Loaded on first use, like the Temporal client: most commands need one or neither.
    this.ledgerPromise ??= import('../ledger/index.js').then((m) => m.openLedger(ledger));
    return this.ledgerPromise;
  }

  /** Temporal client for the configured server; the error says how to start one when none answers. */
  async client(): Promise<Client> {
    this.temporal ??= (async () => {
      const { connectClient } = await import('../runtime/client.js');
      return connectClient(this.config.temporal);
    })().catch((e: unknown) => {
      throw new Error(
        `cannot reach Temporal at ${this.config.temporal.address} (${(e as Error).message}); start one with \`tessera dev\``,
      );
    });
    return (await this.temporal).client;
  }

  /** Where runs go: the task queue and the Web UI base for links (where the UI really is: see resolveUiUrl). */
  get target(): { taskQueue: string; uiBaseUrl: string } {
    return {
      taskQueue: this.config.temporal.taskQueue,
      uiBaseUrl: resolveUiUrl(this.config.temporal.uiUrl, process.env),
    };
  }

  /**
   * Schedules belong to a deployment, named by its task queue: `tessera/schedule/<taskQueue>/<name>`. Applying
   * one deployment's schedules then never deletes another's on a shared namespace (or a test's).
   */
  get schedulePrefix(): string {
    return `${SCHEDULE_ID_PREFIX}${this.config.temporal.taskQueue}/`;
  }

  /** Releases what was opened; never throws (the command's own error matters more). */
  async close(): Promise<void> {
    await this.ledgerPromise?.then((l) => l.close()).catch(() => undefined);
    await this.temporal?.then((t) => t.connection.close()).catch(() => undefined);
  }
}
