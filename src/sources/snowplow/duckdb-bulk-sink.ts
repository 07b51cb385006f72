import { tmpdir } from 'node:os';
import type { Engine } from '../../engines/types.js';
import { firstPerKey, stageRows, withStagedFile, type StagedRows } from '../sinks/staging.js';
import type { QuarantinedRecord, RawColumn, RawRow, RawSink } from '../types.js';

/**
 * A RawSink for high-volume raw tables on DuckDB (the clickstream): same contract as the engine sink it wraps
 * (ensureTable, dedupe on the key, quarantine are delegated to it), but a batch is serialized on the caller's
 * turn and inserted later, so callers may keep several batches in flight: the next batch is parsed while the
 * previous one is inserted. Inserts into one table are serialized per engine.
 *
 * Dedupe is one `INSERT … ANTI JOIN` the table on the dedupe key per batch (a crash lands all or nothing; a replay
 * inserts nothing), not a key index: tables it creates have no PRIMARY KEY. On DuckDB 1.5 `INSERT OR IGNORE`
 * already hash-joins the whole key column per statement (it is planned as a MERGE), and on top of that pays for
 * the ART index: ~3 CPU-s per 300k events landing into a non-empty table vs ~0.5 s for the anti-join insert
 * (bench/snowplow.ts). The anti-join is exact only with one writer per table at a time: inserts are serialized
 * per engine and table here (`serializedWrite`, also used by the DuckDB-native file path), and across
 * processes each source has a single ingestion workflow (its workflow id). A table created earlier with a
 * PRIMARY KEY keeps it and works the same. Caveat, in-memory databases only: DuckDB compresses an unindexed
 * table at its commit-time checkpoints (~1.8 CPU-s per 122,880-row row group of raw lines) and skips an indexed
 * one, so small batches cost more there than with the key index; on a file-backed database both are compressed
 * at checkpoints and the anti-join is the cheaper of the two.
 */

export interface BulkDuckDbSinkOptions {
  /** Folder for the staging files (default os.tmpdir(); /dev/shm avoids the disk). */
  readonly tmpDir?: string;
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Per engine and table: the tail of its insert queue (shared by every sink over that engine). */
const queues = new WeakMap<Engine, Map<string, Promise<unknown>>>();

/**
 * Runs `write` after every write to `table` on `engine` queued before it (in this process): the anti-join
 * dedupe needs one writer per table at a time.
 */
export function serializedWrite<T>(engine: Engine, table: string, write: () => Promise<T>): Promise<T> {
  let byTable = queues.get(engine);
  if (!byTable) queues.set(engine, (byTable = new Map()));
  const prev = byTable.get(table) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(write);
  byTable.set(table, next);
  return next;
}

export class BulkDuckDbSink implements RawSink {
  private readonly columns = new Map<string, readonly RawColumn[]>();
  private readonly keys = new Map<string, readonly string[]>();
  private readonly tmpDir: string;

  constructor(
    private readonly engine: Engine,
    /** The sink that owns table creation, drift and quarantine (EngineRawSink). */
    private readonly inner: RawSink,
    options: BulkDuckDbSinkOptions = {},
  ) {
    if (engine.name !== 'duckdb') throw new Error(`BulkDuckDbSink speaks DuckDB SQL, not ${engine.name}`);
    this.tmpDir = options.tmpDir ?? tmpdir();
  }

  async ensureTable(
    table: string,
    columns: readonly RawColumn[],
    dedupeKey: readonly string[],
  ): Promise<void> {
    // No key index (see above): the dedupe key is only used by write().
    await this.inner.ensureTable(table, columns, []);
    this.keys.set(table, dedupeKey);
    const known = this.columns.get(table) ?? [];
    const merged = [...known, ...columns.filter((c) => !known.some((k) => k.name === c.name))];
    this.columns.set(table, merged);
  }

  quarantine(records: readonly QuarantinedRecord[]): Promise<void> {
    return this.inner.quarantine(records);
  }

  write(table: string, rows: readonly RawRow[], dedupeKey: readonly string[]): Promise<{ inserted: number }> {
    const columns = this.columns.get(table);
    // Not ensured through us: the wrapped sink writes, still one writer per table (its dedupe may be an anti-join).
    if (!columns) return serializedWrite(this.engine, table, () => this.inner.write(table, rows, dedupeKey));
    if (rows.length === 0) return Promise.resolve({ inserted: 0 });
    // Serialize now (on the caller's turn), insert when the table's previous write is done.
    const staged = stageRows(firstPerKey(rows, dedupeKey), columns);
    return serializedWrite(this.engine, table, () => this.insert(table, staged, dedupeKey));
  }

  private async insert(
    table: string,
    staged: StagedRows,
    dedupeKey: readonly string[],
  ): Promise<{ inserted: number }> {
    const [schema, name] = table.split('.');
    const target = `${q(schema ?? '')}.${q(name ?? '')}`;
    const key = dedupeKey.length > 0 ? dedupeKey : (this.keys.get(table) ?? []);
    const on = key.map((k) => `landed.${q(k)} = batch.${q(k)}`).join(' AND ');
    const res = await withStagedFile(this.tmpDir, staged, (select) =>
      this.engine.query<{ Count: number }>(
        on === ''
          ? `INSERT INTO ${target} BY NAME ${select}`
          : `INSERT INTO ${target} BY NAME SELECT batch.* FROM (${select}) AS batch ANTI JOIN ${target} AS landed ON ${on}`,
      ),
    );
    return { inserted: Number(res[0]?.Count ?? 0) };
  }
}
