/**
 * Both OLTP transports give the same warehouse: the simulator's history (a) as Debezium files in a landing
 * folder and (b) replayed live into real PostgreSQL and captured through wal2json slots, each ingested into
 * its own DuckDB warehouse. Raw change tables agree on every column but the two that name positions on a
 * server (`_lsn`, `_txid`: the simulator invents them, the real server assigns its own), in the same order;
 * the SCD2 dimensions built from them are identical.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { bookMyEvent } from '../../src/assets/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { writeOltpLive } from '../../src/simulator/live/oltp-writer.js';
import { simulate } from '../../src/simulator/index.js';
import { PostgresCdcLoader } from '../../src/sources/cdc/loader.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import { OLTP_TABLES, type OltpDatabase } from '../../src/sources/oltp/migrate.js';
import type { PiiRules } from '../../src/sources/pii.js';
import type { SourceLoader } from '../../src/sources/types.js';
import { scratchDatabase, uniqueName, type ScratchDatabase } from '../helpers/postgres.js';

const DBS: readonly OltpDatabase[] = ['user_db', 'inventory_db'];
const PII: Record<OltpDatabase, PiiRules> = {
  user_db: {
    email: 'hash',
    phone: 'hash',
    password_hash: 'drop',
    'profile_changes.old_value': 'hash',
    'profile_changes.new_value': 'hash',
  },
  inventory_db: {},
};
const PII_KEY = 'transports-equal-test-key';
const START = '2026-11-01';
const DAYS = ['2026-11-01', '2026-11-02'];
/** Transport-specific by nature: positions in the simulated WAL vs the real server's WAL and xids. */
const TRANSPORT_COLUMNS = new Set(['_lsn', '_txid', 'source_lsn']);

interface Warehouse {
  engine: Engine;
  ledger: Ledger;
}

let dir: string;
const pg: Partial<Record<OltpDatabase, ScratchDatabase>> = {};
const live: PostgresCdcLoader[] = [];
let landing: Warehouse;
let replica: Warehouse;

async function warehouse(name: string): Promise<Warehouse> {
  return {
    engine: await createDuckDbEngine({ type: 'duckdb', path: join(dir, `${name}.duckdb`), threads: 1 }),
    ledger: await openLedger({ type: 'sqlite', path: join(dir, `${name}.sqlite`) }),
  };
}

/** Ingests both databases' days and builds the SCD2 dimensions through the real activities. */
async function build(w: Warehouse, loaders: Record<string, SourceLoader>): Promise<void> {
  const acts = createActivities({
    definitions: bookMyEvent,
    engines: { duckdb: w.engine },
    defaultEngine: 'duckdb',
    ledger: w.ledger,
    loaders,
    alertRoutes: [],
    latenessMs: 0,
    logger: pino({ level: 'silent' }),
  });
  for (const dim of ['core.dim_users', 'core.dim_vendors', 'core.dim_listings', 'core.dim_purchases']) {
    const plan = await acts.planRun({
      selection: `+${dim}`,
      range: { from: DAYS[0] ?? '', to: DAYS[1] ?? '' },
    });
    for (const step of plan.steps) {
      const r = await acts.materializeStep({ runId: 'transports', step, force: false });
      expect(r.status, `${step.assetKey} ${step.partitionKey ?? ''}`).toBe('success');
    }
  }
}

async function tableRows(e: Engine, table: string): Promise<Record<string, unknown>[]> {
  const cols = ((await e.describeTable(table)) ?? [])
    .map((c) => c.name)
    .filter((c) => !TRANSPORT_COLUMNS.has(c));
  const order = table.startsWith('raw.') ? '_lsn, _seq' : `${cols.slice(0, 1).join('')}, valid_from`;
  return e.query(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM ${table} ORDER BY ${order}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-transports-'));
  await simulate({
    seed: 5,
    start: START,
    days: DAYS.length,
    landingDir: join(dir, 'landing'),
    scale: 'small',
  });
  for (const db of DBS) pg[db] = await scratchDatabase(db);
  landing = await warehouse('landing');
  replica = await warehouse('live');
}, 120_000);

afterAll(async () => {
  for (const l of live) {
    await l.dropSlot().catch(() => undefined);
    await l.close();
  }
  for (const w of [landing, replica]) {
    await w?.engine.close();
    await w?.ledger.close();
  }
  for (const db of DBS) await pg[db]?.drop();
});

describe('OLTP transports', () => {
  it('land equal raw change logs and build identical SCD2 dimensions', { timeout: 180_000 }, async () => {
    // Landing folder: the embedded default.
    await build(
      landing,
      landingLoaders({ engine: landing.engine, landingDir: join(dir, 'landing'), pii: PII, piiKey: PII_KEY }),
    );

    // Live: slots first (an empty snapshot), then the replay, then capture.
    const loaders: Record<string, SourceLoader> = {};
    for (const db of DBS) {
      const l = new PostgresCdcLoader({
        engine: replica.engine,
        url: pg[db]?.url ?? '',
        database: db,
        tables: OLTP_TABLES[db],
        slot: uniqueName(`t_${db}`),
        pii: PII[db],
        piiKey: PII_KEY,
        replayClock: true,
      });
      live.push(l);
      await l.init();
      loaders[db] = l;
    }
    const written = await writeOltpLive({
      landingDir: join(dir, 'landing'),
      urls: { user_db: pg.user_db?.url ?? '', inventory_db: pg.inventory_db?.url ?? '' },
      migrate: false,
    });
    expect(written.user_db?.transactions).toBeGreaterThan(10);
    expect(written.inventory_db?.transactions).toBeGreaterThan(10);
    await build(replica, loaders);

    let compared = 0;
    for (const db of DBS)
      for (const t of OLTP_TABLES[db]) {
        const table = `raw.${db}_${t}_changes`;
        const a = await tableRows(landing.engine, table);
        const b = await tableRows(replica.engine, table);
        expect(a.length, table).toBeGreaterThan(0);
        expect(b, table).toEqual(a);
        compared += a.length;
        // Really two transports: the positions differ, the commit times do not.
        const lsn = (e: Engine) => e.query<{ l: string }>(`SELECT min(_lsn) AS l FROM ${table}`);
        expect((await lsn(replica.engine))[0]?.l).not.toBe((await lsn(landing.engine))[0]?.l);
      }
    expect(compared).toBeGreaterThan(100);
    // No snapshot rows: the slot existed before the history was written.
    const snap = await replica.engine.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM raw.inventory_db_purchases_changes WHERE _op = 'r'`,
    );
    expect(Number(snap[0]?.n)).toBe(0);

    for (const dim of ['core.dim_users', 'core.dim_vendors', 'core.dim_listings', 'core.dim_purchases']) {
      const a = await tableRows(landing.engine, dim);
      expect(a.length, dim).toBeGreaterThan(0);
      expect(await tableRows(replica.engine, dim), dim).toEqual(a);
    }
  });
});
