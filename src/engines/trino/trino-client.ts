import type { SqlClient, SqlSession } from '../core/client.js';
import { EngineError } from '../errors.js';
import type { Row, SqlParam } from '../types.js';
import { bindParameters, parseJsonKeepingBigInts, splitStatements } from './trino-protocol.js';
import { convertValue } from './trino-values.js';

/**
 * A client for Trino's REST protocol (POST /v1/statement, then follow `nextUri`), on Node's fetch.
 * Not the npm `trino-client`: it parses responses with axios (BIGINT beyond 2^53 loses digits) and
 * shares mutable session headers between concurrent queries.
 *
 * Every request runs with the session time zone UTC (DESIGN.md "Time") in the configured catalog.
 * Trino has no multi-statement transactions on Iceberg ("Catalog only supports writes using
 * autocommit"): `transaction` is NOT atomic here, it only groups statements; the Trino engine makes
 * each write one statement instead (trino-engine.ts).
 */
export interface TrinoClientOptions {
  readonly url: string;
  readonly catalog: string;
  readonly user: string;
  /** Session properties, e.g. `{ query_max_run_time: '10m' }`. */
  readonly session?: Readonly<Record<string, string>>;
  /** Renders a bound parameter as a literal (the dialect's). */
  readonly literal: (value: SqlParam) => string;
}

interface StatementResponse {
  readonly id?: string;
  readonly nextUri?: string;
  readonly columns?: readonly { readonly name: string; readonly type: string }[];
  readonly data?: readonly (readonly unknown[])[];
  readonly updateCount?: number;
  readonly error?: { readonly message?: string; readonly errorName?: string; readonly errorType?: string };
}

export interface StatementResult {
  readonly rows: Row[];
  /** Rows changed by an INSERT/UPDATE/DELETE/MERGE; 0 otherwise. */
  readonly updateCount: number;
}

/**
 * Errors that can succeed on retry: Iceberg's optimistic commit lost a race with another writer, or
 * the server was busy. Everything else is the SQL's or the data's fault.
 */
const RETRYABLE_NAMES = new Set([
  'ICEBERG_COMMIT_ERROR',
  'TRANSACTION_CONFLICT',
  'SERVER_STARTING_UP',
  'SERVER_SHUTTING_DOWN',
  'CLUSTER_OUT_OF_MEMORY',
]);

export class TrinoClient implements SqlClient {
  private closed = false;
  private readonly inflight = new Set<AbortController>();

  constructor(private readonly options: TrinoClientOptions) {}

  async run(sql: string): Promise<number> {
    let changed = 0;
    for (const statement of splitStatements(sql)) changed = (await this.statement(statement)).updateCount;
    return changed;
  }

  async query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    const bound = params && params.length > 0 ? this.bind(sql, params) : sql;
    return (await this.statement(bound)).rows as T[];
  }

  /** Not atomic on Trino (see the class comment): runs `fn` on this client. */
  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.inflight) c.abort();
  }

  /** Runs one statement to completion and returns its rows (converted by column type). */
  async statement(sql: string): Promise<StatementResult> {
    if (this.closed) throw new EngineError('trino', `client for ${this.options.url} is closed`);
    const controller = new AbortController();
    this.inflight.add(controller);
    try {
      let response = await this.request(`${this.options.url}/v1/statement`, 'POST', sql, controller);
      let columns = response.columns;
      const rows: Row[] = [];
      let updateCount = 0;
      for (;;) {
        if (response.error) throw this.failure(response.error, sql);
        columns = columns ?? response.columns;
        if (response.updateCount !== undefined) updateCount = response.updateCount;
        if (response.data && columns) {
          for (const values of response.data) rows.push(toRow(columns, values));
        }
        if (!response.nextUri) break;
        response = await this.request(response.nextUri, 'GET', undefined, controller);
      }
      return { rows, updateCount };
    } finally {
      this.inflight.delete(controller);
    }
  }

  private bind(sql: string, params: readonly SqlParam[]): string {
    try {
      return bindParameters(
        sql,
        params.map((p) => this.options.literal(p)),
      );
    } catch (e) {
      throw new EngineError('trino', `${e instanceof Error ? e.message : String(e)}: ${short(sql)}`);
    }
  }

  private async request(
    url: string,
    method: 'GET' | 'POST',
    body: string | undefined,
    controller: AbortController,
  ): Promise<StatementResponse> {
    const headers: Record<string, string> = {
      'X-Trino-User': this.options.user,
      'X-Trino-Source': 'tessera',
      'X-Trino-Catalog': this.options.catalog,
      'X-Trino-Time-Zone': 'UTC',
      // Without it the server rounds every timestamp to milliseconds (legacy clients).
      'X-Trino-Client-Capabilities': 'PARAMETRIC_DATETIME',
    };
    const session = Object.entries(this.options.session ?? {});
    if (session.length > 0) headers['X-Trino-Session'] = session.map(([k, v]) => `${k}=${v}`).join(',');
    // The protocol answers 503 while the coordinator is busy: the same request may be sent again.
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method, headers, signal: controller.signal, ...(body ? { body } : {}) });
      } catch (e) {
        throw new EngineError('trino', `cannot reach ${this.options.url}: ${String(e)}`, true, { cause: e });
      }
      if (res.status === 503 && attempt < 20) {
        await res.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
        continue;
      }
      const text = await res.text();
      if (!res.ok) {
        throw new EngineError(
          'trino',
          `HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`,
          res.status >= 500,
        );
      }
      return parseJsonKeepingBigInts(text) as StatementResponse;
    }
  }

  private failure(error: NonNullable<StatementResponse['error']>, sql: string): EngineError {
    const name = error.errorName ?? 'UNKNOWN';
    const message = error.message ?? name;
    const retryable = RETRYABLE_NAMES.has(name) || /Failed to commit|CommitFailedException/i.test(message);
    return new EngineError('trino', `${message} (${name})\n  while running: ${short(sql)}`, retryable);
  }
}

function toRow(columns: NonNullable<StatementResponse['columns']>, values: readonly unknown[]): Row {
  const row: Row = {};
  columns.forEach((c, i) => {
    row[c.name] = convertValue(c.type, values[i]);
  });
  return row;
}

function short(sql: string): string {
  return sql.length > 300 ? `${sql.slice(0, 300)}…` : sql;
}
