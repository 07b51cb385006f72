/**
 * reporting.mart_daily_revenue reconciles with the Inventory DB's own totals at the cut-off: its blocking SQL check
 * sums each purchase's last image committed before the day's end by confirmed_at / refunded_at. A day whose change
 * log agrees publishes; a confirmation backdated into the previous day (the OLTP says yesterday, the commit says
 * today) makes the two disagree, fails the step and so keeps the finance group on its previous version.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { coreAssets } from '../../src/assets/core.js';
import { rawAssets } from '../../src/assets/raw.js';
import { reportingAssets } from '../../src/assets/reporting.js';
import { defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { changeLogWindowStats } from '../../src/sources/landing/partition-stats.js';
import { EngineRawSink } from '../../src/sources/sinks/index.js';
import { CHANGE_META_COLUMNS, type RawRow, type SourceLoader } from '../../src/sources/types.js';

const KEYS = ['raw.inventory_db_purchases_changes', 'core.dim_purchases', 'reporting.mart_daily_revenue'];
const definitions = defineDefinitions({
  assets: [...rawAssets, ...coreAssets, ...reportingAssets].filter((a) => KEYS.includes(a.key)),
  publishGroups: [{ name: 'finance' }],
});
const D = '2026-11-02';

interface Change {
  readonly at: string;
  readonly op: 'c' | 'u';
  readonly row: RawRow;
}

const purchase = (
  id: number,
  status: string,
  cents: number,
  times: { confirmed?: string; refunded?: string } = {},
): RawRow => ({
  purchase_id: id,
  user_id: 1,
  listing_id: 7,
  status,
  amount_cents: cents,
  currency: 'USD',
  confirmed_at: times.confirmed ?? null,
  refunded_at: times.refunded ?? null,
});

/** Confirmations and refunds committed when the application stamped them. */
const CONSISTENT: Change[] = [
  { at: '2026-11-01T09:00:00Z', op: 'c', row: purchase(1, 'pending', 5000) },
  {
    at: '2026-11-02T08:00:00Z',
    op: 'u',
    row: purchase(1, 'confirmed', 5000, { confirmed: '2026-11-02T08:00:00Z' }),
  },
  { at: '2026-11-02T10:00:00Z', op: 'c', row: purchase(2, 'pending', 3000) },
  {
    at: '2026-11-02T11:00:00Z',
    op: 'u',
    row: purchase(2, 'confirmed', 3000, { confirmed: '2026-11-02T11:00:00Z' }),
  },
  {
    at: '2026-11-02T18:00:00Z',
    op: 'u',
    row: purchase(2, 'refunded', 3000, {
      confirmed: '2026-11-02T11:00:00Z',
      refunded: '2026-11-02T18:00:00Z',
    }),
  },
  // Confirmed after the cut-off: neither side counts it on D.
  { at: '2026-11-02T23:00:00Z', op: 'c', row: purchase(3, 'pending', 900) },
  {
    at: '2026-11-03T01:00:00Z',
    op: 'u',
    row: purchase(3, 'confirmed', 900, { confirmed: '2026-11-03T01:00:00Z' }),
  },
];

/** The same, plus a confirmation committed on D but stamped on the day before. */
const BACKDATED: Change[] = [
  ...CONSISTENT,
  { at: '2026-11-01T20:00:00Z', op: 'c', row: purchase(4, 'pending', 1200) },
  {
    at: '2026-11-02T00:30:00Z',
    op: 'u',
    row: purchase(4, 'confirmed', 1200, { confirmed: '2026-11-01T23:50:00Z' }),
  },
];

function changeLog(engine: Engine, log: readonly Change[]): SourceLoader {
  const sink = new EngineRawSink(engine);
  const table = 'raw.inventory_db_purchases_changes';
  return {
    async ingest(req) {
      const dedupe = ['_lsn', '_seq'];
      await sink.ensureTable(
        table,
        [
          ...CHANGE_META_COLUMNS,
          { name: 'purchase_id', type: 'bigint' },
          { name: 'user_id', type: 'bigint' },
          { name: 'listing_id', type: 'bigint' },
          { name: 'status', type: 'varchar' },
          { name: 'amount_cents', type: 'bigint' },
          { name: 'currency', type: 'varchar' },
          { name: 'confirmed_at', type: 'timestamp' },
          { name: 'refunded_at', type: 'timestamp' },
        ],
        dedupe,
      );
      const sorted = [...log].sort((a, b) => a.at.localeCompare(b.at));
      await sink.write(
        table,
        sorted.map((c, i) => ({
          _lsn: (0x5000 + i).toString(16).padStart(16, '0'),
          _seq: 0,
          _txid: 100 + i,
          _commit_time: c.at,
          _op: c.op,
          ...c.row,
        })),
        dedupe,
      );
      if (!req.window) throw new Error('change logs are daily');
      return changeLogWindowStats(engine, table, req.window, {
        source: 'inventory_db',
        watermark: '2026-11-04T00:00:00Z',
      });
    },
  };
}

/** Builds `+reporting.mart_daily_revenue` for 11-01..D in plan order; returns D's mart step result. */
async function buildRevenue(log: readonly Change[]) {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
  try {
    const acts = createActivities({
      definitions,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger: new MemoryLedger(),
      loaders: { inventory_db: changeLog(engine, log) },
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });
    const plan = await acts.planRun({
      selection: '+reporting.mart_daily_revenue',
      range: { from: '2026-11-01', to: D },
    });
    let mart;
    for (const step of plan.steps) {
      const r = await acts.materializeStep({ runId: 'r1', step, force: false });
      if (step.assetKey === 'reporting.mart_daily_revenue' && step.partitionKey === D) mart = r;
      else expect(r.error ?? r.status, step.id).toBe('success');
    }
    const built = await engine.query(
      `select gross_revenue_cents, refunded_cents from reporting.mart_daily_revenue__build where _partition_key = ?`,
      [D],
    );
    return { mart, built };
  } finally {
    await engine.close();
  }
}

describe('mart_daily_revenue reconciles with the Inventory DB at the cut-off', () => {
  it('passes when the change log agrees with the OLTP timestamps', async () => {
    const { mart, built } = await buildRevenue(CONSISTENT);
    expect(built).toEqual([{ gross_revenue_cents: 8000, refunded_cents: 3000 }]);
    expect(mart?.status).toBe('success');
    expect(mart?.checks?.find((c) => c.name === 'revenue_reconciles_with_inventory_db')?.passed).toBe(true);
  });

  it('blocks the day when a confirmation was backdated into the previous day', async () => {
    const { mart, built } = await buildRevenue(BACKDATED);
    // The mart recognizes revenue when the confirmation committed (D); the OLTP says the day before.
    expect(built).toEqual([{ gross_revenue_cents: 9200, refunded_cents: 3000 }]);
    expect(mart?.status).toBe('failed');
    expect(mart?.error).toMatch(/blocking check failed: revenue_reconciles_with_inventory_db/);
  });
});
