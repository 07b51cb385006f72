/**
 * The sufficient statistics (and the results mart after them) are the same bytes whatever order the
 * engine aggregates in: computed on two DuckDB engines with different thread counts, from the same rows
 * inserted in different orders, the written tables have the same data version. With the sums as DOUBLE
 * (before), the last digit of a sum of squares followed the aggregation order (issue 15, finding 11:
 * `49036975282600.01` vs `…600.016`), and so did the data version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineExperiment,
  defineMetric,
  experimentResultRows,
  experimentsStatsSql,
} from '../../src/experiments/index.js';
import { duckdbDialect } from '../../src/engines/duckdb/duckdb-dialect.js';
import { createDuckDbEngine, renderTemplate, type Engine } from '../../src/engines/index.js';
import { int, rng, uniform } from './generators.js';

const T0 = Date.UTC(2026, 10, 1);
const DAY_MS = 86_400_000;
const ts = (ms: number): string =>
  `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;

interface Data {
  exposures: string[];
  purchases: string[];
  sessions: string[];
}

/** ~3000 users, integer-cent purchases (some before exposure, for CUPED), sessions. */
function data(): Data {
  const r = rng(15);
  const out: Data = { exposures: [], purchases: [], sessions: [] };
  let id = 0;
  for (let u = 1; u <= 3000; u++) {
    const first = T0 + int(r, 0, 10 * 86_400) * 1000;
    const variant = r() < 0.5 ? 'control' : 'treatment';
    out.exposures.push(`('checkout_v2', '${u}', '${variant}', ${ts(first)})`);
    for (let k = int(r, 0, 6); k > 0; k--) {
      const at = first + Math.round(uniform(r, -14, 5) * DAY_MS);
      // Heavy-tailed integer cents: the 99th percentile cap falls between two values (a fractional cap).
      const cents = Math.round(Math.exp(uniform(r, 4, 13)));
      out.purchases.push(`(${++id}, ${u}, ${ts(at)}, ${cents}, '${r() < 0.85 ? 'confirmed' : 'refunded'}')`);
    }
    for (let k = int(r, 1, 4); k > 0; k--)
      out.sessions.push(`(${u}, ${ts(first + int(r, 0, 5 * 86_400) * 1000)})`);
  }
  return out;
}

/** A fixed permutation (deterministic), so the second engine reads the rows in another order. */
function shuffled<T>(xs: readonly T[]): T[] {
  const r = rng(99);
  const a = [...xs].reverse();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

const purchases = { table: 'core.fct_purchases', unitColumn: 'user_id', timestampColumn: 'created_at' };
const revenue = { ...purchases, valueColumn: 'amount_cents', filter: "status = 'confirmed'" };
const experiment = defineExperiment({
  key: 'checkout_v2',
  name: 'Checkout v2',
  exposures: {
    table: 'experiments.exposures',
    unitColumn: 'user_id',
    experimentColumn: 'experiment_key',
    variationColumn: 'experiment_variant',
    timestampColumn: 'derived_tstamp',
  },
  variations: [
    { id: 'control', weight: 0.5 },
    { id: 'treatment', weight: 0.5 },
  ],
  metrics: [
    {
      metric: defineMetric({
        id: 'conversion',
        name: 'c',
        type: 'binomial',
        source: purchases,
        conversionWindowDays: 3,
      }),
    },
    {
      metric: defineMetric({
        id: 'revenue_per_user',
        name: 'r',
        type: 'mean',
        source: revenue,
        capping: { type: 'percentile', percentile: 0.99 },
        cuped: { lookbackDays: 14 },
      }),
    },
    {
      metric: defineMetric({
        id: 'revenue_per_session',
        name: 's',
        type: 'ratio',
        numerator: revenue,
        denominator: {
          table: 'clickstream.fct_sessions',
          unitColumn: 'user_id',
          timestampColumn: 'started_at',
        },
        capping: { type: 'percentile', percentile: 0.95 },
      }),
      role: 'secondary',
    },
  ],
  analysis: { correction: 'holm-bonferroni' },
});

async function load(engine: Engine, d: Data): Promise<void> {
  await engine.execute(`
    CREATE SCHEMA IF NOT EXISTS experiments; CREATE SCHEMA IF NOT EXISTS core; CREATE SCHEMA IF NOT EXISTS clickstream;
    CREATE TABLE experiments.exposures (experiment_key VARCHAR, user_id VARCHAR, experiment_variant VARCHAR, derived_tstamp TIMESTAMP);
    CREATE TABLE core.fct_purchases (purchase_id BIGINT, user_id BIGINT, created_at TIMESTAMP, amount_cents BIGINT, status VARCHAR);
    CREATE TABLE clickstream.fct_sessions (user_id BIGINT, started_at TIMESTAMP);
    INSERT INTO experiments.exposures VALUES ${d.exposures.join(', ')};
    INSERT INTO core.fct_purchases VALUES ${d.purchases.join(', ')};
    INSERT INTO clickstream.fct_sessions VALUES ${d.sessions.join(', ')};
  `);
}

describe('experiment statistics are deterministic', () => {
  const engines: Engine[] = [];
  beforeAll(async () => {
    const d = data();
    const reordered = {
      exposures: shuffled(d.exposures),
      purchases: shuffled(d.purchases),
      sessions: shuffled(d.sessions),
    };
    for (const [threads, rows] of [
      [1, d],
      [4, reordered],
    ] as const) {
      const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads });
      await load(engine, rows);
      engines.push(engine);
    }
  }, 120_000);
  afterAll(async () => {
    for (const e of engines) await e.close();
  });

  it('gives the same data version for the sufficient statistics and the same results rows', async () => {
    const until = ts(T0 + 16 * DAY_MS);
    const sql = renderTemplate(duckdbDialect, experimentsStatsSql([experiment], until), {});
    const written = [];
    const results = [];
    for (const engine of engines) {
      written.push(
        await engine.replaceTable({ table: 'experiments.experiment_sufficient_stats', selectSql: sql }),
      );
      const rows = await engine.query('SELECT * FROM experiments.experiment_sufficient_stats ORDER BY ALL');
      results.push({ rows, mart: experimentResultRows(experiment, rows) });
    }
    const [a, b] = results;
    // The data exercises what made doubles unstable: a fractional (interpolated) cap and large squares.
    const revenueRows = a?.rows.filter((r) => r.metric_id === 'revenue_per_user') ?? [];
    expect(revenueRows).toHaveLength(2);
    expect(revenueRows.some((r) => !Number.isInteger(Number(r.main_sum)))).toBe(true);
    expect(Math.max(...revenueRows.map((r) => Number(r.main_sum_squares)))).toBeGreaterThan(1e12);

    expect(written[0]?.rowCount).toBe(6);
    expect(written[1]?.dataVersion).toBe(written[0]?.dataVersion);
    expect(b?.rows).toEqual(a?.rows);
    expect(b?.mart).toEqual(a?.mart);
    expect(
      a?.mart.find((r) => r.metric_id === 'revenue_per_user' && r.variation === 'treatment')?.p_value,
    ).toEqual(expect.any(Number));
  });
});
