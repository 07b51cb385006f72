/**
 * The ingest guard in isolation (the full story is gdpr.test.ts): a source that delivers the same rows again after
 * an erasure, through both landing paths (`land()` passes and `ingest()` reports), on DuckDB in memory. The
 * person's rows come back with every delivery and must be gone after each, the partition report must describe the
 * table after the guard ran, and a guard holding another PII key must refuse to land rather than miss.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset, daily, defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import {
  defineErasurePolicy,
  eraseSubject,
  ErasureGuard,
  ErasureKey,
  ErasureKeyError,
  guardLoader,
} from '../../src/gdpr/index.js';
import type { SourceLoader } from '../../src/sources/types.js';

const KEY = 'guard-test-pii-key-000001';
const definitions = defineDefinitions({
  assets: [
    asset({
      key: 'raw.orders',
      kind: 'fact',
      partitions: daily({ start: '2026-11-01' }),
      ingest: { source: 'shop', stream: 'orders' },
      primaryKey: ['order_id'],
    }),
  ],
});
const policy = defineErasurePolicy({
  subject: 'customer',
  tables: { 'raw.orders': { match: { customer_id: 'subject' }, action: 'anonymise', personal: ['email'] } },
});

/** Delivers all orders on every pass (a replay): rows dedupe on order_id, so only missing keys land. */
function shop(engine: Engine): SourceLoader & { land: NonNullable<SourceLoader['land']> } {
  const land = async () => {
    await engine.execute(
      `CREATE TABLE IF NOT EXISTS raw.orders (order_id BIGINT PRIMARY KEY, customer_id BIGINT, email VARCHAR, cents BIGINT)`,
    );
    const before = Number((await engine.query('SELECT count(*) AS n FROM raw.orders'))[0]?.['n']);
    await engine.execute(
      `INSERT INTO raw.orders SELECT * FROM (VALUES (1, 7, 'seven@example.com', 1000), (2, 8, 'eight@example.com', 2000),
         (3, 7, 'seven@example.com', 3000)) AS v(order_id, customer_id, email, cents) ON CONFLICT DO NOTHING`,
    );
    const after = Number((await engine.query('SELECT count(*) AS n FROM raw.orders'))[0]?.['n']);
    return { landed: after - before, quarantined: 0 };
  };
  return {
    land: (_heartbeat: () => void) => land(),
    async ingest() {
      await land();
      const [r] = await engine.query(
        `SELECT count(*) AS n, count(customer_id) AS linked, sum(cents)::VARCHAR AS cents FROM raw.orders`,
      );
      return { rowCount: Number(r?.['n']), dataVersion: `${String(r?.['linked'])}:${String(r?.['cents'])}` };
    },
  };
}

const person = async (engine: Engine) =>
  Number(
    (
      await engine.query(
        `SELECT count(*) AS n FROM raw.orders WHERE customer_id = 7 OR email = 'seven@example.com'`,
      )
    )[0]?.['n'],
  );

describe('the ingest guard', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
    await engine.execute('CREATE SCHEMA raw');
  });
  afterEach(async () => {
    await engine.close();
  });

  it('erases re-delivered rows after every landing and reports the partition as the guard left it', async () => {
    const engines = { duckdb: engine };
    const loader = shop(engine);
    await loader.land(() => undefined);
    const erased = await eraseSubject(
      { definitions, policy, key: ErasureKey.from(KEY), engines, defaultEngine: 'duckdb' },
      { subject: '7' },
    );
    expect(erased.rowsTouched).toBe(2);
    expect(erased.remaining).toEqual({});
    expect(await person(engine)).toBe(0);

    // A replay in a new table (the rows' keys are gone): without the guard the person is back.
    await engine.execute('DROP TABLE raw.orders');
    await loader.land(() => undefined);
    expect(await person(engine)).toBe(2);

    const guard = new ErasureGuard({ definitions, policy, engines, defaultEngine: 'duckdb', key: KEY });
    const guarded = guardLoader('shop', loader, guard);
    await engine.execute('DROP TABLE raw.orders');
    const pass = await guarded.land?.(() => undefined);
    expect(pass?.landed).toBe(3); // the person's rows landed …
    expect(await person(engine)).toBe(0); // … and were anonymised: amounts kept, link gone

    await engine.execute('DROP TABLE raw.orders');
    const report = await guarded.ingest({
      assetKey: 'raw.orders',
      stream: 'orders',
      partitionKey: '2026-11-01',
      heartbeat: () => undefined,
    });
    expect(await person(engine)).toBe(0);
    expect(report).toMatchObject({ rowCount: 3, dataVersion: '1:6000' }); // after the guard: 1 linked row left
  });

  it('refuses to land when the erasure list was written with another key', async () => {
    const engines = { duckdb: engine };
    const loader = shop(engine);
    await loader.land(() => undefined);
    await eraseSubject(
      { definitions, policy, key: ErasureKey.from(KEY), engines, defaultEngine: 'duckdb' },
      { subject: '7' },
    );
    const guard = new ErasureGuard({
      definitions,
      policy,
      engines,
      defaultEngine: 'duckdb',
      key: 'another-pii-key-0000000001',
    });
    await expect(guardLoader('shop', loader, guard).land?.(() => undefined)).rejects.toThrow(ErasureKeyError);
  });
});
