/**
 * The change-log assets' declared key is the loaders' dedupe key (_lsn, _seq) (issue 18). A purchase inserted and
 * confirmed in one transaction gives two changes sharing an LSN: the raw asset's blocking uniqueness check must
 * pass, and the SCD2 dimension built from it must hold both versions.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { coreAssets } from '../../src/assets/core.js';
import { rawAssets } from '../../src/assets/raw.js';
import { defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';

const KEYS = ['raw.inventory_db_purchases_changes', 'core.dim_purchases'];
const definitions = defineDefinitions({
  assets: [...rawAssets, ...coreAssets].filter((a) => KEYS.includes(a.key)),
});

const purchase = (status: string) => ({
  purchase_id: 1,
  user_id: 7,
  listing_id: 3,
  status,
  amount_cents: 5000,
  currency: 'USD',
});
const source = (txId: number, lsn: number, last: number) => ({
  ts_us: Date.parse('2026-11-24T10:00:00Z') * 1000 + lsn,
  txId,
  lsn,
  sequence: JSON.stringify([String(last), String(lsn)]),
  table: 'purchases',
});
const change = (op: string, txId: number, lsn: number, last: number, status: string) =>
  JSON.stringify({ op, before: null, after: purchase(status), source: source(txId, lsn, last) });

let dir: string;
let engine: Engine;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-change-key-'));
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
});
afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe('change-log assets are keyed by (_lsn, _seq)', () => {
  it('declare the dedupe key as their primary key', () => {
    for (const a of definitions.assets.filter((x) => x.kind === 'raw_cdc')) {
      expect(a.primaryKey, a.key).toEqual(['_lsn', '_seq']);
    }
  });

  it('pass the uniqueness check and build the dimension when two changes share an LSN', async () => {
    const folder = join(dir, 'debezium', 'inventory_db');
    await mkdir(folder, { recursive: true });
    await writeFile(
      join(folder, 'inventory_db-20261124.ndjson'),
      [
        // One transaction (txid 20): the purchase is created, then confirmed.
        change('c', 20, 100, 50, 'pending'),
        change('u', 20, 110, 50, 'confirmed'),
        // The next transaction places the first one's commit position (its sequence[0] = 150).
        change('u', 21, 200, 150, 'refunded'),
        JSON.stringify({
          op: 'm',
          source: { ...source(22, 300, 250), table: undefined },
          message: { prefix: 'hb', content: '' },
        }),
      ].join('\n'),
    );
    const acts = createActivities({
      definitions,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger: new MemoryLedger(),
      loaders: landingLoaders({ engine, landingDir: dir }),
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });
    const plan = await acts.planRun({
      selection: '+core.dim_purchases',
      range: { from: '2026-11-24', to: '2026-11-24' },
    });
    const statuses: Record<string, string> = {};
    for (const step of plan.steps) {
      const r = await acts.materializeStep({ runId: 'r1', step, force: false });
      statuses[step.assetKey] = r.error ?? r.status;
    }
    expect(statuses).toEqual({
      'raw.inventory_db_purchases_changes': 'success',
      'core.dim_purchases': 'success',
    });
    const landed = await engine.query<{ _lsn: string; _seq: number; status: string }>(
      'select _lsn, _seq, status from raw.inventory_db_purchases_changes order by _lsn, _seq',
    );
    expect(landed.map((r) => [r._lsn, Number(r._seq), r.status])).toEqual([
      ['0000000000000096', 0, 'pending'],
      ['0000000000000096', 1, 'confirmed'],
      ['00000000000000FA', 0, 'refunded'],
    ]);
    const versions = await engine.query<{ status: string; is_current: boolean }>(
      'select status, is_current from core.dim_purchases order by source_lsn',
    );
    expect(versions.map((v) => [v.status, v.is_current])).toEqual([
      ['pending', false],
      ['confirmed', false],
      ['refunded', true],
    ]);
  });
});
