import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../engines/types.js';
import type { QuarantinedRecord, RawColumn, RawColumnType, RawRow, RawSink } from '../types.js';

/**
 * A RawSink for high-volume raw tables on DuckDB (the clickstream): same contract as the engine sink it wraps
 * (ensureTable, dedupe on the key, quarantine are delegated to it), but a batch reaches DuckDB as a temporary
 * file (unquoted delimited text, JSON when a value would break it) read by `read_csv`/`read_json`, instead of
 * one bound JSON parameter: DuckDB takes ~1 s to transform a bound 20k-row parameter, ~50–100 ms to read the file.
 * Writes to one table are serialized (DuckDB would abort concurrent INSERT OR IGNOREs of one key), so callers
 * may keep several batches in flight: the next batch is parsed while the previous one is inserted.
 * Temp files hold raw event data for the duration of one INSERT and are deleted after it.
 */

const DUCK: Record<RawColumnType, string> = {
  varchar: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  date: 'DATE',
  json: 'VARCHAR', // read as text, cast below: the document is stored, not a JSON string of it
  decimal: 'DECIMAL(38,10)',
};

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

export interface BulkDuckDbSinkOptions {
  /** Folder for the staging files (default os.tmpdir(); /dev/shm avoids the disk). */
  readonly tmpDir?: string;
}

let fileSeq = 0;

export class BulkDuckDbSink implements RawSink {
  private readonly columns = new Map<string, readonly RawColumn[]>();
  private readonly locks = new Map<string, Promise<unknown>>();
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
    await this.inner.ensureTable(table, columns, dedupeKey);
    const known = this.columns.get(table) ?? [];
    const merged = [...known, ...columns.filter((c) => !known.some((k) => k.name === c.name))];
    this.columns.set(table, merged);
  }

  quarantine(records: readonly QuarantinedRecord[]): Promise<void> {
    return this.inner.quarantine(records);
  }

  write(table: string, rows: readonly RawRow[], dedupeKey: readonly string[]): Promise<{ inserted: number }> {
    const columns = this.columns.get(table);
    if (!columns) return this.inner.write(table, rows, dedupeKey); // not ensured through us: slow path
    if (rows.length === 0) return Promise.resolve({ inserted: 0 });
    // Serialize now (on the caller's turn), insert when the table's previous write is done.
    const unique = dedupe(rows, dedupeKey);
    const staged = delimited(unique, columns) ?? { format: 'json' as const, body: JSON.stringify(unique) };
    const prev = this.locks.get(table) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.insert(table, columns, staged));
    this.locks.set(table, next);
    return next;
  }

  private async insert(
    table: string,
    columns: readonly RawColumn[],
    staged: Staged,
  ): Promise<{ inserted: number }> {
    const file = join(this.tmpDir, `tessera-bulk-${process.pid}-${++fileSeq}.${staged.format}`);
    await writeFile(file, staged.body);
    try {
      const spec = `{${columns.map((c) => `${lit(c.name)}: ${lit(DUCK[c.type])}`).join(', ')}}`;
      const json = columns.filter((c) => c.type === 'json');
      const replace =
        json.length > 0
          ? ` REPLACE (${json.map((c) => `${q(c.name)}::JSON AS ${q(c.name)}`).join(', ')})`
          : '';
      const reader =
        staged.format === 'csv'
          ? `read_csv(${lit(file)}, delim = '${SEP}', quote = '', escape = '', header = false, nullstr = '${NUL}', ` +
            `auto_detect = false, columns = ${spec})`
          : `read_json(${lit(file)}, format = 'array', columns = ${spec})`;
      const [schema, name] = table.split('.');
      const res = await this.engine.query<{ Count: number }>(
        `INSERT OR IGNORE INTO ${q(schema ?? '')}.${q(name ?? '')} BY NAME SELECT *${replace} FROM ${reader}`,
      );
      return { inserted: Number(res[0]?.Count ?? 0) };
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }
}

interface Staged {
  readonly format: 'csv' | 'json';
  readonly body: string;
}

// Unit separator between values, group separator for NULL: control characters text data does not carry.
// A batch where some value does contain them (or a line break) falls back to JSON.
const SEP = '\x1f';
const NUL = '\x1d';

/**
 * Rows as unquoted delimited text: ~40% cheaper to build than JSON and ~30% cheaper for DuckDB to read,
 * or undefined when a value contains the separator, the NULL marker or a line break.
 */
function delimited(rows: readonly RawRow[], columns: readonly RawColumn[]): Staged | undefined {
  const names = columns.map((c) => c.name);
  const lines = new Array<string>(rows.length);
  const cells = new Array<string>(names.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as RawRow;
    for (let j = 0; j < names.length; j++) {
      const v = r[names[j] as string];
      if (v === null || v === undefined) cells[j] = NUL;
      else if (typeof v === 'string') {
        if (v.indexOf(SEP) >= 0 || v.indexOf(NUL) >= 0) return undefined;
        cells[j] = v;
      } else cells[j] = String(v);
    }
    const line = cells.join(SEP);
    if (BREAK.test(line)) return undefined;
    lines[i] = line;
  }
  return { format: 'csv', body: lines.join('\n') };
}

const BREAK = /[\n\r]/;

/** INSERT OR IGNORE refuses duplicates inside one statement: keep the first of each key. */
function dedupe(rows: readonly RawRow[], key: readonly string[]): readonly RawRow[] {
  if (key.length === 0) return rows;
  const seen = new Set<string>();
  const out: RawRow[] = [];
  for (const r of rows) {
    const k = key.map((c) => String(r[c] ?? '')).join('\u0000');
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  }
  return out.length === rows.length ? rows : out;
}
