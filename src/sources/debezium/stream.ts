import type { ChangeRecord } from '../cdc/change.js';
import { ChangeLander, type SourceLogger } from '../cdc/lander.js';
import { PiiPolicy, type PiiRules } from '../pii.js';
import type { CdcSink } from '../sinks/types.js';
import type { WatermarkReport } from '../types.js';
import type { DeclaredColumnTypes } from './connect.js';
import { DebeziumDecoder, type DebeziumInput } from './decoder.js';

/**
 * A Debezium stream being landed: decoder + lander + a buffer flushed every `batchSize` records.
 * Shared by the landing-folder reader and the Kafka consumer.
 */

export interface DebeziumSourceOptions {
  /** Source name: raw tables are `raw.<source>_<table>_changes`; also the watermark's source. */
  readonly source: string;
  /** Only these tables (unqualified or schema.table); default every table in the stream. */
  readonly tables?: readonly string[];
  readonly pii?: PiiRules;
  /**
   * Types of columns for events without schemas (`schemas.enable=false`), by `table.column` or `column`:
   * `decimal(2)`, `timestamp(us)`, … (DeclaredColumnTypes). Without one, a schema-less value's type is
   * guessed from its JSON type, and a base64 decimal would land as text.
   */
  readonly columnTypes?: DeclaredColumnTypes;
  /** HMAC key for `hash` rules; default $TESSERA_PII_KEY. */
  readonly piiKey?: string;
  readonly logger?: SourceLogger;
  /** Records per write (default 10,000). */
  readonly batchSize?: number;
}

export interface DebeziumResult {
  readonly messages: number;
  readonly changes: number;
  readonly inserted: number;
  readonly tombstones: number;
  readonly quarantined: number;
  /** Where the transaction held back for its commit position starts (re-read next time), if any. */
  readonly pending?: string;
  readonly watermark?: WatermarkReport;
  readonly warnings: readonly string[];
}

export class DebeziumStream {
  readonly decoder: DebeziumDecoder;
  private readonly lander: ChangeLander;
  private buffer: ChangeRecord[] = [];
  private messages = 0;
  private changes = 0;
  private inserted = 0;
  private readonly warnings: string[] = [];
  private readonly batchSize: number;
  private readonly quarantinedBy = new Map<string, number>();

  constructor(
    private readonly sink: CdcSink,
    readonly opts: DebeziumSourceOptions,
  ) {
    const pii = PiiPolicy.create(opts.source, opts.pii ?? {}, opts.piiKey);
    this.decoder = new DebeziumDecoder(opts.source, pii, {
      ...(opts.tables ? { tables: opts.tables } : {}),
      ...(opts.columnTypes ? { columnTypes: opts.columnTypes } : {}),
    });
    this.lander = new ChangeLander(opts.source, sink, pii, opts.logger);
    this.batchSize = opts.batchSize ?? 10_000;
  }

  /** Decodes one message; lands the buffer when it is full. */
  async push(input: DebeziumInput): Promise<void> {
    this.messages++;
    const records = this.decoder.push(input);
    for (const r of records) this.buffer.push(r);
    if (this.buffer.length >= this.batchSize) await this.flush();
  }

  /** Lands everything decoded so far (quarantine first: a drift error must not lose those records). */
  async flush(): Promise<void> {
    const quarantine = this.decoder.drainQuarantine();
    if (quarantine.length > 0) await this.sink.quarantine(quarantine);
    for (const q of quarantine) {
      const at = q.origin.lastIndexOf(':');
      const file = at < 0 ? q.origin : q.origin.slice(0, at);
      this.quarantinedBy.set(file, (this.quarantinedBy.get(file) ?? 0) + 1);
    }
    if (this.buffer.length === 0) return;
    const records = this.buffer;
    this.buffer = [];
    const landed = await this.lander.land(records);
    this.changes += landed.changes;
    this.inserted += landed.inserted;
    this.warnings.push(...landed.warnings);
  }

  /** Inputs quarantined so far whose origin is `<where>:<position>` (a file's name, a topic partition). */
  quarantinedFrom(where: string): number {
    return this.quarantinedBy.get(where) ?? 0;
  }

  result(): DebeziumResult {
    const s = this.decoder.stats;
    const watermark = this.decoder.completeUpTo;
    // A held-back transaction without rows (a heartbeat) need not be re-read.
    const pending = this.decoder.pendingHasRows ? this.decoder.pendingOrigin : undefined;
    return {
      messages: this.messages,
      changes: this.changes,
      inserted: this.inserted,
      tombstones: s.tombstones,
      quarantined: s.quarantined,
      warnings: this.warnings,
      ...(pending !== undefined ? { pending } : {}),
      ...(watermark !== undefined ? { watermark: { source: this.opts.source, watermark } } : {}),
    };
  }
}

/** Parses one message text; a parse failure becomes an input the decoder quarantines. */
export function debeziumInput(text: string, origin: string, topic?: string): DebeziumInput {
  const base = topic === undefined ? { origin, text } : { origin, text, topic };
  try {
    return { ...base, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ...base, value: undefined, parseError: e instanceof Error ? e.message : String(e) };
  }
}
