import type { Engine } from '../../engines/index.js';
import { KeyedLock } from '../../engines/core/keyed-lock.js';
import { changeLogWindowStats } from '../landing/partition-stats.js';
import type { PiiRules } from '../pii.js';
import { rawSinkFor, type CdcSink } from '../sinks/index.js';
import type { IngestRequest, IngestResult, LandResult, SourceLoader, WatermarkReport } from '../types.js';
import type { SourceLogger } from './lander.js';
import { PostgresStreamCdcSource } from './postgres-stream-source.js';

/**
 * One OLTP database as a pipeline source, read through the streaming replication protocol (pgoutput by
 * default; see PostgresStreamCdcSource): `ingest` lands everything new from the slot (the initial
 * snapshot on first use, then whole transactions until caught up, confirming each batch only after it is
 * written), then reports the requested daily partition of `raw.<database>_<stream>_changes` by
 * `_commit_time`. `land` is the same pass without a partition, for a continuous ingestion workflow.
 * The watermark is the newest decoded commit time; when caught up the source commits a heartbeat message,
 * so an idle database still advances it.
 */

export interface PostgresCdcLoaderOptions {
  readonly engine: Engine;
  readonly url: string;
  /** Source name, e.g. `user_db`; the raw tables are `raw.<database>_<table>_changes`. */
  readonly database: string;
  readonly tables: readonly string[];
  /** Default `tessera_<database>`. */
  readonly slot?: string;
  readonly pii?: PiiRules;
  readonly piiKey?: string;
  /** Output plugin of the slot (default pgoutput; wal2json needs the extension on the server). */
  readonly plugin?: 'pgoutput' | 'wal2json';
  /** Simulation hook (src/sources/cdc/replay-clock.ts); never set it for production databases. */
  readonly replayClock?: boolean;
  /**
   * Keep the replication stream (and the slot) this long after a pass, so passes that come sooner (a
   * continuous ingestion every few seconds) skip the restart. Default 10,000 ms; 0 frees the slot after
   * every pass.
   */
  readonly holdSlotMs?: number;
  /** Decoded actions per batch (whole transactions). */
  readonly maxChanges?: number;
  readonly logger?: SourceLogger;
}

// One pass at a time per source, across every loader object of this process (one slot, one position).
const locks = new KeyedLock();

export class PostgresCdcLoader implements SourceLoader {
  private readonly source: PostgresStreamCdcSource;
  private readonly sink: CdcSink;
  private initialized = false;

  constructor(private readonly opts: PostgresCdcLoaderOptions) {
    this.sink = rawSinkFor(opts.engine);
    this.source = new PostgresStreamCdcSource({
      url: opts.url,
      slot: opts.slot ?? `tessera_${opts.database}`,
      database: opts.database,
      tables: opts.tables,
      holdSlot: opts.holdSlotMs === 0 ? false : (opts.holdSlotMs ?? 10_000),
      ...(opts.plugin ? { plugin: opts.plugin } : {}),
      ...(opts.pii ? { pii: opts.pii } : {}),
      ...(opts.piiKey ? { piiKey: opts.piiKey } : {}),
      ...(opts.replayClock ? { replayClock: true } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  }

  /**
   * Creates the slot and lands the initial snapshot (once; later calls are free). Call it before a replay
   * writes history, so the history arrives as changes rather than as snapshot rows.
   */
  async init(): Promise<void> {
    await locks.run(this.lockKey, () => this.ensureInit());
  }

  land(heartbeat: () => void): Promise<LandResult> {
    return locks.run(this.lockKey, () => this.pass(heartbeat));
  }

  ingest(req: IngestRequest): Promise<IngestResult> {
    return locks.run(this.lockKey, async () => {
      const { watermark } = await this.pass(req.heartbeat);
      const w = req.window;
      if (!w)
        throw new Error(`${req.assetKey}: ${this.opts.database} reports daily partitions by _commit_time`);
      return changeLogWindowStats(
        this.opts.engine,
        `raw.${this.opts.database}_${req.stream}_changes`,
        w,
        watermark,
      );
    });
  }

  /** Releases the connection (the slot stays, so the next run resumes where this one stopped). */
  close(): Promise<void> {
    return this.source.close();
  }

  /** Drops the slot (tests, decommissioning). */
  dropSlot(): Promise<void> {
    return this.source.dropSlot();
  }

  private get lockKey(): string {
    return `${this.opts.url}#${this.opts.database}`;
  }

  /** Rows the initial snapshot landed now (0 when it was taken before). */
  private async ensureInit(): Promise<number> {
    if (this.initialized) return 0;
    const r = await this.source.init(this.sink);
    this.initialized = true;
    return r.rows;
  }

  /** Lands batches until the slot has nothing more (bounded: it stops at what was there when called). */
  private async pass(heartbeat: () => void): Promise<LandResult & { watermark?: WatermarkReport }> {
    let landed = await this.ensureInit();
    let watermark: WatermarkReport | undefined;
    for (;;) {
      const r = await this.source.pollBatch(this.sink, { maxChanges: this.opts.maxChanges ?? 20_000 });
      heartbeat();
      landed += r.inserted;
      watermark = r.watermark ?? watermark;
      if (r.caughtUp) break;
    }
    return { landed, quarantined: 0, ...(watermark ? { watermark } : {}) };
  }
}
