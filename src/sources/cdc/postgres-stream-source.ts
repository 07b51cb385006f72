import pg from 'pg';
import type { CdcSink } from '../sinks/types.js';
import { pgSourceError } from './errors.js';
import type { ChangeRecord } from './change.js';
import type { ChangeLander, PreparedLanding } from './lander.js';
import { parsePgLsn, pgLsnToHex } from './lsn.js';
import {
  HEARTBEAT_PREFIX,
  PostgresCdcSource,
  type InitResult,
  type PollResult,
  type PostgresCdcConfig,
} from './postgres-source.js';
import { withReplayClock } from './replay-clock.js';
import { ReplicationStream } from './replication-stream.js';
import { parseTableRef } from './snapshot.js';
import type { LogicalTransaction } from './logical.js';

/**
 * PostgresCdcSource's contract (same config, init, pollBatch, dropSlot, close) over the streaming
 * replication protocol instead of `pg_logical_slot_peek_changes`: PostgreSQL decodes the next transactions
 * while this process lands the current batch, and frames are parsed as they arrive.
 *
 * Exactly once, as before: a batch is landed with its (_lsn, _seq) keys, and only then is its last commit's
 * end sent as the flush position (standby status update). Any failure of a poll (crash before confirm,
 * schema drift, lost connection) closes the stream, so the next poll restarts from the slot's confirmed
 * position and replays what was not confirmed; the replay inserts nothing new.
 *
 * Pipelined: while DuckDB writes a batch, the poll takes the next full batch from the stream and prepares it
 * (records built, rows serialized by the sink); the next poll writes it first thing. Batches are written one
 * at a time in commit order and each is confirmed only after its own write, so the raw tables always hold a
 * prefix of the slot's transactions (plus replays that insert nothing). The batch taken ahead is not
 * confirmed by anything: a failure drops it with the stream, and the restarted stream brings it again.
 *
 * Caught up: the poll reads `pg_current_wal_flush_lsn()` (the walsender never sends past the flushed WAL)
 * and asks the server for a keepalive; a keepalive's position is the walsender's sent position, and it
 * arrives after every transaction decoded before it. Once it reaches the flush position read at the start,
 * everything committed before the poll began is in hand. When caught up, a heartbeat transaction is
 * committed and the same wait repeats, as in PostgresCdcSource, so an idle database moves the watermark.
 *
 * The snapshot (`init`) and `dropSlot` are PostgresCdcSource's own; the stream is closed around them.
 */
export interface PostgresStreamCdcConfig extends PostgresCdcConfig {
  /** Pause reading the stream above this many buffered changes (default 60,000; about 1 KB each). */
  readonly maxBufferedChanges?: number;
  /**
   * Keep streaming (and holding the slot) after a caught-up poll: `true` until `close`, or a number of
   * milliseconds without a poll after which the stream is closed. Default false: a caught-up poll closes
   * the stream, so that between passes the slot is free for another process, as with the SQL interface.
   * Holding it saves each pass the restart, in which PostgreSQL decodes again from the slot's restart_lsn
   * (up to about 15 s of WAL) before it reaches anything new.
   */
  readonly holdSlot?: boolean | number;
}

/** A poll waits at most this long for the walsender to reach the flush position it read. */
const MAX_WAIT_MS = 10_000;
/** Preparing a batch yields to the event loop after this much main-thread time. */
const SLICE_MS = 4;

/** The next batch, taken from the stream and prepared while the previous one was written. */
interface Ahead {
  readonly txs: readonly LogicalTransaction[];
  /** The sink it was prepared for (a poll into another sink prepares it again). */
  readonly sink: CdcSink;
  readonly prepared: Promise<PreparedLanding>;
}

export class PostgresStreamCdcSource {
  private readonly inner: PostgresCdcSource;
  private readonly stream: ReplicationStream;
  private streaming = false;
  private client: pg.Client | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private release: NodeJS.Timeout | undefined;
  /** Taken from the stream, not written: dropped with the stream, which then restarts from the slot. */
  private ahead: Ahead | undefined;

  constructor(private readonly config: PostgresStreamCdcConfig) {
    this.inner = new PostgresCdcSource(config); // validates the config
    const tables = config.tables.map(parseTableRef);
    this.stream = new ReplicationStream({
      url: config.url,
      slot: config.slot,
      tables,
      plugin: this.inner.plugin,
      publication: this.inner.publication,
      maxBufferedChanges: config.maxBufferedChanges ?? 60_000,
      applicationName: `tessera-cdc-stream-${config.slot}`,
    });
  }

  get source(): string {
    return this.config.database;
  }

  init(sink: CdcSink, opts: { resnapshot?: boolean } = {}): Promise<InitResult> {
    return this.serial(async () => {
      await this.stopStream();
      return this.inner.init(sink, opts); // the watermark starts at the snapshot, kept by the inner source
    });
  }

  /** Lands whole transactions, about `maxChanges` changes, from the stream; then confirms them. */
  pollBatch(sink: CdcSink, opts: { maxChanges?: number } = {}): Promise<PollResult> {
    const maxChanges = opts.maxChanges ?? 20_000;
    this.cancelRelease();
    return this.serial(async () => {
      try {
        const r = await this.poll(sink, maxChanges);
        const hold = this.config.holdSlot ?? false;
        if (r.caughtUp && hold === false) await this.stopStream();
        else if (r.caughtUp && typeof hold === 'number') this.scheduleRelease(hold);
        return r;
      } catch (e) {
        // What was taken from the stream is not confirmed: restart from the slot's position next time.
        await this.stopStream();
        throw e;
      }
    });
  }

  dropSlot(): Promise<void> {
    this.cancelRelease();
    return this.serial(async () => {
      await this.stopStream();
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.inner.dropSlot();
        } catch (e) {
          // The walsender of a just-closed stream may hold the slot for a moment.
          if (attempt >= 50 || !/is active/.test(String(e))) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
  }

  async close(): Promise<void> {
    this.cancelRelease();
    await this.queue.catch(() => undefined);
    await this.stopStream();
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
    await this.inner.close();
  }

  private async poll(sink: CdcSink, maxChanges: number): Promise<PollResult> {
    const client = await this.connect();
    if (!this.streaming) {
      await this.stream.start();
      this.streaming = true;
    }
    const lander = this.inner.lander(sink);
    let changes = 0;
    let inserted = 0;
    let transactions = 0;
    let lsn: string | undefined;
    let caughtUp = false;
    const warnings: string[] = [];
    for (let round = 0; round < 2; round++) {
      let txs: readonly LogicalTransaction[];
      let prepared: Promise<PreparedLanding>;
      const ahead = this.ahead;
      this.ahead = undefined;
      if (ahead) {
        // Taken and prepared while the previous batch was written; a full batch, so not caught up.
        const failure = this.stream.error;
        if (failure) throw pgSourceError(this.config.database, failure);
        txs = ahead.txs;
        caughtUp = false;
        prepared = ahead.sink === sink ? ahead.prepared : this.prepare(client, lander, txs);
      } else {
        const target = parsePgLsn(
          (await this.sql<{ l: string }>(client, 'SELECT pg_current_wal_flush_lsn()::text AS l')).rows[0]
            ?.l ?? '0/0',
        );
        const batch = await this.collect(target, maxChanges);
        caughtUp = batch.caughtUp;
        txs = this.config.replayClock ? batch.txs.map(withReplayClock) : batch.txs;
        prepared = this.prepare(client, lander, txs);
      }
      const writing = prepared.then((p) => lander.write(p));
      writing.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
      // While DuckDB writes this batch, take the next one and prepare it. It is written (and confirmed) only
      // after this one, by the next poll; if anything fails first, stopStream drops it with the stream.
      if (!caughtUp) this.ahead = await this.takeAhead(client, lander, sink, maxChanges, writing);
      const landed = await writing;
      changes += landed.changes;
      inserted += landed.inserted;
      warnings.push(...landed.warnings);
      transactions += txs.length;
      const last = txs.at(-1);
      if (last) {
        await this.config.hooks?.beforeConfirm?.({ lsn: pgLsnToHex(last.endLsn) });
        this.stream.confirm(last.endLsn);
        lsn = pgLsnToHex(last.endLsn);
        this.inner.landedThrough(last.commitTime);
      }
      if (!caughtUp || this.config.heartbeat === false || round > 0) break;
      await this.sql(client, 'SELECT pg_logical_emit_message(true, $1, $2)', [
        HEARTBEAT_PREFIX,
        this.config.slot,
      ]);
    }
    return this.inner.pollResult({
      changes,
      inserted,
      transactions,
      caughtUp,
      warnings,
      ...(lsn ? { lsn } : {}),
    });
  }

  /**
   * The next full batch, taken from the stream and prepared (records built, rows made) while `writing` is in
   * progress; undefined when no full batch arrives before the write ends (the next poll collects as usual).
   */
  private async takeAhead(
    client: pg.Client,
    lander: ChangeLander,
    sink: CdcSink,
    maxChanges: number,
    writing: Promise<unknown>,
  ): Promise<Ahead | undefined> {
    let written = false;
    const settled = writing.then(
      () => (written = true),
      () => (written = true),
    );
    const ready = () => this.stream.buffered.changes >= maxChanges || this.stream.full;
    while (!ready() && !written && !this.stream.error) await Promise.race([settled, this.stream.changed(50)]);
    if (!ready() || this.stream.error) return undefined;
    const taken = this.stream.take(maxChanges);
    const txs = this.config.replayClock ? taken.map(withReplayClock) : taken;
    const prepared = this.prepare(client, lander, txs);
    prepared.catch(() => undefined); // a failure surfaces when the next poll writes it, in order
    await prepared.catch(() => undefined);
    return { txs, sink, prepared };
  }

  /**
   * Records and rows of a batch. Built in slices that yield to the event loop, so a write in progress keeps
   * moving (its staged file written, its statement sent to DuckDB) while this runs on the main thread.
   */
  private async prepare(
    client: pg.Client,
    lander: ChangeLander,
    txs: readonly LogicalTransaction[],
  ): Promise<PreparedLanding> {
    const unknown = this.inner.builder.unknownOids(txs);
    if (unknown.length > 0) await this.inner.types.resolve(client, unknown);
    const records: ChangeRecord[] = [];
    let since = performance.now();
    for (const tx of txs) {
      for (const r of this.inner.builder.fromTransaction(tx)) records.push(r);
      if (performance.now() - since >= SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        since = performance.now();
      }
    }
    return lander.prepare(records);
  }

  /** Buffered transactions: a full batch as soon as there is one, else everything up to `target`. */
  private async collect(
    target: bigint,
    maxChanges: number,
  ): Promise<{ txs: LogicalTransaction[]; caughtUp: boolean }> {
    const deadline = Date.now() + MAX_WAIT_MS;
    let askedAt = 0;
    let keepalives = -1;
    for (;;) {
      const failure = this.stream.error;
      if (failure) throw pgSourceError(this.config.database, failure);
      if (this.stream.buffered.changes >= maxChanges || this.stream.full)
        return { txs: this.stream.take(maxChanges), caughtUp: false };
      if (this.stream.sentLsn >= target)
        return { txs: this.stream.take(Number.MAX_SAFE_INTEGER), caughtUp: true };
      // Not there yet (the walsender is still decoding): give it what we have, the next poll continues.
      if (Date.now() > deadline) return { txs: this.stream.take(maxChanges), caughtUp: false };
      // One request in flight; ask again once it was answered below the target (at most every 10 ms).
      const now = Date.now();
      if (keepalives !== this.stream.keepalives ? now - askedAt >= 10 : now - askedAt >= 200) {
        this.stream.requestReply();
        askedAt = now;
        keepalives = this.stream.keepalives;
      }
      await this.stream.changed(10);
    }
  }

  /** Closes the held stream after `ms` unless a poll comes first (the timer does not keep a process alive). */
  private scheduleRelease(ms: number): void {
    this.cancelRelease();
    this.release = setTimeout(() => {
      this.release = undefined;
      void this.serial(() => this.stopStream()).catch(() => undefined);
    }, ms);
    this.release.unref();
  }

  private cancelRelease(): void {
    if (this.release) clearTimeout(this.release);
    this.release = undefined;
  }

  private async stopStream(): Promise<void> {
    this.streaming = false;
    this.ahead = undefined;
    await this.stream.close();
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.config.url,
      application_name: `tessera-cdc-${this.config.slot}`,
    });
    client.on('error', () => undefined);
    await client.connect();
    this.client = client;
    return client;
  }

  private async sql<R extends pg.QueryResultRow>(
    client: pg.Client,
    text: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await client.query<R>(text, params);
    } catch (e) {
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw pgSourceError(this.config.database, e);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
