import type pg from 'pg';

/**
 * `START_REPLICATION` as a node-postgres **Submittable**: the public extension point `client.query()` accepts
 * (typed in @types/pg, used by pg-cursor, pg-query-stream and pg-copy-streams). pg hands a Submittable the
 * connection when it runs it and routes the protocol messages of the running query to its `handle*` methods, so
 * the replication stream needs no access to the Client's private fields.
 *
 * What it uses of the connection it is given: the `replicationStart` event (CopyBothResponse: the walsender
 * holds the slot and streams), `sendCopyFromChunk` (a CopyData frame: our standby status updates) and `stream`
 * (the socket, paused for backpressure). pg-copy-streams' COPY BOTH relies on the same three.
 */

export interface ReplicationHandlers {
  /** The server entered COPY BOTH: the slot is ours and frames follow. */
  started(): void;
  /** One CopyData frame (XLogData 'w' or keepalive 'k'). */
  frame(chunk: Buffer): void;
  /** The query ended: with the server's error, or without one when the stream was closed. */
  ended(error?: Error): void;
}

/** The parts of the connection a Submittable receives that the replication protocol needs. */
interface CopyBothConnection {
  once(event: 'replicationStart', fn: () => void): unknown;
  removeListener(event: 'replicationStart', fn: () => void): unknown;
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  sendCopyFail(message: string): void;
  readonly stream: { pause(): void; resume(): void };
}

export class ReplicationQuery implements pg.Submittable {
  private connection: CopyBothConnection | undefined;
  private done = false;
  private readonly onStart = (): void => this.handlers.started();

  constructor(
    private readonly text: string,
    private readonly handlers: ReplicationHandlers,
  ) {}

  /** Called by pg when the query's turn comes, with the client's connection. */
  submit(connection: pg.Connection): void {
    const con = connection as unknown as CopyBothConnection;
    this.connection = con;
    con.once('replicationStart', this.onStart);
    con.query(this.text);
  }

  /** Sends a CopyData frame to the walsender (false when the query is not running). */
  send(chunk: Buffer): boolean {
    if (!this.connection || this.done) return false;
    this.connection.sendCopyFromChunk(chunk);
    return true;
  }

  pause(): void {
    if (!this.done) this.connection?.stream.pause();
  }

  resume(): void {
    if (!this.done) this.connection?.stream.resume();
  }

  // The message handlers pg calls on the running query.
  handleCopyData(msg: { chunk: Buffer }): void {
    this.handlers.frame(msg.chunk);
  }

  handleError(err: Error): void {
    this.end(err);
  }

  handleReadyForQuery(): void {
    this.end();
  }

  handleCommandComplete(): void {}

  handleEmptyQuery(): void {}

  handleRowDescription(): void {}

  handleDataRow(): void {}

  handlePortalSuspended(): void {}

  handleCopyInResponse(connection: pg.Connection): void {
    (connection as unknown as CopyBothConnection).sendCopyFail('START_REPLICATION takes no COPY IN');
  }

  private end(error?: Error): void {
    if (this.done) return;
    this.done = true;
    this.connection?.removeListener('replicationStart', this.onStart);
    this.handlers.ended(error);
  }
}
