import { tmpdir } from 'node:os';
import type { Engine } from '../../engines/types.js';
import type { QuarantinedRecord, RawColumn, RawColumnType, RawRow, RawWriteOptions } from '../types.js';
import { planDrift } from './drift.js';
import { firstPerKey, stageRows, withStagedFile, type StagedRows } from './staging.js';
import {
  IncompatibleColumnError,
  QUARANTINE_COLUMNS,
  QUARANTINE_KEY,
  QUARANTINE_TABLE,
  type CdcSink,
  type PreparedWrite,
} from './types.js';

/**
 * RawSink over the DuckDB engine. Each raw table gets a PRIMARY KEY on its dedupe key and every write is
 * one `INSERT OR IGNORE ... SELECT` statement (atomic on its own, so a crash leaves all or nothing; a
 * replay inserts nothing twice, even from two writers at once). Rows travel as a temporary staged file
 * (staging.ts) read with the table's column types: no SQL literals, and far cheaper than a bound JSON
 * parameter. DuckDB-specific SQL: other engines get their own sink.
 */

export interface EngineRawSinkOptions {
  /** Folder for the staged batch files (default os.tmpdir(); /dev/shm avoids the disk). */
  readonly tmpDir?: string;
}

const DUCK: Record<RawColumnType, string> = {
  varchar: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  date: 'DATE',
  json: 'JSON',
  // Raw decimals keep up to 10 fraction digits (rates, amounts); money in this schema is integer cents.
  decimal: 'DECIMAL(38,10)',
};

function rawType(duckType: string): RawColumnType {
  const t = duckType.toUpperCase();
  if (t.startsWith('DECIMAL') || t.startsWith('NUMERIC')) return 'decimal';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?)$/.test(t)) return 'bigint';
  if (t === 'DOUBLE' || t === 'FLOAT' || t === 'REAL') return 'double';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (t === 'JSON') return 'json';
  return 'varchar';
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function tableRef(table: string): { schema: string; sql: string } {
  const [schema, name, extra] = table.split('.');
  if (!schema || !name || extra !== undefined) throw new Error(`raw table must be schema.name, got ${table}`);
  return { schema, sql: `${q(schema)}.${q(name)}` };
}

const CHECKPOINTS = 'tessera_meta.source_checkpoints';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * The batch's min and max of the prune column as SQL literals, when every row has a value that orders as
 * text the way the column orders: canonical ISO-8601 UTC for timestamps, or integers. Else undefined.
 */
function pruneRange(
  rows: readonly RawRow[],
  columns: readonly RawColumn[],
  column: string,
): { column: string; lo: string; hi: string } | undefined {
  const type = columns.find((c) => c.name === column)?.type;
  if (type === 'timestamp') {
    let lo: string | undefined;
    let hi: string | undefined;
    for (const r of rows) {
      const v = r[column];
      if (typeof v !== 'string' || !ISO_UTC.test(v)) return undefined;
      if (lo === undefined || v < lo) lo = v;
      if (hi === undefined || v > hi) hi = v;
    }
    return lo && hi ? { column, lo: `TIMESTAMPTZ '${lo}'`, hi: `TIMESTAMPTZ '${hi}'` } : undefined;
  }
  if (type === 'bigint') {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of rows) {
      const v = r[column];
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return undefined;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return lo <= hi ? { column, lo: String(lo), hi: String(hi) } : undefined;
  }
  return undefined;
}

/** A column of the rows (the first row's) that the table lacks. */
function unknownColumn(rows: readonly RawRow[], columns: readonly RawColumn[]): string | undefined {
  const known = new Set(columns.map((c) => c.name));
  for (const name of Object.keys(rows[0] ?? {})) if (!known.has(name)) return name;
  return undefined;
}

export class EngineRawSink implements CdcSink {
  private readonly schemas = new Map<string, RawColumn[]>();
  private ready: Promise<void> | undefined;
  private readonly tmpDir: string;

  constructor(
    readonly engine: Engine,
    options: EngineRawSinkOptions = {},
  ) {
    this.tmpDir = options.tmpDir ?? tmpdir();
    if (engine.name !== 'duckdb')
      throw new Error(`EngineRawSink speaks DuckDB SQL; engine '${engine.name}' needs its own sink`);
  }

  async describe(table: string): Promise<readonly RawColumn[] | undefined> {
    const cols = await this.engine.describeTable(table);
    if (!cols) {
      this.schemas.delete(table);
      return undefined;
    }
    const out = cols.map((c) => ({ name: c.name, type: rawType(c.type) }));
    this.schemas.set(table, out);
    return out;
  }

  async ensureTable(
    table: string,
    columns: readonly RawColumn[],
    dedupeKey: readonly string[],
  ): Promise<void> {
    const ref = tableRef(table);
    const existing = this.schemas.get(table) ?? (await this.describe(table));
    if (!existing) {
      const defs = columns.map((c) => `${q(c.name)} ${DUCK[c.type]}`);
      const pk = dedupeKey.length > 0 ? `, PRIMARY KEY (${dedupeKey.map(q).join(', ')})` : '';
      try {
        await this.engine.execute(
          `CREATE SCHEMA IF NOT EXISTS ${q(ref.schema)}; CREATE TABLE IF NOT EXISTS ${ref.sql} (${defs.join(', ')}${pk})`,
        );
      } catch (e) {
        // Two writers creating it at once (two Kafka partitions' first batches): DuckDB fails the later
        // transaction with a catalog write-write conflict. The table the other created is as good as ours.
        if (!(await this.describe(table))) throw e;
        return this.ensureTable(table, columns, dedupeKey);
      }
    } else {
      const plan = planDrift(existing, columns);
      const bad = plan.incompatible[0];
      if (bad) throw new IncompatibleColumnError(table, bad.name, bad.from, bad.to);
      for (const c of plan.add)
        await this.engine.execute(
          `ALTER TABLE ${ref.sql} ADD COLUMN IF NOT EXISTS ${q(c.name)} ${DUCK[c.type]}`,
        );
      for (const w of plan.widen)
        await this.engine.execute(`ALTER TABLE ${ref.sql} ALTER COLUMN ${q(w.name)} TYPE ${DUCK[w.to]}`);
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
    const unknown = unknownColumn(rows, columns);
    if (unknown !== undefined)
      throw new Error(`row column ${unknown} is not in ${table}; call ensureTable first`);
    return this.stage(table, columns, rows, dedupeKey, options).run();
  }

  /** `write`'s serialization now, its insert later (CdcSink.prepareWrite). */
  prepareWrite(
    table: string,
    rows: readonly RawRow[],
    dedupeKey: readonly string[],
    options: RawWriteOptions = {},
  ): PreparedWrite | undefined {
    const columns = this.schemas.get(table);
    if (!columns || rows.length === 0 || unknownColumn(rows, columns) !== undefined) return undefined;
    return this.stage(table, columns, rows, dedupeKey, options);
  }

  private stage(
    table: string,
    columns: readonly RawColumn[],
    rows: readonly RawRow[],
    dedupeKey: readonly string[],
    options: RawWriteOptions,
  ): PreparedWrite {
    const unique = firstPerKey(rows, dedupeKey);
    const prune = options.pruneBy ? pruneRange(unique, columns, options.pruneBy) : undefined;
    const staged = stageRows(unique, columns);
    return { run: () => this.insert(tableRef(table).sql, staged, dedupeKey, prune) };
  }

  private async insert(
    ref: string,
    staged: StagedRows,
    dedupeKey: readonly string[],
    prune: { column: string; lo: string; hi: string } | undefined,
  ): Promise<{ inserted: number }> {
    const res = await withStagedFile(this.tmpDir, staged, async (select) => {
      const insert = (sql: string) => this.engine.query<{ Count: number }>(sql);
      // Rows of `select` whose key is not in the table (among rows in `range`, when given), as one INSERT.
      const antiJoin = (range?: string) =>
        `INSERT INTO ${ref} BY NAME SELECT s.* FROM (${select}) s WHERE NOT EXISTS (SELECT 1 FROM ${ref} t WHERE ` +
        `${range ? `${range} AND ` : ''}${dedupeKey.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ')})`;
      if (prune && dedupeKey.length > 0) {
        // Keys already landed are looked up among the rows in the batch's range of the prune column
        // (zone maps skip the rest of the table), and a plain INSERT then only checks the primary key:
        // measured ~30% cheaper than INSERT OR IGNORE. A key landed meanwhile by another writer fails the
        // statement on the primary key (nothing written); INSERT OR IGNORE then settles it.
        try {
          return await insert(antiJoin(`t.${q(prune.column)} BETWEEN ${prune.lo} AND ${prune.hi}`));
        } catch (e) {
          if (!/constraint|duplicate key/i.test(String(e))) throw e;
        }
      }
      try {
        return await insert(`INSERT OR IGNORE INTO ${ref} BY NAME ${select}`);
      } catch (e) {
        // A table created without a key index (raw.snowplow_events, see BulkDuckDbSink): the anti-join alone.
        if (dedupeKey.length === 0 || !/no UNIQUE\/PRIMARY KEY constraints/i.test(String(e))) throw e;
        return insert(antiJoin());
      }
    });
    return { inserted: Number(res[0]?.Count ?? 0) };
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
    const rows = await this.engine.query<{ value: string }>(
      `SELECT value FROM ${CHECKPOINTS} WHERE key = ?`,
      [key],
    );
    return rows[0]?.value;
  }

  async putCheckpoint(key: string, value: string): Promise<void> {
    await this.checkpointTable();
    await this.engine.query(`INSERT OR REPLACE INTO ${CHECKPOINTS} VALUES (?, ?, now())`, [key, value]);
  }

  async discardSnapshot(table: string, lsn: string): Promise<number> {
    if (!(await this.describe(table))) return 0;
    const res = await this.engine.query<{ Count: number }>(
      `DELETE FROM ${tableRef(table).sql} WHERE _op = 'r' AND _lsn = ?`,
      [lsn],
    );
    return Number(res[0]?.Count ?? 0);
  }

  private checkpointTable(): Promise<void> {
    this.ready ??= this.engine.execute(
      `CREATE SCHEMA IF NOT EXISTS tessera_meta;
       CREATE TABLE IF NOT EXISTS ${CHECKPOINTS} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, updated_at TIMESTAMPTZ)`,
    );
    return this.ready;
  }
}
