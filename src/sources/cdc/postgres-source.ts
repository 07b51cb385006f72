import pg from 'pg';
import { z } from 'zod';
import { PiiPolicy, type PiiRules } from '../pii.js';
import type { CdcSink } from '../sinks/types.js';
import type { WatermarkReport } from '../types.js';
import { canonicalTimestamp } from './canonical.js';
import { pgSourceError, SlotLostError, SourceConfigError, SourceError } from './errors.js';
import { ChangeLander, rawChangeTable, type SourceLogger } from './lander.js';
import { pgLsnToHex } from './lsn.js';
import { PgRecordBuilder } from './pg-records.js';
import { PgTypeRegistry } from './pg-types.js';
import { withReplayClock } from './replay-clock.js';
import {
  beginSnapshot,
  createSlotExportingSnapshot,
  describePgTable,
  ident,
  parseTableRef,
  readTable,
  type TableRef,
} from './snapshot.js';
import type { LogicalTransaction } from './logical.js';
import { PEEK_PGOUTPUT_SQL, PgOutputDecoder } from './pgoutput.js';
import {
  addTablesOption,
  groupTransactions,
  logicalFromWal2json,
  parseWal2json,
  PEEK_SQL,
} from './wal2json.js';

/**
 * Change data capture from one PostgreSQL database through a logical replication slot, decoded by
 * pgoutput (the default; built in, reads a publication of the tables, which `init` creates or updates,
 * named after the slot) or wal2json (an extension).
 *
 *   const src = new PostgresCdcSource({ url, slot: 'tessera_user_db', database: 'user_db', tables: [...], pii });
 *   await src.init(sink);                          // slot + consistent snapshot, once (resumable)
 *   const { changes, watermark } = await src.pollBatch(sink, { maxChanges: 10_000 });
 *
 * Exactly once: a batch is peeked (not consumed), landed with its (_lsn, _seq) keys, and only then the
 * slot is advanced past it. A crash before the advance replays the same transactions, which insert
 * nothing new. Both calls are idempotent and resumable, so an activity can simply call them again.
 */

export const HEARTBEAT_PREFIX = 'tessera_heartbeat';

const configSchema = z.object({
  url: z.string().min(1),
  slot: z.string().regex(/^[a-z0-9_]{1,63}$/, 'slot names are [a-z0-9_], at most 63 characters'),
  database: z.string().regex(/^[a-z][a-z0-9_]*$/, 'source name: lower-case identifier, e.g. user_db'),
  tables: z.array(z.string().min(1)).min(1),
  pii: z.record(z.string(), z.enum(['drop', 'hash'])).default({}),
  piiKey: z.string().optional(),
  heartbeat: z.boolean().default(true),
  plugin: z.enum(['pgoutput', 'wal2json']).default('pgoutput'),
  replayClock: z.boolean().default(false),
  snapshotBatchRows: z.number().int().positive().default(10_000),
});

export interface PostgresCdcConfig {
  readonly url: string;
  readonly slot: string;
  /** Source name: prefix of the raw tables (`raw.<database>_<table>_changes`) and of the watermark. */
  readonly database: string;
  /** `users` or `schema.users`. */
  readonly tables: readonly string[];
  readonly pii?: PiiRules;
  /** HMAC key for `hash` rules; default $TESSERA_PII_KEY. */
  readonly piiKey?: string;
  /**
   * Output plugin, fixed when the slot is created; default pgoutput, which decodes for far less CPU on
   * both sides (bench/cdc.ts). It needs a publication (created by `init`), and PostgreSQL then refuses
   * UPDATE/DELETE on a captured table without a replica identity (a primary key or REPLICA IDENTITY FULL),
   * which wal2json would silently skip.
   */
  readonly plugin?: 'wal2json' | 'pgoutput';
  /** Emit a heartbeat message when caught up, so an idle database still advances the watermark. */
  readonly heartbeat?: boolean;
  /** Simulation hook: take commit times from replay-clock messages (see replay-clock.ts). Default false. */
  readonly replayClock?: boolean;
  readonly snapshotBatchRows?: number;
  readonly logger?: SourceLogger;
  /** Test seam: runs after a batch is written and before the slot is advanced. */
  readonly hooks?: { readonly beforeConfirm?: (info: { readonly lsn: string }) => void | Promise<void> };
}

export interface InitResult {
  readonly snapshotTaken: boolean;
  /** The consistent point (16 hex digits) and snapshot time of this slot's snapshot. */
  readonly snapshot: { readonly lsn: string; readonly time: string };
  readonly rows: number;
}

export interface PollResult {
  readonly changes: number;
  readonly inserted: number;
  readonly transactions: number;
  /** Slot position after this batch (16 hex digits), when it moved. */
  readonly lsn?: string;
  /** True when the slot had nothing more to give at the end of the batch. */
  readonly caughtUp: boolean;
  readonly watermark?: WatermarkReport;
  readonly warnings: readonly string[];
}

/** Recorded before the first snapshot row is written ('snapshotting') and after the last ('done'). */
interface SnapshotCheckpoint {
  readonly state: 'snapshotting' | 'done';
  readonly lsn: string;
  readonly time: string;
  readonly tables: readonly string[];
}

export class PostgresCdcSource {
  private readonly cfg: z.infer<typeof configSchema>;
  private readonly tables: readonly TableRef[];
  private readonly pii: PiiPolicy;
  /** Type OIDs and records, shared with PostgresStreamCdcSource (one of each per capture). */
  readonly types = new PgTypeRegistry();
  readonly builder: PgRecordBuilder;
  private client: pg.Client | undefined;
  private watermark: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly landers = new WeakMap<CdcSink, ChangeLander>();

  constructor(private readonly config: PostgresCdcConfig) {
    const parsed = configSchema.safeParse(config);
    if (!parsed.success) throw new SourceConfigError(config.database ?? 'postgres', parsed.error.message);
    this.cfg = parsed.data;
    this.tables = this.cfg.tables.map(parseTableRef);
    const names = this.tables.map((t) => t.name);
    if (new Set(names).size !== names.length)
      throw new SourceConfigError(
        this.cfg.database,
        'two tables share a name; raw tables are named by table',
      );
    this.pii = PiiPolicy.create(this.cfg.database, this.cfg.pii, this.cfg.piiKey);
    this.builder = new PgRecordBuilder(this.types, this.pii);
  }

  get source(): string {
    return this.cfg.database;
  }

  private get checkpointKey(): string {
    return `cdc:${this.cfg.database}:${this.cfg.slot}`;
  }

  /**
   * Creates the slot and lands the snapshot, unless a finished snapshot is recorded for this slot.
   * An interrupted snapshot is undone (its rows deleted, its slot dropped) and taken again, so a crash
   * at any point leaves exactly one snapshot.
   */
  init(sink: CdcSink, opts: { resnapshot?: boolean } = {}): Promise<InitResult> {
    return this.serial(async () => {
      const client = await this.connect();
      const saved = await sink.getCheckpoint(this.checkpointKey);
      const checkpoint = saved ? (JSON.parse(saved) as SnapshotCheckpoint) : undefined;
      const slot = await this.slotInfo(client);
      if (checkpoint?.state === 'done' && !opts.resnapshot) {
        if (!slot) throw new SlotLostError(this.cfg.database, this.cfg.slot);
        if (slot.plugin !== this.cfg.plugin)
          throw new SourceConfigError(
            this.cfg.database,
            `slot ${this.cfg.slot} uses ${slot.plugin}, not ${this.cfg.plugin}`,
          );
        this.watermark ??= checkpoint.time;
        return { snapshotTaken: false, snapshot: { lsn: checkpoint.lsn, time: checkpoint.time }, rows: 0 };
      }
      if (slot) {
        if (slot.active)
          throw new SourceError(this.cfg.database, `slot ${this.cfg.slot} is in use by another process`, {
            retryable: true,
          });
        this.log().warn(
          { source: this.cfg.database, slot: this.cfg.slot },
          'dropping slot without a finished snapshot; snapshotting again',
        );
        await client.query('SELECT pg_drop_replication_slot($1)', [this.cfg.slot]);
      }
      if (checkpoint?.state === 'snapshotting') {
        for (const t of checkpoint.tables)
          await sink.discardSnapshot(
            rawChangeTable(this.cfg.database, parseTableRef(t).name),
            checkpoint.lsn,
          );
      }
      const result = await this.snapshot(client, sink);
      const done: SnapshotCheckpoint = { state: 'done', ...result.snapshot, tables: this.cfg.tables };
      await sink.putCheckpoint(this.checkpointKey, JSON.stringify(done));
      this.watermark = result.snapshot.time;
      return result;
    });
  }

  /** Lands up to about `maxChanges` decoded actions (whole transactions), then confirms them. */
  pollBatch(sink: CdcSink, opts: { maxChanges?: number } = {}): Promise<PollResult> {
    const maxChanges = opts.maxChanges ?? 20_000;
    return this.serial(async () => {
      const client = await this.connect();
      const lander = this.lander(sink);
      let changes = 0;
      let inserted = 0;
      let transactions = 0;
      let lsn: string | undefined;
      let caughtUp = false;
      const warnings: string[] = [];
      for (let round = 0; round < 2; round++) {
        const { grouped, rows } = await this.peek(client, maxChanges);
        const txs = this.cfg.replayClock ? grouped.map(withReplayClock) : grouped;
        const unknown = this.builder.unknownOids(txs);
        if (unknown.length > 0) await this.types.resolve(client, unknown);
        const records = txs.flatMap((tx) => this.builder.fromTransaction(tx));
        const landed = await lander.land(records);
        changes += landed.changes;
        inserted += landed.inserted;
        transactions += txs.length;
        warnings.push(...landed.warnings);
        const last = txs.at(-1);
        if (last) {
          await this.config.hooks?.beforeConfirm?.({ lsn: pgLsnToHex(last.endLsn) });
          await this.query(client, 'SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [
            this.cfg.slot,
            last.endLsn,
          ]);
          lsn = pgLsnToHex(last.endLsn);
          this.landedThrough(last.commitTime);
        }
        caughtUp = rows < maxChanges;
        // Caught up: a heartbeat transaction committed now is decoded after everything committed
        // before it, so consuming it proves completeness up to its commit time even when idle.
        if (!caughtUp || !this.cfg.heartbeat || round > 0) break;
        await this.query(client, 'SELECT pg_logical_emit_message(true, $1, $2)', [
          HEARTBEAT_PREFIX,
          this.cfg.slot,
        ]);
      }
      return this.pollResult({
        changes,
        inserted,
        transactions,
        caughtUp,
        warnings,
        ...(lsn ? { lsn } : {}),
      });
    });
  }

  /**
   * Moves the watermark to a confirmed transaction's commit time (never back). The streaming source, which
   * wraps this one, keeps its watermark here too.
   */
  landedThrough(commitTime: string): void {
    const committed = canonicalTimestamp(commitTime);
    if (!this.watermark || committed > this.watermark) this.watermark = committed;
  }

  /** A poll's counts with the source's watermark. */
  pollResult(counts: Omit<PollResult, 'watermark'>): PollResult {
    return {
      ...counts,
      ...(this.watermark ? { watermark: { source: this.cfg.database, watermark: this.watermark } } : {}),
    };
  }

  /** Drops the slot and its publication (decommissioning, tests). The raw tables and checkpoint stay. */
  dropSlot(): Promise<void> {
    return this.serial(async () => {
      const client = await this.connect();
      if (await this.slotInfo(client))
        await client.query('SELECT pg_drop_replication_slot($1)', [this.cfg.slot]);
      if (this.cfg.plugin === 'pgoutput')
        await client.query(`DROP PUBLICATION IF EXISTS ${ident(this.publication)}`);
    });
  }

  get plugin(): 'wal2json' | 'pgoutput' {
    return this.cfg.plugin;
  }

  /** pgoutput's publication: named after the slot (one capture, one publication). */
  get publication(): string {
    return this.cfg.slot;
  }

  /** Up to `maxChanges` changes (whole transactions) from the slot, not consumed; `rows` = messages read. */
  private async peek(
    client: pg.Client,
    maxChanges: number,
  ): Promise<{ grouped: LogicalTransaction[]; rows: number }> {
    if (this.cfg.plugin === 'wal2json') {
      const res = await this.query<{ data: string }>(client, PEEK_SQL, [
        this.cfg.slot,
        maxChanges,
        addTablesOption(this.tables),
      ]);
      return {
        grouped: groupTransactions(res.rows.map((r) => parseWal2json(r.data))).map(logicalFromWal2json),
        rows: res.rows.length,
      };
    }
    // Each peek is a new decoding session: relations are announced again, so a fresh decoder per peek.
    const res = await this.query<{ data: Buffer }>(client, PEEK_PGOUTPUT_SQL, [
      this.cfg.slot,
      maxChanges,
      this.publication,
    ]);
    const decoder = new PgOutputDecoder();
    const grouped: LogicalTransaction[] = [];
    for (const r of res.rows) {
      const tx = decoder.push(r.data);
      if (tx) grouped.push(tx);
    }
    if (decoder.inTransaction) throw new Error('pgoutput: a transaction has no COMMIT in the peeked batch');
    return { grouped, rows: res.rows.length };
  }

  /** Creates the publication of the configured tables, or sets its table list to them. */
  private async ensurePublication(client: pg.Client): Promise<void> {
    const tables = this.tables.map((t) => `${ident(t.schema)}.${ident(t.name)}`).join(', ');
    const exists = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.publication]);
    await client.query(
      exists.rows.length > 0
        ? `ALTER PUBLICATION ${ident(this.publication)} SET TABLE ${tables}`
        : `CREATE PUBLICATION ${ident(this.publication)} FOR TABLE ${tables}`,
    );
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    const c = this.client;
    this.client = undefined;
    await c?.end();
  }

  private async snapshot(client: pg.Client, sink: CdcSink): Promise<InitResult> {
    // The publication exists before the slot, so every change the slot decodes finds it.
    if (this.cfg.plugin === 'pgoutput') await this.ensurePublication(client);
    const created = await createSlotExportingSnapshot(this.cfg.url, this.cfg.slot, this.cfg.plugin);
    const lsn = pgLsnToHex(created.consistentPoint);
    const lander = this.lander(sink);
    let rows = 0;
    try {
      const time = await beginSnapshot(client, created.snapshotName);
      try {
        const started: SnapshotCheckpoint = { state: 'snapshotting', lsn, time, tables: this.cfg.tables };
        await sink.putCheckpoint(this.checkpointKey, JSON.stringify(started));
        for (const table of this.tables) {
          const columns = await describePgTable(client, table);
          await this.types.resolve(
            client,
            columns.map((c) => c.typeoid),
          );
          for await (const chunk of readTable(client, table, columns, this.cfg.snapshotBatchRows)) {
            const records = chunk.map((row) =>
              this.builder.fromSnapshotRow(table.name, columns, row, lsn, time),
            );
            rows += (await lander.land(records)).changes;
          }
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      this.log().info({ source: this.cfg.database, slot: this.cfg.slot, lsn, rows }, 'snapshot landed');
      return { snapshotTaken: true, snapshot: { lsn, time }, rows };
    } finally {
      await created.connection.end().catch(() => undefined);
    }
  }

  /**
   * One lander per sink, so its schema cache and dropped-column warnings live across batches (and across the
   * snapshot and the polls of PostgresStreamCdcSource, which lands through this source's).
   */
  lander(sink: CdcSink): ChangeLander {
    let lander = this.landers.get(sink);
    if (!lander) {
      lander = new ChangeLander(this.cfg.database, sink, this.pii, this.config.logger);
      this.landers.set(sink, lander);
    }
    return lander;
  }

  private log(): SourceLogger {
    return this.config.logger ?? { info: () => undefined, warn: () => undefined };
  }

  private async slotInfo(client: pg.Client): Promise<{ plugin: string; active: boolean } | undefined> {
    const res = await client.query<{ plugin: string; active: boolean; database: string }>(
      'SELECT plugin, active, database FROM pg_replication_slots WHERE slot_name = $1',
      [this.cfg.slot],
    );
    return res.rows[0];
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.cfg.url,
      application_name: `tessera-cdc-${this.cfg.slot}`,
    });
    // A dropped connection surfaces as a failed query (retryable); do not crash the process meanwhile.
    client.on('error', () => undefined);
    await client.connect();
    // wal2json and `::text` render values with the session's settings: fix them to UTC/ISO.
    await client.query(
      `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1`,
    );
    this.client = client;
    return client;
  }

  private async query<R extends pg.QueryResultRow>(
    client: pg.Client,
    sql: string,
    params: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await client.query<R>(sql, params);
    } catch (e) {
      const error = pgSourceError(this.cfg.database, e);
      if (error.retryable) {
        this.client = undefined;
        await client.end().catch(() => undefined);
      }
      throw error;
    }
  }

  /** One operation at a time per source: the slot has a single position. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
