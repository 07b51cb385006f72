/**
 * pgoutput decodes exactly what wal2json decodes, on the cases where the two plugins' messages differ in
 * shape: every column type the capture converts (booleans arrive as `t`/`f` text instead of JSON true/false,
 * numbers as text instead of bare JSON numbers), a key-only old row under REPLICA IDENTITY DEFAULT (pgoutput
 * sends every column, NULL outside the key), unchanged TOASTed values with and without a full old row, one
 * TRUNCATE of two tables, and a relation altered mid-stream (announced again). Two slots on one database,
 * each source into its own warehouse; the raw tables must be equal row for row, every column included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engines/types.js';
import { PostgresCdcSource } from '../../src/sources/cdc/postgres-source.js';
import { PostgresStreamCdcSource } from '../../src/sources/cdc/postgres-stream-source.js';
import { memoryWarehouses } from '../helpers/memory-warehouse.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

let db: ScratchDatabase;
const warehouses = memoryWarehouses();

beforeAll(async () => {
  db = await scratchDatabase();
  await db.client.query(`
    CREATE TYPE mood AS ENUM ('happy', 'sad');
    CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
    CREATE TABLE kinds (
      id bigint PRIMARY KEY,
      flag boolean, small smallint, big bigint, real4 real, float8 double precision, amount numeric(14, 4),
      label text, code char(3), tags text[], scores int[], doc jsonb, raw json, uid uuid, bin bytea,
      day date, at_time time, at timestamp, at_tz timestamptz, feeling mood, positive positive_int,
      note text
    );
    ALTER TABLE kinds ALTER COLUMN note SET STORAGE EXTERNAL;
    CREATE TABLE notes (id int PRIMARY KEY, body text, n int);
    ALTER TABLE notes ALTER COLUMN body SET STORAGE EXTERNAL;
    ALTER TABLE notes REPLICA IDENTITY FULL;
  `);
});
afterAll(async () => {
  await warehouses.closeAll();
  await db?.drop();
});

const dump = (engine: Engine, table: string) =>
  engine.query(`SELECT * FROM raw.scratch_${table}_changes ORDER BY _lsn, _seq`);

describe('pgoutput and wal2json', () => {
  it('land identical raw rows for every type, key-only deletes, TOAST, truncates and schema changes', async () => {
    const base = { url: db.url, database: 'scratch', tables: ['kinds', 'notes'] };
    const a = await warehouses.open();
    const b = await warehouses.open();
    const wal2json = new PostgresCdcSource({ ...base, slot: 'pgo_eq_wal2json', plugin: 'wal2json' });
    const pgoutput = new PostgresStreamCdcSource({ ...base, slot: 'pgo_eq_pgoutput', holdSlot: true });
    try {
      await wal2json.init(a.sink);
      await pgoutput.init(b.sink);
      const long = `'${'x'.repeat(9000)}'`;
      await db.client.query(`
        INSERT INTO kinds VALUES
          (1, true, -3, 9007199254740993, 1.5, 0.1, 12345678.1250, 'a "quoted", line
break', 'ab', '{"x y",NULL,z}', '{{1,2},{3,4}}', '{"k": [1, 2.50]}', '{"raw" : 1}',
           'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdeadbeef', '2026-02-28', '23:59:59.5',
           '2026-11-25 12:00:00.123456', '2026-11-25 12:00:00.5+02', 'happy', 7, ${long}),
          (2, false, NULL, NULL, 'NaN', '-Infinity', -0.5, NULL, NULL, '{}', NULL, 'null', NULL, NULL, NULL,
           NULL, NULL, NULL, 'infinity', NULL, NULL, NULL);
        INSERT INTO notes VALUES (1, ${long}, 1), (2, 'short', 2);
      `);
      // Unchanged TOASTed note: left out of the new row; DEFAULT identity has no old row to restore it.
      await db.client.query(`UPDATE kinds SET flag = NOT flag, amount = amount * 2 WHERE id = 1`);
      // FULL identity: the old row restores the unchanged TOASTed body.
      await db.client.query(`UPDATE notes SET n = n + 10`);
      // Key change and key-only old rows under DEFAULT identity.
      await db.client.query(`UPDATE kinds SET id = 3 WHERE id = 2`);
      await db.client.query(`DELETE FROM kinds WHERE id = 3`);
      await db.client.query(`DELETE FROM notes WHERE id = 2`);
      // The relation changes mid-stream: a new column, then rows using it.
      await db.client.query(`ALTER TABLE notes ADD COLUMN extra numeric`);
      await db.client.query(`INSERT INTO notes VALUES (3, 'three', 3, 3.30)`);
      await db.client.query(`TRUNCATE kinds, notes`);
      await db.client.query(`INSERT INTO notes VALUES (4, 'four', 4, NULL)`);

      for (let i = 0; i < 20; i++) if ((await wal2json.pollBatch(a.sink, { maxChanges: 3 })).caughtUp) break;
      for (let i = 0; i < 20; i++) if ((await pgoutput.pollBatch(b.sink, { maxChanges: 3 })).caughtUp) break;

      const kinds = await dump(b.engine, 'kinds');
      const notes = await dump(b.engine, 'notes');
      expect(kinds.map((r) => r['_op'])).toEqual(['c', 'c', 'u', 'u', 'd', 't']);
      expect(notes.map((r) => r['_op'])).toEqual(['c', 'c', 'u', 'u', 'd', 'c', 't', 'c']);
      // wal2json writes NaN and ±Infinity as JSON null (JSON has no spelling for them); pgoutput keeps them.
      const viaWal2json = await dump(a.engine, 'kinds');
      expect(viaWal2json[1]).toMatchObject({ real4: null, float8: null });
      expect([kinds[1]?.['real4'], kinds[1]?.['float8']].map(String)).toEqual(['NaN', '-Infinity']);
      const specials = { real4: null, float8: null };
      expect(kinds.map((r, i) => (i === 1 || i === 3 ? { ...r, ...specials } : r))).toEqual(viaWal2json);
      expect(notes).toEqual(await dump(a.engine, 'notes'));
      // What the cases above are about, spelled out on the pgoutput side.
      const updated = kinds[2] ?? {};
      expect(updated['flag']).toBe(false);
      expect(updated['note']).toBeNull(); // not sent, nothing to restore it from
      expect(String(kinds[0]?.['big'])).toBe('9007199254740993');
      expect(kinds[4]).toMatchObject({ _op: 'd', id: 3, flag: null }); // the key only
      expect(String(notes[2]?.['body'])).toHaveLength(9000); // restored from the old row
      expect(notes[5]).toMatchObject({ id: 3, n: 3 });
    } finally {
      await pgoutput.dropSlot().catch(() => undefined);
      await pgoutput.close();
      await wal2json.dropSlot().catch(() => undefined);
      await wal2json.close();
    }
  });
});
