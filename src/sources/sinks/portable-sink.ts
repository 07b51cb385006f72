import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlDialect } from '../../engines/dialect/dialect.js';
import { EngineError } from '../../engines/errors.js';
import type { Engine } from '../../engines/types.js';
import { serializedWrite } from '../snowplow/duckdb-bulk-sink.js';
import type { QuarantinedRecord, RawColumn, RawRow, RawWriteOptions } from '../types.js';
import { planDrift } from './drift.js';
import {
  columnSqlType,
  engineDialect,
  rawTypeOf,
  renderChunks,
  rowsRelation,
  STATEMENT_BUDGET,
  textLiteral,
  timestampSql,
} from './sql-rows.js';
import { firstPerKey } from './staging.js';
import {
  IncompatibleColumnError,
  QUARANTINE_COLUMNS,
  QUARANTINE_KEY,
  QUARANTINE_TABLE,
  type CdcSink,
} from './types.js';

/**
 * The raw sink of the server engines (Trino and Spark over Iceberg, BigQuery), over the `Engine` interface and
 * its dialect: the same contract as DuckDB's EngineRawSink (engine-sink.ts), without a key index (none of them
 * has one). Each batch is cut into statements of at most STATEMENT_BUDGET characters of literal rows
 * (sql-rows.ts), and each statement inserts only the rows whose dedupe key the table does not hold yet:
 *
 * - Trino: `MERGE … WHEN NOT MATCHED THEN INSERT`, one Iceberg commit. Two writers at once: Iceberg validates at
 *   commit that no data file was added since the MERGE read the table (serializable isolation, Iceberg's
 *   default for row-level operations), so the later commit fails with ICEBERG_COMMIT_ERROR and is run again
 *   here; the second run sees the first writer's rows. A replay inserts nothing twice, never a duplicate.
 * - BigQuery: the chunk is staged as a table in the scratch dataset (the emulator only merges from a table),
 *   the new rows counted, then one `MERGE … WHEN NOT MATCHED THEN INSERT` (BigQuery runs mutating DML on a
 *   table one at a time, so a second writer's MERGE sees the first one's rows).
 * - Spark: the new rows counted, then the same MERGE. Iceberg on Spark plans an insert-only MERGE as an append,
 *   which does not validate against concurrent commits: writes are serialized per table in this process (as
 *   BulkDuckDbSink's are), and each source has one ingestion workflow across processes.
 *
 * Writes to one table are serialized in this process on every engine (fewer commit conflicts to retry). A crash
 * leaves each chunk committed or not: a re-run inserts what is missing. Schema drift is additive: new columns
 * are added; widening a column is refused on Iceberg (it promotes only int → bigint, float → double and decimal
 * precision, none of which raw types need) and asked of BigQuery.
 */

const CHECKPOINTS = 'tessera_meta.source_checkpoints';
const CHECKPOINT_COLUMNS: readonly RawColumn[] = [
  { name: 'key', type: 'varchar' },
  { name: 'value', type: 'varchar' },
  { name: 'updated_at', type: 'timestamp' },
];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** Attempts of a statement that lost an Iceberg commit race (each re-reads the table). */
const COMMIT_ATTEMPTS = 8;

export interface PortableRawSinkOptions {
  /** Characters of literal rows per statement (default STATEMENT_BUDGET). */
  readonly statementBudget?: number;
}

export class PortableRawSink implements CdcSink {
  readonly dialect: SqlDialect;
  private readonly schemas = new Map<string, RawColumn[]>();
  private readonly budget: number;
  private checkpointsReady: Promise<void> | undefined;

  constructor(
    readonly engine: Engine,
    options: PortableRawSinkOptions = {},
  ) {
    if (engine.name === 'duckdb') throw new Error('DuckDB lands raw rows through EngineRawSink (rawSinkFor)');
    this.dialect = engineDialect(engine);
    this.budget = options.statementBudget ?? STATEMENT_BUDGET;
  }

  async describe(table: string): Promise<readonly RawColumn[] | undefined> {
    const cols = await this.engine.describeTable(table);
    if (!cols || cols.length === 0) {
      this.schemas.delete(table);
      return undefined;
    }
    const out = cols.map((c) => ({ name: c.name, type: rawTypeOf(this.dialect, c.type) }));
    this.schemas.set(table, out);
    return out;
  }

  async ensureTable(
    table: string,
    columns: readonly RawColumn[],
    dedupeKey: readonly string[],
  ): Promise<void> {
    const d = this.dialect;
    const ref = d.tableRef(table);
    const existing = this.schemas.get(table) ?? (await this.describe(table));
    if (!existing) {
      const defs = columns.map((c) => `${d.quote(c.name)} ${columnSqlType(d, c.type)}`);
      try {
        await this.engine.execute(d.createSchema(ref.schema));
        await this.engine.execute(`CREATE TABLE IF NOT EXISTS ${d.table(ref)} (${defs.join(', ')})`);
      } catch (e) {
        // Another writer created it first (IF NOT EXISTS is not atomic on every catalog): theirs is as good.
        if (!(await this.describe(table))) throw e;
        return this.ensureTable(table, columns, dedupeKey);
      }
    } else {
      const plan = planDrift(existing, columns);
      const bad = plan.incompatible[0];
      if (bad) throw new IncompatibleColumnError(table, bad.name, bad.from, bad.to);
      const widen = plan.widen[0];
      // Iceberg cannot promote bigint → decimal/double, decimal → double or date → timestamp.
      if (widen && d.name !== 'bigquery')
        throw new IncompatibleColumnError(table, widen.name, widen.from, widen.to);
      for (const c of plan.add) await this.addColumn(table, c);
      for (const w of plan.widen)
        await this.engine.execute(
          `ALTER TABLE ${d.table(ref)} ALTER COLUMN ${d.quote(w.name)} SET DATA TYPE ${columnSqlType(d, w.to)}`,
        );
      if (plan.add.length === 0 && plan.widen.length === 0) return;
    }
    await this.describe(table);
  }

  async write(
    table: string,
    rows: readonly RawRow[],
    dedupeKey: readonly string[],
    options: RawWriteOptions = {},
  ): Promise<{ inserted: number }> {
    if (rows.length === 0) return { inserted: 0 };
    const columns = this.schemas.get(table) ?? (await this.describe(table));
    if (!columns) throw new Error(`write to ${table} before ensureTable`);
    const known = new Set(columns.map((c) => c.name));
    for (const name of Object.keys(rows[0] ?? {})) {
      if (!known.has(name)) throw new Error(`row column ${name} is not in ${table}; call ensureTable first`);
    }
    const unique = firstPerKey(rows, dedupeKey);
    const prune = options.pruneBy ? this.pruneRange(unique, columns, options.pruneBy) : undefined;
    const chunks = renderChunks(this.dialect, columns, unique, this.budget);
    return serializedWrite(this.engine, table, async () => {
      let inserted = 0;
      for (const chunk of chunks) inserted += await this.insertChunk(table, columns, chunk, dedupeKey, prune);
      return { inserted };
    });
  }

  async quarantine(records: readonly QuarantinedRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureTable(QUARANTINE_TABLE, QUARANTINE_COLUMNS, QUARANTINE_KEY);
    const now = new Date().toISOString();
    await this.write(
      QUARANTINE_TABLE,
      records.map((r) => ({
        source: r.source,
        origin: r.origin,
        reason: r.reason,
        raw: r.raw,
        quarantined_at: now,
      })),
      QUARANTINE_KEY,
    );
  }

  async getCheckpoint(key: string): Promise<string | undefined> {
    await this.checkpointTable();
    const d = this.dialect;
    const rows = await this.engine.query<{ value: string }>(
      `SELECT ${d.quote('value')} FROM ${d.table(CHECKPOINTS)} WHERE ${d.quote('key')} = ${textLiteral(d, key)}`,
    );
    return rows[0]?.value;
  }

  /** One statement replacing the key's value (BigQuery: a DELETE and an INSERT in one transaction script). */
  async putCheckpoint(key: string, value: string): Promise<void> {
    await this.checkpointTable();
    const d = this.dialect;
    const t = d.table(CHECKPOINTS);
    const k = textLiteral(d, key);
    const v = textLiteral(d, value);
    const now = timestampSql(d, new Date().toISOString());
    const [kc, vc, uc] = ['key', 'value', 'updated_at'].map((c) => d.quote(c)) as [string, string, string];
    if (d.name === 'bigquery') {
      await this.engine.execute(
        `BEGIN TRANSACTION; DELETE FROM ${t} WHERE ${kc} = ${k}; ` +
          `INSERT INTO ${t} (${kc}, ${vc}, ${uc}) VALUES (${k}, ${v}, ${now}); COMMIT TRANSACTION;`,
      );
      return;
    }
    await this.retryingCommit(() =>
      this.engine.execute(
        `MERGE INTO ${t} AS t USING (SELECT ${k} AS ${kc}, ${v} AS ${vc}, ${now} AS ${uc}) AS s ` +
          `ON t.${kc} = s.${kc} WHEN MATCHED THEN UPDATE SET ${vc} = s.${vc}, ${uc} = s.${uc} ` +
          `WHEN NOT MATCHED THEN INSERT (${kc}, ${vc}, ${uc}) VALUES (s.${kc}, s.${vc}, s.${uc})`,
      ),
    );
  }

  async discardSnapshot(table: string, lsn: string): Promise<number> {
    if (!(await this.describe(table))) return 0;
    const d = this.dialect;
    const where = `WHERE ${d.quote('_op')} = 'r' AND ${d.quote('_lsn')} = ${textLiteral(d, lsn)}`;
    const [row] = await this.engine.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${d.table(table)} ${where}`,
    );
    const n = Number(row?.n ?? 0);
    if (n > 0) await this.retryingCommit(() => this.engine.execute(`DELETE FROM ${d.table(table)} ${where}`));
    return n;
  }

  /** Inserts the chunk's rows whose key is not in the table; returns how many it inserted. */
  private async insertChunk(
    table: string,
    columns: readonly RawColumn[],
    chunk: readonly string[],
    dedupeKey: readonly string[],
    prune: { column: string; lo: string; hi: string } | undefined,
  ): Promise<number> {
    const d = this.dialect;
    const target = d.table(table);
    const q = (c: string): string => d.quote(c);
    const names = columns.map((c) => q(c.name));
    const match = [
      ...dedupeKey.map((k) => `t.${q(k)} = s.${q(k)}`),
      ...(prune ? [`t.${q(prune.column)} BETWEEN ${prune.lo} AND ${prune.hi}`] : []),
    ].join(' AND ');
    const relation = rowsRelation(d, columns, chunk, 's');
    if (dedupeKey.length === 0) {
      await this.engine.execute(`INSERT INTO ${target} (${names.join(', ')}) SELECT * FROM ${relation}`);
      return chunk.length;
    }
    const values = names.map((n) => `s.${n}`);
    const merge = (source: string): string =>
      `MERGE INTO ${target} AS t USING ${source} ON ${match} WHEN NOT MATCHED THEN ` +
      `INSERT (${names.join(', ')}) VALUES (${values.join(', ')})`;
    const countNew = async (source: string): Promise<number> => {
      const [row] = await this.engine.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM ${source} WHERE NOT EXISTS (SELECT 1 FROM ${target} AS t WHERE ${match})`,
      );
      return Number(row?.n ?? 0);
    };
    if (d.name === 'trino') {
      // Trino answers a MERGE with the rows it changed.
      const [row] = await this.retryingCommit(() =>
        this.engine.query<{ rows: number | string }>(merge(relation)),
      );
      return Number(row?.rows ?? 0);
    }
    if (d.name === 'bigquery') {
      const scratch =
        (d as SqlDialect & { readonly scratchDataset?: string }).scratchDataset ?? 'tessera_scratch';
      const staged = `${q(scratch)}.${q(`raw_batch_${randomUUID().replaceAll('-', '')}`)}`;
      await this.engine.execute(`CREATE TABLE ${staged} AS SELECT * FROM ${relation}`);
      try {
        // The target first: in GoogleSQL a dataset after `s` may resolve as a column of s (`raw` of the quarantine).
        const [row] = await this.engine.query<{ n: number | string }>(
          `SELECT count(*) AS n FROM ${target} AS t RIGHT JOIN ${staged} AS s ON ${match} ` +
            `WHERE t.${q(dedupeKey[0] ?? '')} IS NULL`,
        );
        const n = Number(row?.n ?? 0);
        if (n > 0) await this.engine.execute(merge(`${staged} AS s`));
        return n;
      } finally {
        // The client skips scratch drops (slow on the emulator); BigQuery expires scratch tables after a day.
        await this.engine.execute(`DROP TABLE IF EXISTS ${staged}`).catch(() => undefined);
      }
    }
    // Spark takes no column aliases on a MERGE source: the VALUES relation goes inside a subquery.
    const n = await countNew(relation);
    if (n > 0)
      await this.retryingCommit(() => this.engine.execute(merge(`(SELECT * FROM ${relation}) AS s`)));
    return n;
  }

  /** Runs a write again while it loses Iceberg commit races (a retryable EngineError), up to COMMIT_ATTEMPTS. */
  private async retryingCommit<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (e) {
        const conflict =
          e instanceof EngineError &&
          (e.retryable || /conflict|CommitFailed|Failed to commit/i.test(e.message));
        if (!conflict || attempt >= COMMIT_ATTEMPTS) throw e;
        await sleep(20 * attempt * attempt);
      }
    }
  }

  private async addColumn(table: string, c: RawColumn): Promise<void> {
    const d = this.dialect;
    const ifNotExists = d.name === 'spark' ? '' : 'IF NOT EXISTS ';
    try {
      await this.engine.execute(
        `ALTER TABLE ${d.table(table)} ADD COLUMN ${ifNotExists}${d.quote(c.name)} ${columnSqlType(d, c.type)}`,
      );
    } catch (e) {
      // Added meanwhile by another writer (Spark has no IF NOT EXISTS here).
      const now = await this.describe(table);
      if (!now?.some((x) => x.name === c.name)) throw e;
    }
  }

  /** The batch's range of the prune column as literals, when every row has a canonical value. */
  private pruneRange(
    rows: readonly RawRow[],
    columns: readonly RawColumn[],
    column: string,
  ): { column: string; lo: string; hi: string } | undefined {
    if (columns.find((c) => c.name === column)?.type !== 'timestamp') return undefined;
    let lo: string | undefined;
    let hi: string | undefined;
    for (const r of rows) {
      const v = r[column];
      // Text orders like time only within one spelling ('…00Z' sorts after '…00.500Z').
      if (typeof v !== 'string' || !ISO_UTC.test(v) || (lo !== undefined && v.length !== lo.length))
        return undefined;
      if (lo === undefined || v < lo) lo = v;
      if (hi === undefined || v > hi) hi = v;
    }
    return lo && hi
      ? { column, lo: timestampSql(this.dialect, lo), hi: timestampSql(this.dialect, hi) }
      : undefined;
  }

  private checkpointTable(): Promise<void> {
    this.checkpointsReady ??= this.ensureTable(CHECKPOINTS, CHECKPOINT_COLUMNS, ['key']).catch(
      (e: unknown) => {
        this.checkpointsReady = undefined;
        throw e;
      },
    );
    return this.checkpointsReady;
  }
}
