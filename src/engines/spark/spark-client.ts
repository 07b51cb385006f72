import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SqlClient, SqlSession } from '../core/client.js';
import { EngineError } from '../errors.js';
import type { JsonValue, Row, SqlParam } from '../types.js';

/**
 * Talks to our Spark SQL server (scripts/spark/server.py: one SparkSession with the Iceberg catalog,
 * JSON over HTTP on 127.0.0.1). A "session" is a Spark session of its own on the server: its own temp
 * views (staging), the same catalog.
 *
 * Spark SQL on Iceberg has no multi-statement transactions: `transaction` gives `fn` a session of its
 * own and drops its temp views afterwards, but cannot undo a statement that committed. The Spark engine
 * therefore writes each table in one statement (one Iceberg commit); see spark-engine.ts.
 */

const answerSchema = z.object({
  rows: z.array(z.record(z.string(), z.unknown())).optional(),
  count: z.number().optional(),
  error: z.string().optional(),
  retryable: z.boolean().optional(),
});

const healthSchema = z.object({ statements: z.array(z.string()).optional() });
const STAGE_VIEW = /^\s*STAGE VIEW (`(?:[^`]|``)+`) AS /;

export class SparkClient implements SqlClient {
  /** The client's own session: statements outside `transaction` run here. */
  private readonly main = randomUUID();
  /** Whether the server answers `STAGE VIEW` (asked once). */
  private stages: Promise<boolean> | undefined;

  /**
   * `catalog`: the Iceberg catalog of every session of this client ('iceberg', the lakehouse's);
   * `purgeOnClose`: drop everything in it on close (a test's own catalog).
   */
  constructor(
    private readonly url: string,
    private readonly catalog = 'iceberg',
    private readonly purgeOnClose = false,
  ) {}

  run(sql: string): Promise<number> {
    return this.runIn(this.main, sql);
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.queryIn<T>(this.main, sql, params);
  }

  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    const session = randomUUID();
    try {
      return await fn(this.session(session));
    } finally {
      await this.post('/close', { session }).catch(() => undefined);
    }
  }

  /** A session of its own on the server (temp views are per session), closed by `closeSession`. */
  session(id: string): SqlSession {
    return {
      run: (sql) => this.runIn(id, sql),
      query: <T extends Row = Row>(sql: string, params?: readonly SqlParam[]) =>
        this.queryIn<T>(id, sql, params),
    };
  }

  async closeSession(id: string): Promise<void> {
    await this.post('/close', { session: id });
  }

  /** Ends the client's session on the server (which keeps running); a test catalog is emptied. */
  async close(): Promise<void> {
    await this.post('/close', { session: this.main, purge: this.purgeOnClose });
  }

  private async runIn(session: string, sql: string): Promise<number> {
    const answer = await this.post('/run', { sql: await this.forServer(sql), session });
    return answer.count ?? -1;
  }

  /**
   * A server started before it answered `STAGE VIEW` (spark.sh reuses a running server) is given what it
   * had then, `CACHE TABLE`: staging that a write to its source tables recomputes. Restart it to fix that.
   */
  private async forServer(sql: string): Promise<string> {
    if (!STAGE_VIEW.test(sql)) return sql;
    this.stages ??= fetch(`${this.url}/health`)
      .then(async (res) => healthSchema.parse(await res.json()).statements?.includes('STAGE VIEW') === true)
      .catch(() => true);
    return (await this.stages) ? sql : sql.replace(STAGE_VIEW, 'DROP VIEW IF EXISTS $1; CACHE TABLE $1 AS ');
  }

  private async queryIn<T extends Row>(
    session: string,
    sql: string,
    params?: readonly SqlParam[],
  ): Promise<T[]> {
    const answer = await this.post('/query', {
      sql,
      session,
      ...(params && params.length > 0 ? { params } : {}),
    });
    // The server converts every value to JSON as the engine contract says (integers beyond 2^53 as text).
    return (answer.rows ?? []) as Record<string, JsonValue>[] as T[];
  }

  private async post(path: string, body: Record<string, unknown>): Promise<z.infer<typeof answerSchema>> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, catalog: this.catalog }),
      });
    } catch (e) {
      throw new EngineError('spark', `cannot reach the Spark SQL server at ${this.url}: ${String(e)}`, true, {
        cause: e,
      });
    }
    const answer = answerSchema.parse(await res.json());
    if (!res.ok || answer.error !== undefined) {
      throw new EngineError(
        'spark',
        firstLines(answer.error ?? `HTTP ${res.status}`),
        answer.retryable ?? false,
      );
    }
    return answer;
  }
}

/** Spark error texts carry the whole plan and JVM stack: keep the message part. */
function firstLines(text: string): string {
  const lines = text.split('\n').filter((l) => !/^\s+at /.test(l) && !l.startsWith('JVM stacktrace'));
  return lines.slice(0, 8).join('\n');
}
