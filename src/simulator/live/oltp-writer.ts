import { createReadStream, existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { ChangeRecord } from '../../sources/cdc/change.js';
import { REPLAY_CLOCK_PREFIX } from '../../sources/cdc/replay-clock.js';
import { DebeziumDecoder, debeziumInput } from '../../sources/debezium/index.js';
import { migrateOltp, type OltpDatabase } from '../../sources/oltp/migrate.js';
import { PiiPolicy } from '../../sources/pii.js';
import type { RawValue } from '../../sources/types.js';

/**
 * Live mode's OLTP side: replays the simulated history (the Debezium files the simulator wrote under
 * `<landingDir>/debezium/<db>/`, or their `done/` copies) into real PostgreSQL databases, one real
 * transaction per simulated transaction, in commit order. Each transaction carries its simulated commit
 * time as a replay-clock message (src/sources/cdc/replay-clock.ts), so a capture with `replayClock: true`
 * lands the same `_commit_time` as the landing transport.
 *
 * Resumable: each transaction also records how many transactions have been replayed in
 * `tessera_replay_progress` (not captured: CDC reads only the configured tables), so running it again
 * continues where it stopped and never applies a transaction twice.
 */

export interface OltpWriterOptions {
  readonly landingDir: string;
  /** Connection URL per database; databases left out are not written. */
  readonly urls: Partial<Readonly<Record<OltpDatabase, string>>>;
  /** Apply the migrations in src/sources/oltp first (default true). */
  readonly migrate?: boolean;
  /** Transactions sent per round trip (each still commits on its own). */
  readonly batch?: number;
}

export interface OltpWriteResult {
  readonly transactions: number;
  readonly changes: number;
  /** Transactions skipped because an earlier run had applied them. */
  readonly skipped: number;
}

const PROGRESS_TABLE = 'tessera_replay_progress';

/** Replays every configured database's history; returns what each one applied. */
export async function writeOltpLive(
  opts: OltpWriterOptions,
): Promise<Partial<Record<OltpDatabase, OltpWriteResult>>> {
  const out: Partial<Record<OltpDatabase, OltpWriteResult>> = {};
  for (const [db, url] of Object.entries(opts.urls) as [OltpDatabase, string | undefined][]) {
    if (url) out[db] = await replayDatabase(db, url, opts);
  }
  return out;
}

interface TableInfo {
  readonly key: string;
  readonly arrays: ReadonlySet<string>;
}

async function replayDatabase(
  db: OltpDatabase,
  url: string,
  opts: OltpWriterOptions,
): Promise<OltpWriteResult> {
  const client = new pg.Client({ connectionString: url, application_name: `tessera-sim-${db}` });
  await client.connect();
  try {
    await client.query(`SET TimeZone = 'UTC'`);
    if (opts.migrate ?? true) await migrateOltp(client, db);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (db text PRIMARY KEY, transactions bigint NOT NULL)`,
    );
    const done = Number(
      (
        await client.query<{ n: string }>(`SELECT transactions AS n FROM ${PROGRESS_TABLE} WHERE db = $1`, [
          db,
        ])
      ).rows[0]?.n ?? 0,
    );
    const tables = await describeTables(client);
    const batchSize = opts.batch ?? 200;
    let index = 0;
    let changes = 0;
    let pending: string[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const sql = pending.join('\n');
      pending = [];
      await client.query(sql);
    };
    for await (const tx of transactions(join(opts.landingDir, 'debezium', db), db)) {
      index++;
      if (index <= done) continue;
      changes += tx.length;
      pending.push(transactionSql(client, db, tables, tx, index));
      if (pending.length >= batchSize) await flush();
    }
    await flush();
    return { transactions: Math.max(0, index - done), changes, skipped: Math.min(done, index) };
  } finally {
    await client.end();
  }
}

/** The primary key (first key column) and array columns of every table in `public`. */
async function describeTables(client: pg.Client): Promise<ReadonlyMap<string, TableInfo>> {
  const keys = await client.query<{ table: string; column: string }>(
    `SELECT c.relname AS table, a.attname AS column
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      WHERE i.indisprimary AND n.nspname = 'public'`,
  );
  const arrays = await client.query<{ table: string; column: string }>(
    `SELECT table_name AS table, column_name AS column FROM information_schema.columns
      WHERE table_schema = 'public' AND data_type = 'ARRAY'`,
  );
  const out = new Map<string, TableInfo>();
  for (const k of keys.rows)
    out.set(k.table, {
      key: k.column,
      arrays: new Set(arrays.rows.filter((a) => a.table === k.table).map((a) => a.column)),
    });
  return out;
}

/** The simulated transactions of one database, in commit order, as the Debezium decoder reads them. */
async function* transactions(dir: string, db: string): AsyncGenerator<ChangeRecord[]> {
  const files = await historyFiles(dir);
  const decoder = new DebeziumDecoder(db, PiiPolicy.none());
  let open: ChangeRecord[] = [];
  const take = function* (records: readonly ChangeRecord[]): Generator<ChangeRecord[]> {
    for (const r of records) {
      if (open.length > 0 && open[0]?.txid !== r.txid) {
        yield open;
        open = [];
      }
      open.push(r);
    }
  };
  for (const file of files) {
    const lines = createInterface({
      input: createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      yield* take(decoder.push(debeziumInput(line, `${file}:${n}`)));
    }
  }
  const bad = decoder.drainQuarantine();
  if (bad.length > 0)
    throw new Error(`${db}: ${bad.length} undecodable events, first: ${bad[0]?.reason ?? ''}`);
  // The simulator closes every day with a heartbeat, so only a message-only transaction stays held back.
  if (decoder.pendingHasRows)
    throw new Error(`${db}: the history ends inside a transaction that no later event places`);
  if (open.length > 0) yield open;
}

/** `<dir>/*.jsonl` and `<dir>/done/*.jsonl` (a landing loader moves files there), merged in name order. */
async function historyFiles(dir: string): Promise<string[]> {
  const list = async (d: string) =>
    existsSync(d)
      ? (await readdir(d)).filter((f) => /\.(ndjson|jsonl|json)$/.test(f)).map((f) => ({ f, d }))
      : [];
  const all = [...(await list(join(dir, 'done'))), ...(await list(dir))];
  return all.sort((a, b) => (a.f < b.f ? -1 : a.f > b.f ? 1 : 0)).map(({ f, d }) => join(d, f));
}

function transactionSql(
  client: pg.Client,
  db: string,
  tables: ReadonlyMap<string, TableInfo>,
  tx: readonly ChangeRecord[],
  index: number,
): string {
  const first = tx[0];
  if (!first) return '';
  const lit = (v: string) => client.escapeLiteral(v);
  const ident = (v: string) => client.escapeIdentifier(v);
  const statements = [
    'BEGIN;',
    `SELECT pg_logical_emit_message(true, ${lit(REPLAY_CLOCK_PREFIX)}, ${lit(first.commitTime)});`,
  ];
  for (const r of tx) {
    const info = tables.get(r.table);
    if (!info) throw new Error(`${db}: table ${r.table} is not in the database (run the migrations)`);
    const value = (column: string, v: RawValue | undefined): string => {
      if (v === null || v === undefined) return 'NULL';
      if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
      if (typeof v === 'number') return String(v);
      return lit(info.arrays.has(column) ? pgArrayLiteral(v) : v);
    };
    const cols = Object.keys(r.values);
    const key = `${ident(info.key)} = ${value(info.key, r.values[info.key])}`;
    if (r.op === 'c')
      statements.push(
        `INSERT INTO ${ident(r.table)} (${cols.map(ident).join(', ')}) VALUES (${cols.map((c) => value(c, r.values[c])).join(', ')});`,
      );
    else if (r.op === 'u')
      statements.push(
        `UPDATE ${ident(r.table)} SET ${cols.map((c) => `${ident(c)} = ${value(c, r.values[c])}`).join(', ')} WHERE ${key};`,
      );
    else if (r.op === 'd') statements.push(`DELETE FROM ${ident(r.table)} WHERE ${key};`);
    else if (r.op === 't') statements.push(`TRUNCATE ${ident(r.table)};`);
  }
  statements.push(
    `INSERT INTO ${PROGRESS_TABLE} (db, transactions) VALUES (${lit(db)}, ${index}) ON CONFLICT (db) DO UPDATE SET transactions = EXCLUDED.transactions;`,
    'COMMIT;',
  );
  return statements.join('\n');
}

/** A JSON array (how both transports carry PostgreSQL arrays) → PostgreSQL's array input syntax. */
function pgArrayLiteral(json: string): string {
  const items = JSON.parse(json) as unknown[];
  const element = (v: unknown): string => {
    if (v === null) return 'NULL';
    if (Array.isArray(v)) return `{${v.map(element).join(',')}}`;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  };
  return `{${items.map(element).join(',')}}`;
}
