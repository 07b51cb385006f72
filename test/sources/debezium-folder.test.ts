/** The landing folder: files read in name order as one stream, landed files moved to done/, the file holding the held-back transaction kept. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDebeziumFolder } from '../../src/sources/debezium/file.js';
import { MemorySink } from '../../src/sources/sinks/memory-sink.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-landing-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ev = (op: string, txId: number, lsn: number, last: number, id: number) =>
  JSON.stringify({
    op,
    before: null,
    after: { vendor_id: id, name: `v${id}` },
    source: {
      ts_us: 1_764_064_800_000_000 + lsn,
      txId,
      lsn,
      sequence: JSON.stringify([String(last), String(lsn)]),
      table: 'vendors',
    },
  });
const msg = (txId: number, lsn: number, last: number) =>
  JSON.stringify({
    op: 'm',
    source: {
      ts_us: 1_764_064_800_000_000 + lsn,
      txId,
      lsn,
      sequence: JSON.stringify([String(last), String(lsn)]),
    },
    message: { prefix: 'hb', content: '' },
  });

describe('readDebeziumFolder', () => {
  it('lands files in order, keeps the file whose last transaction is unplaced, and is idempotent', async () => {
    const opts = { source: 'inventory_db' };
    await writeFile(join(dir, '0001.ndjson'), [ev('c', 10, 100, 50, 1), ev('c', 11, 200, 150, 2)].join('\n'));
    await writeFile(join(dir, '0002.ndjson'), [ev('c', 11, 210, 150, 3), ''].join('\n')); // tx 11 spans two files
    const sink = new MemorySink();
    const first = await readDebeziumFolder(dir, sink, opts);
    expect(first).toMatchObject({ changes: 1, pending: '0001.ndjson:2', done: [] });
    expect(sink.rows('raw.inventory_db_vendors_changes').map((r) => r['vendor_id'])).toEqual([1]);

    await writeFile(join(dir, '0003.ndjson'), msg(12, 300, 250)); // a heartbeat places tx 11
    const second = await readDebeziumFolder(dir, sink, opts);
    expect(second).toMatchObject({
      changes: 3,
      inserted: 2,
      done: ['0001.ndjson', '0002.ndjson', '0003.ndjson'],
    });
    expect(second.pending).toBeUndefined(); // only a heartbeat is held back: nothing to re-read
    expect(
      sink.rows('raw.inventory_db_vendors_changes').map((r) => [r['vendor_id'], r['_lsn'], r['_seq']]),
    ).toEqual([
      [1, '0000000000000096', 0],
      [2, '00000000000000FA', 0],
      [3, '00000000000000FA', 1],
    ]);
    expect((await readdir(join(dir, 'done'))).sort()).toEqual(['0001.ndjson', '0002.ndjson', '0003.ndjson']);
    expect(await readDebeziumFolder(dir, sink, opts)).toMatchObject({ files: [], changes: 0 });
  });
});
