import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BigQuery, type Job } from '@google-cloud/bigquery';
import type { SqlClient, SqlSession } from '../core/client.js';
import { currentJobScope } from '../core/job-scope.js';
import { EngineError } from '../errors.js';
import type { Row, SqlParam } from '../types.js';
import { TX_TOKEN } from './bigquery-dialect.js';
import { rowsFromRaw, type FieldSchema } from './bigquery-values.js';

/**
 * Runs SQL as BigQuery query jobs (on BigQuery or the emulator).
 *
 * Job ids: inside a job scope (core/job-scope.ts: the same key on every attempt of a step), every
 * statement that writes gets an id derived from the scope key, the statement's text and how many times
 * this attempt already ran that text. A retried activity therefore asks for the same ids; BigQuery
 * answers 409 for a job that exists, and the client re-attaches to it (polls it, reads its result)
 * instead of starting, and paying for, a second one. Reads always get fresh ids (their answer depends on
 * when they run). While a job runs, the client polls it and calls the scope's heartbeat.
 *
 * Transactions: BigQuery has no interactive transaction over REST (the emulator has no sessions either),
 * so `transaction(fn)` defers writes. DML statements are collected and sent together, as one
 * `BEGIN TRANSACTION; …; COMMIT TRANSACTION;` script, when something must see their effect (a read or a
 * statement touching a table they touch) or when `fn` returns; if `fn` throws first, they are never sent
 * (the rollback). Statements that touch none of the pending tables (staging tables, schema changes, reads
 * of other tables) run at once: BigQuery transactions cannot hold DDL anyway. A DML statement's row count
 * is answered up front by counting what it will touch (INSERT … SELECT and UPDATE … FROM; other DML
 * report 0). Staging tables are named per transaction (the dialect's `__TX__` token; the same name on a
 * retry of the same step, so a staged result is re-attached too).
 */

export interface BigQueryClientOptions {
  readonly projectId: string;
  readonly location?: string;
  /** `http://127.0.0.1:PORT` for the emulator; default: Google's endpoint. */
  readonly apiEndpoint?: string;
  /** Dataset of staging tables (created on open; tables there expire after a day on BigQuery). */
  readonly scratchDataset: string;
  /** Rows per result page. */
  readonly pageSize?: number;
  /** A SELECT's result goes to a table of its own in the scratch dataset (bigquery-engine.ts `queryResults`). */
  readonly resultsInScratch?: boolean;
  /** Called by close() (a private emulator stops). */
  readonly onClose?: () => Promise<void>;
}

export interface JobOutcome {
  readonly jobId: string;
  readonly rows: Row[];
  /** Rows changed by a DML statement (0 otherwise). */
  readonly affectedRows: number;
  /** Bytes the job processed (a dry run: would process). */
  readonly bytesProcessed: number;
  /** True when the job already existed (a retried attempt re-attached to it). */
  readonly attached: boolean;
}

/** A statement whose job has a result set: a query (DDL, DML and scripts have none, and refuse a destination). */
const RESULT_SET = /^\s*\(*\s*(SELECT|WITH)\b/i;
const POLL_START_MS = 200;
const POLL_MAX_MS = 2000;
/** Reasons BigQuery gives for failures that may pass on a retry of the same job. */
const RETRYABLE_REASONS = new Set([
  'backendError',
  'rateLimitExceeded',
  'jobRateLimitExceeded',
  'jobBackendError',
]);

interface ApiErrorLike {
  readonly code?: number;
  readonly message?: string;
  readonly errors?: readonly { readonly reason?: string; readonly message?: string }[];
}

interface JobMetadata {
  readonly status?: {
    readonly state?: string;
    readonly errorResult?: { readonly reason?: string; readonly message?: string } | null;
    readonly errors?: readonly { readonly reason?: string; readonly message?: string }[] | null;
  };
  readonly statistics?: {
    readonly totalBytesProcessed?: string | number;
    readonly query?: {
      readonly numDmlAffectedRows?: string | number;
      readonly totalBytesProcessed?: string | number;
      readonly statementType?: string;
    };
  };
}

export class BigQueryClient implements SqlClient {
  readonly bigquery: BigQuery;
  /** Per scope key: statement text → times run in this attempt; and transactions opened. */
  private readonly seen = new WeakMap<object, Map<string, number>>();
  private scratchReady: Promise<void> | undefined;

  constructor(readonly options: BigQueryClientOptions) {
    this.bigquery = new BigQuery({
      projectId: options.projectId,
      ...(options.location ? { location: options.location } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint, authClient: noCredentials() } : {}),
    });
  }

  async run(sql: string): Promise<number> {
    return (await this.job(sql, { write: true, txId: randomTxId() })).affectedRows;
  }

  async query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    try {
      return (await this.job(sql, { write: false, txId: randomTxId(), ...(params ? { params } : {}) }))
        .rows as T[];
    } catch (e) {
      if (e instanceof MissingDatasetError) return [];
      throw e;
    }
  }

  /** Bytes a statement would process, without running it (a dry run is free on BigQuery). */
  async dryRun(sql: string): Promise<number> {
    return (await this.job(sql, { write: false, txId: randomTxId(), dryRun: true })).bytesProcessed;
  }

  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    const tx = new DeferredTransaction(this, this.nextTxId());
    const result = await fn(tx);
    await tx.flush();
    return result;
  }

  async close(): Promise<void> {
    // The REST client holds no connections that need closing.
    await this.options.onClose?.();
  }

  /**
   * `CREATE SCHEMA IF NOT EXISTS` through the datasets API: the emulator registers a dataset made by SQL only
   * half (its tables then fail with "dataset is not found"), and the API names the location explicitly.
   */
  async ensureDataset(dataset: string): Promise<void> {
    const ref = this.bigquery.dataset(dataset);
    const [exists] = await ref.exists();
    if (exists) return;
    await ref
      .create(this.options.location ? { location: this.options.location } : {})
      .catch(async (e: unknown) => {
        // Another step created it meanwhile: BigQuery answers 409, the emulator 400/500 "already created".
        if ((e as ApiErrorLike).code === 409 || (await existsNow(ref))) return;
        throw wrapError(e, `CREATE SCHEMA ${dataset}`, false);
      });
  }

  /**
   * A staging table some shared SQL creates as `TEMP` (scd2-state.ts) is an ordinary table of the scratch
   * dataset here: BigQuery's temp tables live only as long as the one script that made them.
   */
  private scratchNotTemp(text: string): string {
    const scratch = `\`${this.options.scratchDataset}\`.`;
    return text.replace(
      /^CREATE (OR REPLACE )?TEMP(ORARY)? TABLE\s+(?=`)/i,
      (m, orReplace: string | undefined) =>
        text.slice(m.length).startsWith(scratch) ? `CREATE ${orReplace ?? ''}TABLE ` : m,
    );
  }

  /**
   * Staging tables are not dropped: a DROP TABLE (also the one inside CREATE OR REPLACE) takes the emulator
   * 6-10 s, so every transaction stages under names of its own, and on BigQuery the scratch dataset's default
   * expiration removes them after a day.
   */
  private isScratchDrop(text: string): boolean {
    return (
      /^DROP TABLE IF EXISTS\s+`/i.test(text) &&
      tablesOf(text).every((t) => t.startsWith(`${this.options.scratchDataset.toLowerCase()}.`))
    );
  }

  /** Creates the scratch dataset once (a failure is retried by the next call). */
  ensureScratch(): Promise<void> {
    if (!this.scratchReady) {
      this.scratchReady = (async () => {
        const dataset = this.bigquery.dataset(this.options.scratchDataset);
        const [exists] = await dataset.exists();
        if (!exists) {
          await dataset
            .create({ defaultTableExpirationMs: String(24 * 3600 * 1000) })
            .catch(async (e: unknown) => {
              if ((e as ApiErrorLike).code !== 409 && !(await existsNow(dataset))) throw e;
            });
        }
      })();
      this.scratchReady.catch(() => {
        this.scratchReady = undefined;
      });
    }
    return this.scratchReady;
  }

  /** Runs one statement (or script) as a job and waits for it. */
  async job(
    sql: string,
    opts: {
      readonly write: boolean;
      readonly txId: string;
      readonly params?: readonly SqlParam[];
      readonly dryRun?: boolean;
    },
  ): Promise<JobOutcome> {
    const text = deleteWithWhere(
      normalizeDdlTypes(this.scratchNotTemp(sql.replaceAll(TX_TOKEN, opts.txId).trim())),
    );
    if (!opts.dryRun) {
      const dataset = createSchemaTarget(text);
      if (dataset !== undefined) {
        await this.ensureDataset(dataset);
        return { jobId: '', rows: [], affectedRows: 0, bytesProcessed: 0, attached: false };
      }
      if (this.isScratchDrop(text))
        return { jobId: '', rows: [], affectedRows: 0, bytesProcessed: 0, attached: false };
    }
    if (text.includes(this.options.scratchDataset)) await this.ensureScratch();
    const durable = opts.write && !opts.dryRun ? this.durableJobId(text) : undefined;
    // A job a predecessor attempt left failed is not the answer: the retry runs it again, under the next id
    // (`<id>_1`, `<id>_2`, ...: a later retry finds those the same way).
    for (let again = 0; ; again++) {
      const jobId = durable
        ? again === 0
          ? durable
          : `${durable}_${again}`
        : `tessera_${randomUUID().replaceAll('-', '')}`;
      const outcome = await this.runJob(text, jobId, opts);
      if (outcome !== 'attached-failed') return outcome;
    }
  }

  private async runJob(
    text: string,
    jobId: string,
    opts: { readonly params?: readonly SqlParam[]; readonly dryRun?: boolean },
  ): Promise<JobOutcome | 'attached-failed'> {
    // Parameter values travel as text with an explicit type (the REST API's form; the emulator insists on it).
    const params = opts.params?.map((p) => (p === null ? null : String(p)));
    const types = opts.params?.map(paramType);
    let job: Job;
    let attached = false;
    // Named after the job, so a retry that re-attaches reads its own result.
    const toScratch = this.options.resultsInScratch === true && !opts.dryRun && RESULT_SET.test(text);
    if (toScratch) await this.ensureScratch();
    try {
      [job] = await this.bigquery.createQueryJob({
        query: text,
        jobId,
        useLegacySql: false,
        ...(toScratch
          ? {
              destination: this.bigquery.dataset(this.options.scratchDataset).table(`result_${jobId}`),
              writeDisposition: 'WRITE_TRUNCATE',
            }
          : {}),
        ...(this.options.location ? { location: this.options.location } : {}),
        ...(params && types ? { params, types } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
      });
    } catch (e) {
      const err = e as ApiErrorLike;
      // BigQuery answers 409; the emulator 400 "job … is already created" (and rolls back its second run).
      if (err.code === 409 || /job \S+ is already created/.test(err.message ?? '')) {
        // A predecessor attempt of this step started this very job: wait for it instead of running it twice.
        job = this.bigquery.job(jobId, this.options.location ? { location: this.options.location } : {});
        attached = true;
      } else {
        throw wrapError(e, text, isMissingDataset((e as ApiErrorLike).message ?? '', text));
      }
    }
    let metadata: JobMetadata;
    try {
      metadata = opts.dryRun ? (job.metadata as JobMetadata) : await this.waitFor(job, text);
    } catch (e) {
      if (attached) return 'attached-failed';
      throw e;
    }
    const stats = metadata.statistics;
    const bytesProcessed = Number(stats?.query?.totalBytesProcessed ?? stats?.totalBytesProcessed ?? 0);
    if (opts.dryRun) return { jobId, rows: [], affectedRows: 0, bytesProcessed, attached };
    const affectedRows = Number(stats?.query?.numDmlAffectedRows ?? 0);
    const rows = await this.readRows(job, text);
    return { jobId, rows, affectedRows, bytesProcessed, attached };
  }

  /** A staging table of the transaction being run (the dialect's spelling, with the `__TX__` token). */
  dialectTempTable(name: string): string {
    return `\`${this.options.scratchDataset}\`.\`${TX_TOKEN}${name}\``;
  }

  /** A transaction's staging-name id: derived from the step (stable across attempts) or random. */
  nextTxId(): string {
    const scope = currentJobScope();
    if (!scope) return randomTxId();
    const n = this.bump(scope, '\u0000tx');
    return `t${hash(`${scope.key}\u0000${n}`).slice(0, 12)}_`;
  }

  private durableJobId(text: string): string {
    const scope = currentJobScope();
    if (!scope) return `tessera_${randomUUID().replaceAll('-', '')}`;
    const n = this.bump(scope, text);
    return `tessera_${hash(scope.key).slice(0, 20)}_${hash(`${text}\u0000${n}`).slice(0, 20)}`;
  }

  private bump(scope: object, key: string): number {
    let counts = this.seen.get(scope);
    if (!counts) {
      counts = new Map();
      this.seen.set(scope, counts);
    }
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n;
  }

  private async waitFor(job: Job, text: string): Promise<JobMetadata> {
    let delay = POLL_START_MS;
    for (;;) {
      const [metadata] = (await job.getMetadata()) as [JobMetadata, ...unknown[]];
      const status = metadata.status;
      if (status?.state === 'DONE') {
        const failure = status.errorResult ?? undefined;
        if (failure) {
          const message = failure.message ?? failure.reason ?? 'job failed';
          const Cls = isMissingDataset(message, text) ? MissingDatasetError : EngineError;
          throw new Cls(
            'bigquery',
            `${message} (job ${job.id ?? '?'})\n  while running: ${short(text)}`,
            RETRYABLE_REASONS.has(failure.reason ?? ''),
          );
        }
        return metadata;
      }
      currentJobScope()?.heartbeat?.();
      await sleep(delay);
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  }

  private async readRows(job: Job, text: string): Promise<Row[]> {
    const out: Row[] = [];
    let pageToken: string | undefined;
    do {
      const [raw, , response] = (await job
        .getQueryResults({
          skipParsing: true,
          autoPaginate: false,
          maxResults: this.options.pageSize ?? 10_000,
          ...(pageToken ? { pageToken } : {}),
        })
        .catch((e: unknown) => {
          throw wrapError(e, text, false);
        })) as unknown as [unknown[], unknown, { schema?: { fields?: FieldSchema[] }; pageToken?: string }];
      const fields = response?.schema?.fields ?? [];
      if (fields.length > 0) out.push(...rowsFromRaw(fields, raw ?? []));
      pageToken = response?.pageToken ?? undefined;
      if (pageToken) currentJobScope()?.heartbeat?.();
    } while (pageToken);
    return out;
  }
}

/**
 * The write-behind session of `BigQueryClient.transaction` (see the class comment there).
 */
class DeferredTransaction implements SqlSession {
  private readonly pending: string[] = [];
  private readonly pendingTables = new Set<string>();
  private staged = 0;

  constructor(
    private readonly client: BigQueryClient,
    private readonly txId: string,
  ) {}

  async run(sql: string): Promise<number> {
    let statement = deleteWithWhere(sql.trim());
    if (isDml(statement)) {
      let count = countSql(statement);
      const joined = joinedDml(statement);
      if (joined) {
        // The joined source becomes a staging table, the statement a MERGE on it: GoogleSQL has no DELETE …
        // USING, and the emulator has no UPDATE … FROM, no MERGE from a subquery, and evaluates a correlated
        // EXISTS in a DML's WHERE as true for every row.
        const source = this.client.dialectTempTable(`__tessera_dml_${++this.staged}`);
        await this.run(`CREATE OR REPLACE TABLE ${source} AS ${joined.source}`);
        const on = `MERGE ${joined.target} AS ${joined.alias} USING ${source} AS ${joined.sourceAlias} ON ${joined.condition}`;
        statement =
          joined.set === undefined
            ? `${on} WHEN MATCHED THEN DELETE`
            : `${on} WHEN MATCHED THEN UPDATE SET ${joined.set}`;
        count =
          `SELECT count(*) AS n FROM ${joined.target} AS ${joined.alias} INNER JOIN ${source} AS ` +
          `${joined.sourceAlias} ON ${joined.condition}`;
      }
      let n = 0;
      if (count) {
        if (this.conflicts(count)) await this.flush();
        const [row] = (await this.client.job(count, { write: false, txId: this.txId })).rows;
        n = Number(row?.['n'] ?? 0);
      }
      this.pending.push(statement);
      for (const t of tablesOf(statement)) this.pendingTables.add(t);
      return n;
    }
    if (this.conflicts(statement)) await this.flush();
    return (await this.client.job(statement, { write: true, txId: this.txId })).affectedRows;
  }

  async query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    if (this.conflicts(sql)) await this.flush();
    try {
      const outcome = await this.client.job(sql, {
        write: false,
        txId: this.txId,
        ...(params ? { params } : {}),
      });
      return outcome.rows as T[];
    } catch (e) {
      if (e instanceof MissingDatasetError) return [];
      throw e;
    }
  }

  /** Sends the pending DML as one transaction. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const script =
      this.pending.length === 1
        ? (this.pending[0] ?? '')
        : `BEGIN TRANSACTION;\n${this.pending.join(';\n')};\nCOMMIT TRANSACTION;`;
    this.pending.length = 0;
    this.pendingTables.clear();
    await this.client.job(script, { write: true, txId: this.txId });
  }

  private conflicts(sql: string): boolean {
    if (this.pending.length === 0) return false;
    return tablesOf(sql).some((t) => this.pendingTables.has(t));
  }
}

/** Whether a dataset exists, asked again after a failed create (false when even that fails). */
async function existsNow(dataset: { exists(): Promise<[boolean]> }): Promise<boolean> {
  return dataset.exists().then(
    ([exists]) => exists,
    () => false,
  );
}

/** The dataset of the dialect's `CREATE SCHEMA IF NOT EXISTS \`name\``, or undefined for other statements. */
function createSchemaTarget(sql: string): string | undefined {
  const m = /^CREATE SCHEMA IF NOT EXISTS\s+`((?:[^`\\]|\\.)+)`\s*$/i.exec(sql);
  return m ? (m[1] ?? '').replace(/\\(.)/g, '$1') : undefined;
}

const INT64_ALIASES = /\b(INTEGER|BIGINT|SMALLINT|TINYINT|BYTEINT|INT)\b/gi;

/**
 * Column types in CREATE/ALTER TABLE spelled with BigQuery's aliases (INTEGER, BIGINT, BOOLEAN: the shared
 * bookkeeping DDL uses them) as the canonical names: the emulator's DDL knows only those.
 */
function normalizeDdlTypes(sql: string): string {
  if (!/^(CREATE (OR REPLACE )?TABLE|ALTER TABLE)\b/i.test(sql) || /\bAS\s+SELECT\b/i.test(sql)) return sql;
  return sql
    .split(/('(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)/)
    .map((part, i) =>
      i % 2 === 1 ? part : part.replace(INT64_ALIASES, 'INT64').replace(/\bBOOLEAN\b/gi, 'BOOL'),
    )
    .join('');
}

/** GoogleSQL's DELETE needs a WHERE clause: the shared `DELETE FROM t` (replaceTable) gets `WHERE TRUE`. */
function deleteWithWhere(sql: string): string {
  return /^DELETE FROM\s+`(?:[^`\\]|\\.)+`(?:\.`(?:[^`\\]|\\.)+`)?\s*$/i.test(sql)
    ? `${sql} WHERE TRUE`
    : sql;
}

/** Describing a table of a dataset that does not exist is "no table", not an error. */
function isMissingDataset(message: string, text: string): boolean {
  return text.includes('INFORMATION_SCHEMA') && /not ?found/i.test(message);
}

/** Thrown for INFORMATION_SCHEMA reads of a dataset that does not exist (callers read it as no rows). */
export class MissingDatasetError extends EngineError {}

const DML = /^(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b/i;

function isDml(sql: string): boolean {
  return DML.test(sql);
}

/** Backquoted `dataset`.`table` references (every table the dialect renders), normalized. */
function tablesOf(sql: string): string[] {
  const out: string[] = [];
  for (const m of sql.matchAll(/`((?:[^`\\]|\\.)+)`\.`((?:[^`\\]|\\.)+)`/g))
    out.push(`${m[1]}.${m[2]}`.toLowerCase());
  return out;
}

/** How many rows an INSERT … SELECT will insert, as a query; undefined for other statements. */
function countSql(sql: string): string | undefined {
  const insert = /^INSERT INTO\s+\S+\s*\([^)]*\)\s*(SELECT\b[\s\S]*)$/i.exec(sql);
  if (insert) return `SELECT count(*) AS n FROM (${insert[1] ?? ''}) AS __tessera_count`;
  return undefined;
}

interface JoinedDml {
  readonly target: string;
  readonly alias: string;
  /** The SELECT the statement joins. */
  readonly source: string;
  readonly sourceAlias: string;
  readonly condition: string;
  /** The SET list of an UPDATE; undefined for a DELETE. */
  readonly set?: string;
}

/**
 * `UPDATE t AS t SET … FROM (…) AS a WHERE …` and `DELETE FROM t AS t USING (…) AS k WHERE …` (the SCD2
 * merge's closes and re-derivations), taken apart; undefined for other statements.
 */
function joinedDml(sql: string): JoinedDml | undefined {
  const update =
    /^UPDATE\s+(\S+)\s+AS\s+(\w+)\s+SET\s+([\s\S]*?)\s+FROM\s+\(([\s\S]*)\)\s+AS\s+(\w+)\s+WHERE\s+([\s\S]*)$/i.exec(
      sql,
    );
  if (update) {
    const [, target = '', alias = '', set = '', source = '', sourceAlias = '', condition = ''] = update;
    return { target, alias, set, source, sourceAlias, condition };
  }
  const del =
    /^DELETE FROM\s+(\S+)\s+AS\s+(\w+)\s+USING\s+\(([\s\S]*)\)\s+AS\s+(\w+)\s+WHERE\s+([\s\S]*)$/i.exec(sql);
  if (del) {
    const [, target = '', alias = '', source = '', sourceAlias = '', condition = ''] = del;
    return { target, alias, source, sourceAlias, condition };
  }
  return undefined;
}

/**
 * The emulator authenticates nobody: requests carry no credentials, so the auth library never goes looking
 * for them (probing the GCE metadata server, and warning on stderr when there is none).
 */
function noCredentials(): NonNullable<ConstructorParameters<typeof BigQuery>[0]>['authClient'] {
  const client = { getRequestHeaders: async () => new Headers() };
  return client as unknown as NonNullable<ConstructorParameters<typeof BigQuery>[0]>['authClient'];
}

function paramType(p: SqlParam): string {
  if (typeof p === 'number') return Number.isInteger(p) ? 'INT64' : 'FLOAT64';
  if (typeof p === 'boolean') return 'BOOL';
  return 'STRING';
}

function randomTxId(): string {
  return `r${randomUUID().replaceAll('-', '').slice(0, 12)}_`;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function short(sql: string): string {
  return sql.length > 300 ? `${sql.slice(0, 300)}…` : sql;
}

function wrapError(e: unknown, sql: string, missingDataset: boolean): EngineError {
  if (e instanceof EngineError) return e;
  const err = e as ApiErrorLike;
  const message = err.message ?? String(e);
  const reasons = (err.errors ?? []).map((x) => x.reason ?? '');
  const retryable = reasons.some((r) => RETRYABLE_REASONS.has(r)) || err.code === 503 || err.code === 429;
  const Cls = missingDataset ? MissingDatasetError : EngineError;
  return new Cls('bigquery', `${message}\n  while running: ${short(sql)}`, retryable, { cause: e });
}
