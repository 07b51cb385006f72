/**
 * ml.ml_user_features is point-in-time correct: the features of day D use only what was known at the end of D.
 * BookMyEvent's real asset definitions (raw change logs → SCD2 → daily snapshot → features) run on DuckDB through
 * the activities, over a hand-made change log whose users and purchases change after D — some of them exactly at
 * D's end, where an off-by-one in the cut would show.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { TesseraActivities } from '../../src/activities/types.js';
import { coreAssets } from '../../src/assets/core.js';
import { mlAssets } from '../../src/assets/ml.js';
import { rawAssets } from '../../src/assets/raw.js';
import { defineDefinitions, type Definitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { changeLogWindowStats } from '../../src/sources/landing/partition-stats.js';
import { EngineRawSink } from '../../src/sources/sinks/index.js';
import {
  CHANGE_META_COLUMNS,
  type RawColumn,
  type RawRow,
  type SourceLoader,
} from '../../src/sources/types.js';

const KEYS = [
  'raw.user_db_users_changes',
  'raw.inventory_db_purchases_changes',
  'core.dim_users',
  'core.dim_purchases',
  'core.users_daily',
  'ml.ml_user_features',
];
const definitions: Definitions = defineDefinitions({
  assets: [...rawAssets, ...coreAssets, ...mlAssets].filter((a) => KEYS.includes(a.key)),
});

const D = '2026-11-02';
const END_OF_D = '2026-11-03T00:00:00.000000Z';

interface Change {
  readonly at: string;
  readonly op: 'c' | 'u' | 'd';
  readonly row: RawRow;
}

/** user_db.users: sign-ups, activation, a country change exactly at D's end, consent after D, a deletion. */
const user = (id: number, country: string, status: string, consent = false): RawRow => ({
  user_id: id,
  email_hash: `h${id}`,
  country,
  marketing_consent: consent,
  status,
});
const USERS: Change[] = [
  { at: '2026-11-01T10:00:00Z', op: 'c', row: user(1, 'DE', 'pending_verification') },
  { at: '2026-11-01T12:00:00Z', op: 'u', row: user(1, 'DE', 'active') },
  { at: '2026-11-02T09:00:00Z', op: 'c', row: user(2, 'GB', 'pending_verification') },
  { at: '2026-11-02T09:30:00Z', op: 'u', row: user(2, 'GB', 'active') },
  { at: '2026-11-02T20:00:00Z', op: 'c', row: user(3, 'FR', 'pending_verification') },
  // After D: the first instant of D+1 is not D.
  { at: END_OF_D, op: 'u', row: user(1, 'FR', 'active') },
  { at: '2026-11-03T09:00:00Z', op: 'u', row: user(1, 'FR', 'active', true) },
  { at: '2026-11-03T11:00:00Z', op: 'u', row: user(3, 'FR', 'active') },
  { at: '2026-11-03T12:00:00Z', op: 'd', row: user(2, 'GB', 'active') },
];

/** inventory_db.purchases: one confirmed on D and refunded later, one placed in D's last microsecond, one after D. */
const purchase = (id: number, userId: number, status: string, cents: number): RawRow => ({
  purchase_id: id,
  user_id: userId,
  listing_id: 500 + id,
  status,
  amount_cents: cents,
  currency: 'USD',
});
const PURCHASES: Change[] = [
  { at: '2026-11-01T15:00:00Z', op: 'c', row: purchase(10, 1, 'pending', 5000) },
  { at: '2026-11-02T08:00:00Z', op: 'u', row: purchase(10, 1, 'confirmed', 5000) },
  { at: '2026-11-02T23:59:59.999999Z', op: 'c', row: purchase(11, 1, 'pending', 7000) },
  { at: '2026-11-03T01:00:00Z', op: 'u', row: purchase(11, 1, 'confirmed', 7000) },
  { at: '2026-11-03T10:00:00Z', op: 'c', row: purchase(12, 1, 'pending', 900) },
  { at: '2026-11-04T10:00:00Z', op: 'u', row: purchase(10, 1, 'refunded', 5000) },
];

const COLUMNS: Record<string, RawColumn[]> = {
  users: [
    { name: 'user_id', type: 'bigint' },
    { name: 'email_hash', type: 'varchar' },
    { name: 'country', type: 'varchar' },
    { name: 'marketing_consent', type: 'boolean' },
    { name: 'status', type: 'varchar' },
  ],
  purchases: [
    { name: 'purchase_id', type: 'bigint' },
    { name: 'user_id', type: 'bigint' },
    { name: 'listing_id', type: 'bigint' },
    { name: 'status', type: 'varchar' },
    { name: 'amount_cents', type: 'bigint' },
    { name: 'currency', type: 'varchar' },
  ],
};

/**
 * A source that has delivered every change committed before `knownUntil()` (as CDC would have by then), landed
 * through the real raw sink in the layout of the Debezium/wal2json loaders: one row per change, `_lsn` the
 * commit position, deduplicated on (_lsn, _seq).
 */
function changeLogLoader(
  engine: Engine,
  db: string,
  log: readonly Change[],
  lsnBase: number,
  knownUntil: () => string,
): SourceLoader {
  const sink = new EngineRawSink(engine);
  return {
    async ingest(req) {
      const table = `raw.${db}_${req.stream}_changes`;
      const dedupe = ['_lsn', '_seq'];
      await sink.ensureTable(table, [...CHANGE_META_COLUMNS, ...(COLUMNS[req.stream] ?? [])], dedupe);
      const rows = log
        .map((c, i) => ({ c, i }))
        .filter(({ c }) => Date.parse(c.at) < Date.parse(knownUntil()))
        .map(({ c, i }) => ({
          _lsn: (lsnBase + i).toString(16).padStart(16, '0'),
          _seq: 0,
          _txid: lsnBase + i,
          _commit_time: c.at,
          _op: c.op,
          ...c.row,
        }));
      await sink.write(table, rows, dedupe);
      if (!req.window) throw new Error('change logs are daily');
      return changeLogWindowStats(engine, table, req.window, { source: db, watermark: knownUntil() });
    },
  };
}

describe('ml.ml_user_features is point-in-time correct', () => {
  let engine: Engine;
  let ledger: MemoryLedger;
  let knownUntil: string;
  let acts: TesseraActivities;

  beforeEach(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
    ledger = new MemoryLedger();
    const until = () => knownUntil;
    acts = createActivities({
      definitions,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger,
      loaders: {
        user_db: changeLogLoader(engine, 'user_db', USERS, 0x1000, until),
        inventory_db: changeLogLoader(engine, 'inventory_db', PURCHASES, 0x2000, until),
      },
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });
  });
  afterEach(async () => engine.close());

  /** Plans `+ml.ml_user_features` over the range and runs every step, as a backfill would, in plan order. */
  async function build(from: string, to: string, runId: string, force = false): Promise<string[]> {
    const plan = await acts.planRun({ selection: '+ml.ml_user_features', range: { from, to } });
    for (const step of plan.steps) {
      const r = await acts.materializeStep({ runId, step, force });
      expect(r.error ?? r.status, step.id).toBe('success');
    }
    return plan.steps.map((s) => `${s.assetKey}@${s.partitionKey}`);
  }

  const features = (day: string) =>
    engine.query(
      `select cast(feature_date as varchar) as feature_date, user_id, country, marketing_consent, tenure_days,
              purchases_to_date, confirmed_purchases_to_date, confirmed_cents_to_date
       from ml.ml_user_features where _partition_key = ? order by user_id`,
      [day],
    );

  it("day D's features are what was known at D's end, and re-materializing D later gives the same rows", async () => {
    // Run on the morning after D: the sources have delivered everything committed during D.
    knownUntil = '2026-11-03T06:00:00Z';
    await build('2026-11-01', D, 'run-day-after');
    const atD = await features(D);
    expect(atD).toEqual([
      // Country still DE (the change to FR commits at D's end), no consent yet; purchase 10 confirmed,
      // purchase 11 placed in D's last microsecond and pending, purchase 12 not placed yet.
      {
        feature_date: D,
        user_id: 1,
        country: 'DE',
        marketing_consent: false,
        tenure_days: 1,
        purchases_to_date: 2,
        confirmed_purchases_to_date: 1,
        confirmed_cents_to_date: 5000,
      },
      // Signed up and activated on D; deleted later, but it existed at D.
      {
        feature_date: D,
        user_id: 2,
        country: 'GB',
        marketing_consent: false,
        tenure_days: 0,
        purchases_to_date: 0,
        confirmed_purchases_to_date: 0,
        confirmed_cents_to_date: 0,
      },
      // user 3 is still pending verification at D: no features.
    ]);

    // Two days later everything after D has arrived: the histories now hold the later versions...
    knownUntil = '2026-11-05T06:00:00Z';
    const steps = await build('2026-11-01', '2026-11-04', 'run-later');
    expect(steps).toContain(`ml.ml_user_features@${D}`); // D is rebuilt because its inputs changed
    expect(
      await engine.query(
        `select country, marketing_consent from core.dim_users where user_id = 1 and is_current`,
      ),
    ).toEqual([{ country: 'FR', marketing_consent: true }]);
    expect(
      await engine.query(`select status from core.dim_purchases where purchase_id = 10 and is_current`),
    ).toEqual([{ status: 'refunded' }]);
    // ...but D's features are unchanged, row for row.
    expect(await features(D)).toEqual(atD);
    // And a forced rebuild of D alone still gives the same rows.
    await build(D, D, 'run-forced', true);
    expect(await features(D)).toEqual(atD);

    // The later days see the later values: D+1 has FR with consent, purchase 11 confirmed, 12 pending; user 2 gone.
    expect(await features('2026-11-03')).toEqual([
      {
        feature_date: '2026-11-03',
        user_id: 1,
        country: 'FR',
        marketing_consent: true,
        tenure_days: 2,
        purchases_to_date: 3,
        confirmed_purchases_to_date: 2,
        confirmed_cents_to_date: 12000,
      },
      {
        feature_date: '2026-11-03',
        user_id: 3,
        country: 'FR',
        marketing_consent: false,
        tenure_days: 1,
        purchases_to_date: 0,
        confirmed_purchases_to_date: 0,
        confirmed_cents_to_date: 0,
      },
    ]);
    // D+2: purchase 10 was refunded, so only purchase 11's cents remain confirmed.
    expect(
      (await features('2026-11-04')).map((r) => [r.user_id, r.confirmed_cents_to_date, r.purchases_to_date]),
    ).toEqual([
      [1, 7000, 3],
      [3, 0, 0],
    ]);
  });
});
