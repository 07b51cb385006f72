import pg from 'pg';
import { canonicalTimestamp } from './canonical.js';
import type { PgColumn } from './pg-records.js';

/**
 * The initial snapshot, consistent with the slot's start: the slot is created over a replication
 * connection with EXPORT_SNAPSHOT, which returns the consistent point and the name of a snapshot that
 * sees exactly the transactions committed before it. A second session adopts that snapshot
 * (REPEATABLE READ + SET TRANSACTION SNAPSHOT) and reads the tables while the replication connection
 * stays open and idle (the exported snapshot lives until its next command). Changes decoded from the slot
 * are then exactly those committed after what the snapshot saw: nothing missed, nothing twice.
 */

export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

export function parseTableRef(spec: string): TableRef {
  const parts = spec.split('.');
  if (parts.length === 1 && parts[0]) return { schema: 'public', name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], name: parts[1] };
  throw new Error(`table must be 'name' or 'schema.name', got ${JSON.stringify(spec)}`);
}

export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface CreatedSlot {
  /** `X/Y`. */
  readonly consistentPoint: string;
  readonly snapshotName: string;
  /** Keep open and idle until the snapshot has been read, then end it. */
  readonly connection: pg.Client;
}

export async function createSlotExportingSnapshot(
  url: string,
  slot: string,
  plugin: 'wal2json' | 'pgoutput' = 'wal2json',
): Promise<CreatedSlot> {
  // node-postgres passes `replication=database` in the startup packet; simple queries then accept
  // replication commands such as CREATE_REPLICATION_SLOT.
  const connection = new pg.Client({ connectionString: url, replication: 'database' } as pg.ClientConfig);
  await connection.connect();
  try {
    const res = await connection.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${ident(slot)} LOGICAL ${plugin} EXPORT_SNAPSHOT`,
    );
    const row = res.rows[0];
    if (!row?.snapshot_name) throw new Error(`CREATE_REPLICATION_SLOT ${slot} returned no snapshot`);
    return { consistentPoint: row.consistent_point, snapshotName: row.snapshot_name, connection };
  } catch (e) {
    await connection.end().catch(() => undefined);
    throw e;
  }
}

/** Current columns of a table (attnum order), with type OIDs. */
export async function describePgTable(client: pg.ClientBase, table: TableRef): Promise<PgColumn[]> {
  const res = await client.query<{ name: string; typeoid: number }>(
    `SELECT a.attname AS name, a.atttypid::int AS typeoid
       FROM pg_attribute a
      WHERE a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table.schema, table.name],
  );
  if (res.rows.length === 0)
    throw new Error(`table ${table.schema}.${table.name} has no columns or does not exist`);
  return res.rows;
}

/** Starts the snapshot transaction on `client`; returns the snapshot's time (canonical ISO). */
export async function beginSnapshot(client: pg.ClientBase, snapshotName: string): Promise<string> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
  const res = await client.query<{ now: string }>('SELECT now()::text AS now');
  return canonicalTimestamp(res.rows[0]?.now ?? '');
}

/**
 * Reads one table inside the snapshot transaction with a server-side cursor, every column as text
 * (the same text wal2json emits, so one converter serves both), `batchRows` rows at a time.
 */
export async function* readTable(
  client: pg.ClientBase,
  table: TableRef,
  columns: readonly PgColumn[],
  batchRows: number,
): AsyncGenerator<(string | null)[][]> {
  const cursor = `tessera_snap_${table.name.replace(/\W/g, '_')}`;
  const select = columns.map((c) => `${ident(c.name)}::text`).join(', ');
  await client.query(
    `DECLARE ${ident(cursor)} NO SCROLL CURSOR FOR SELECT ${select} FROM ${ident(table.schema)}.${ident(table.name)}`,
  );
  try {
    for (;;) {
      const res = await client.query<(string | null)[]>({
        text: `FETCH ${batchRows} FROM ${ident(cursor)}`,
        rowMode: 'array',
      });
      if (res.rows.length === 0) return;
      yield res.rows;
    }
  } finally {
    await client.query(`CLOSE ${ident(cursor)}`).catch(() => undefined);
  }
}
