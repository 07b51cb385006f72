/**
 * Issue 15 leftovers: a Debezium landing file whose every event was quarantined vouches for nothing (it goes to
 * rejected/ and holds the folder's watermark, as Snowplow files do), and live mode hands the sources' PII rules to
 * the landing folder loaders too (a debezium/<db> folder gets the rules of source <db>).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { landingLoaders, type LandingOptions } from '../../src/sources/landing/landing-loaders.js';

const calls: LandingOptions[] = [];
vi.mock('../../src/sources/landing/landing-loaders.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/sources/landing/landing-loaders.js')>();
  return {
    ...original,
    landingLoaders: (o: LandingOptions) => {
      calls.push(o);
      return original.landingLoaders(o);
    },
  };
});

const source = (txId: number, lsn: number, last: number, table: string) => ({
  ts_us: 1_764_064_800_000_000 + lsn,
  txId,
  lsn,
  sequence: JSON.stringify([String(last), String(lsn)]),
  table,
});
const vendor = (txId: number, lsn: number, last: number, id: unknown) =>
  JSON.stringify({
    op: 'c',
    before: null,
    after: { vendor_id: id, name: `v${String(id)}` },
    source: source(txId, lsn, last, 'vendors'),
  });
const heartbeat = (txId: number, lsn: number, last: number) =>
  JSON.stringify({ op: 'm', source: source(txId, lsn, last, ''), message: { prefix: 'hb', content: '' } });

let engine: Engine;
let dir: string;
beforeEach(async () => {
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'tessera-leftovers-'));
});
afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

const write = async (rel: string, text: string): Promise<void> => {
  await mkdir(join(dir, rel, '..'), { recursive: true });
  await writeFile(join(dir, rel), text);
};

describe('a Debezium landing file whose every event is quarantined', () => {
  it('goes to rejected/, not done/, and holds the watermark until its day lands readable', async () => {
    const loader = landingLoaders({ engine, landingDir: dir })['inventory_db'];
    const land = () => loader?.land?.(() => undefined);
    await write(
      'debezium/inventory_db/inventory_db-20261124.ndjson',
      [vendor(10, 100, 50, 1), heartbeat(11, 200, 150)].join('\n'),
    );
    expect(await land()).toMatchObject({ landed: 1, watermark: { watermark: '2026-11-25T00:00:00.000Z' } });

    await write(
      'debezium/inventory_db/inventory_db-20261125.ndjson',
      ['not json', '{"op": "c"}', ''].join('\n'),
    );
    await write(
      'debezium/inventory_db/inventory_db-20261126.ndjson',
      [vendor(12, 300, 250, 3), heartbeat(13, 400, 350)].join('\n'),
    );
    const r = await land();
    expect(r).toMatchObject({ landed: 1, quarantined: 2 });
    const folder = join(dir, 'debezium', 'inventory_db');
    expect(existsSync(join(folder, 'rejected', 'inventory_db-20261125.ndjson'))).toBe(true);
    expect(existsSync(join(folder, 'done', 'inventory_db-20261125.ndjson'))).toBe(false);
    expect(existsSync(join(folder, 'done', 'inventory_db-20261126.ndjson'))).toBe(true);
    // The 25th is a hole: the watermark stays at its start although the 26th landed.
    expect(r?.watermark?.watermark).toBe('2026-11-25T00:00:00.000Z');

    // The 25th delivered again, readable: the watermark moves past the 26th.
    await write(
      'debezium/inventory_db/inventory_db-20261125-redelivered.ndjson',
      [vendor(14, 500, 450, 2), heartbeat(15, 600, 550)].join('\n'),
    );
    expect(await land()).toMatchObject({ landed: 1, watermark: { watermark: '2026-11-27T00:00:00.000Z' } });
  });

  it('a file with one readable event among bad ones still goes to done/', async () => {
    const loader = landingLoaders({ engine, landingDir: dir })['inventory_db'];
    await write(
      'debezium/inventory_db/inventory_db-20261124.ndjson',
      ['not json', vendor(10, 100, 50, 1), heartbeat(11, 200, 150)].join('\n'),
    );
    expect(await loader?.land?.(() => undefined)).toMatchObject({ landed: 1, quarantined: 1 });
    expect(existsSync(join(dir, 'debezium', 'inventory_db', 'done', 'inventory_db-20261124.ndjson'))).toBe(
      true,
    );
  });
});

describe('live mode', () => {
  it("passes each postgres source's PII rules to the landing loaders", async () => {
    const { liveLoaders } = await import('../../src/sources/live/live-loaders.js');
    calls.length = 0;
    const live = liveLoaders({
      engine,
      landingDir: dir,
      piiKey: 'k'.repeat(16),
      sources: {
        user_db: {
          type: 'postgres',
          url: 'postgresql://nobody@127.0.0.1:1/none',
          slot: 'tessera_test',
          tables: ['users'],
          pii: { email: 'hash', first_name: 'drop' },
          plugin: 'pgoutput',
          replayClock: false,
        },
      },
    });
    await live.close();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.pii).toEqual({ user_db: { email: 'hash', first_name: 'drop' } });
  });
});
