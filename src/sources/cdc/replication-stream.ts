import pg from 'pg';
import type { LogicalDecoder, LogicalTransaction } from './logical.js';
import { parsePgLsn, type Lsn } from './lsn.js';
import { PgOutputDecoder, pgoutputOptions } from './pgoutput.js';
import { ReplicationQuery } from './replication-query.js';
import { addTablesOption, Wal2JsonDecoder, WAL2JSON_OPTIONS } from './wal2json.js';

/**
 * A logical slot (wal2json or pgoutput) read through the streaming replication protocol (`START_REPLICATION SLOT … LOGICAL`) on a
 * `replication: 'database'` connection. PostgreSQL decodes continuously while Node lands earlier batches;
 * each CopyData frame is parsed as it arrives (in the event loop's idle time, e.g. while DuckDB writes) and
 * assembled into whole transactions. Nothing is confirmed here until `confirm` is called, so the slot's
 * position (`confirmed_flush_lsn`) only moves past what the caller has durably landed.
 *
 * Frames (PostgreSQL protocol, "Streaming Replication Protocol"):
 *   XLogData 'w': int64 start, int64 end, int64 send time, then one message of the plugin's output.
 *   Keepalive 'k': int64 server WAL end (the walsender's sent position), int64 send time, byte reply-requested.
 *   Standby status update 'r' (ours): int64 write, int64 flush, int64 apply, int64 time, byte reply-requested.
 */

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

export interface ReplicationStreamOptions {
  readonly url: string;
  readonly slot: string;
  readonly tables: readonly { schema: string; name: string }[];
  /** Output plugin of the slot; pgoutput reads the publication (default wal2json, filtered by `tables`). */
  readonly plugin?: 'wal2json' | 'pgoutput';
  readonly publication?: string;
  /** Pause reading from the socket above this many buffered changes (TCP backpressure stops the walsender). */
  readonly maxBufferedChanges: number;
  readonly applicationName: string;
}

/** Quoted option list of START_REPLICATION (values are string literals). */
export function startReplicationSql(
  slot: string,
  tables: readonly { schema: string; name: string }[],
  plugin: 'wal2json' | 'pgoutput' = 'wal2json',
  publication = '',
): string {
  const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const options =
    plugin === 'pgoutput'
      ? pgoutputOptions(publication)
      : [...WAL2JSON_OPTIONS, ['add-tables', addTablesOption(tables)] as const];
  const opts = options.map(([k, v]) => `"${k}" ${lit(v)}`).join(', ');
  return `START_REPLICATION SLOT "${slot}" LOGICAL 0/0 (${opts})`;
}

export class ReplicationStream {
  private client: pg.Client | undefined;
  /** The running START_REPLICATION (a Submittable: frames in, status updates out, no private pg fields). */
  private query: ReplicationQuery | undefined;
  private readonly ready: LogicalTransaction[] = [];
  private readyChanges = 0;
  private readonly decoder: LogicalDecoder;
  private failure: Error | undefined;
  private paused = false;
  private confirmed: Lsn = 0n;
  /** Highest sent position the server reported in a keepalive: every commit ending at or before it has arrived. */
  private serverSent: Lsn = 0n;
  private waiters: (() => void)[] = [];
  /** Keepalives received (a poll re-asks for one only after its previous request was answered). */
  keepalives = 0;

  constructor(private readonly opts: ReplicationStreamOptions) {
    this.decoder = opts.plugin === 'pgoutput' ? new PgOutputDecoder() : new Wal2JsonDecoder();
  }

  get error(): Error | undefined {
    return this.failure;
  }

  get buffered(): { transactions: number; changes: number } {
    return { transactions: this.ready.length, changes: this.readyChanges };
  }

  /** Reading is paused: the buffer is full (a poll must take from it rather than wait). */
  get full(): boolean {
    return this.paused;
  }

  get sentLsn(): Lsn {
    return this.serverSent;
  }

  /** Connects and starts streaming from the slot's confirmed position; retries while the slot is still held
   * by a walsender that is exiting (a previous stream of this process, closed a moment ago). */
  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (e) {
        await this.close();
        const code = (e as { code?: string }).code;
        if (code !== '55006' || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async startOnce(): Promise<void> {
    this.failure = undefined;
    const client = new pg.Client({
      connectionString: this.opts.url,
      replication: 'database',
      application_name: this.opts.applicationName,
      // wal2json renders values with the walsender's settings: fix them to UTC/ISO like the SQL path.
      options: '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c extra_float_digits=1',
    } as pg.ClientConfig);
    client.on('error', (e: Error) => this.fail(e));
    await client.connect();
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      const sql = startReplicationSql(
        this.opts.slot,
        this.opts.tables,
        this.opts.plugin,
        this.opts.publication,
      );
      // The query only ends when the stream does (an error, the server going away, or our close).
      this.query = client.query(
        new ReplicationQuery(sql, {
          started: resolve,
          frame: (chunk) => this.onFrame(chunk),
          ended: (e) => {
            this.fail(e ?? new Error('replication stream ended'));
            if (e) reject(e);
          },
        }),
      );
    });
  }

  /** Waits until something changes (a frame, a keepalive, a failure) or `ms` pass. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const waiter = () => {
        clearTimeout(t);
        resolve();
      };
      function done() {
        resolve();
      }
      this.waiters.push(waiter);
    });
  }

  /** Asks the server for a keepalive carrying its sent position (answers in order after queued data). */
  requestReply(): void {
    this.status(true);
  }

  /**
   * Removes whole transactions from the buffer, in commit order, until at least `maxChanges` changes are
   * taken (or the buffer is empty).
   */
  take(maxChanges: number): LogicalTransaction[] {
    let n = 0;
    let i = 0;
    while (i < this.ready.length && n < maxChanges)
      n += (this.ready[i++] as LogicalTransaction).changes.length + 1;
    const out = this.ready.splice(0, i);
    for (const tx of out) this.readyChanges -= tx.changes.length + 1;
    if (this.paused && this.readyChanges < this.opts.maxBufferedChanges / 2) {
      this.paused = false;
      this.query?.resume();
    }
    return out;
  }

  /** Confirms everything up to `endLsn` (a commit's end): the slot resumes after it from now on. */
  confirm(endLsn: string): void {
    const lsn = parsePgLsn(endLsn);
    if (lsn > this.confirmed) this.confirmed = lsn;
    this.status(false);
  }

  async close(): Promise<void> {
    const c = this.client;
    const q = this.query;
    this.client = undefined;
    this.query = undefined;
    this.ready.length = 0;
    this.readyChanges = 0;
    this.decoder.reset();
    this.paused = false;
    this.serverSent = 0n;
    if (!c) return;
    // The last status update is written before Terminate, and the walsender reads them in order.
    if (this.confirmed > 0n) this.status(false, q);
    await c.end().catch(() => undefined);
  }

  private onFrame(buf: Buffer): void {
    try {
      const kind = buf[0];
      if (kind === 0x77) {
        // 'w' XLogData
        const tx = this.decoder.push(buf.subarray(25));
        if (tx) this.onTransaction(tx);
      } else if (kind === 0x6b) {
        // 'k' keepalive
        const sent = buf.readBigUInt64BE(1);
        if (sent > this.serverSent) this.serverSent = sent;
        this.keepalives++;
        if (buf[17] === 1) this.status(false);
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.notify();
  }

  private onTransaction(tx: LogicalTransaction): void {
    this.ready.push(tx);
    this.readyChanges += tx.changes.length + 1;
    if (!this.paused && this.readyChanges >= this.opts.maxBufferedChanges) {
      this.paused = true;
      this.query?.pause();
    }
  }

  private status(replyRequested: boolean, query = this.query): void {
    if (!query) return;
    const buf = Buffer.alloc(34);
    buf[0] = 0x72; // 'r'
    buf.writeBigUInt64BE(this.confirmed, 1);
    buf.writeBigUInt64BE(this.confirmed, 9);
    buf.writeBigUInt64BE(this.confirmed, 17);
    buf.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
    buf[33] = replyRequested ? 1 : 0;
    query.send(buf);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const f of w) f();
  }
}
