/**
 * The experiment SQL generator on real DuckDB against a straightforward TypeScript computation over the same
 * random per-user data: assignments (first exposure, multi-variation exclusion, exposure window), binomial
 * windows and delays, mean and ratio metrics, absolute and percentile capping, CUPED covariates, filters.
 * The rows then go through analyzeExperiment, which must give what the reference sums give.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyzeExperiment,
  defineMetric,
  dialectSpellings,
  EXPERIMENT_SQL_COLUMNS,
  experimentStatsSql,
  sufficientStatsFromSqlRow,
  type MetricDefinition,
} from '../../src/experiments/index.js';
import { createDuckDbEngine, renderTemplate, type Engine, type Row } from '../../src/engines/index.js';
import { bigqueryDialect } from '../../src/engines/bigquery/bigquery-dialect.js';
import { duckdbDialect } from '../../src/engines/duckdb/duckdb-dialect.js';
import { sparkDialect } from '../../src/engines/spark/spark-dialect.js';
import { trinoDialect } from '../../src/engines/trino/trino-dialect.js';
import { int, pick, rng, uniform, type Rng } from './generators.js';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const iso = (ms: number): string => new Date(ms).toISOString();
const tsLit = (ms: number): string => `TIMESTAMP '${iso(ms).replace('T', ' ').replace('Z', '')}'`;

interface Exposure {
  exp: string;
  user: number;
  variant: string;
  ms: number;
}
interface Event {
  user: number;
  ms: number;
  value: number | null;
  status: string;
}
interface Case {
  exposures: Exposure[];
  orders: Event[];
  sessions: Event[];
  metrics: MetricDefinition[];
  keys: string[];
  untilMs: number;
  window: { start?: number; end?: number };
}

function makeCase(r: Rng, seed: number): Case {
  const exposures: Exposure[] = [];
  const orders: Event[] = [];
  const sessions: Event[] = [];
  const users = int(r, 5, 120);
  const variants = ['control', 'treatment', 'treatment_b'].slice(0, int(r, 2, 3));
  for (let u = 1; u <= users; u++) {
    const exp = pick(r, ['exp_a', 'exp_a', 'exp_b', 'exp_c']);
    const v = pick(r, variants);
    const n = int(r, 1, 3);
    const firstMs = T0 + Math.floor((r() * 10 * DAY_MS) / 1000) * 1000;
    for (let k = 0; k < n; k++) {
      const ms = k === 0 ? firstMs : firstMs + int(r, 0, 3 * 86_400) * 1000;
      // A few users see a second variation (to be excluded).
      exposures.push({ exp, user: u, variant: k > 0 && r() < 0.08 ? pick(r, variants) : v, ms });
    }
    for (let k = int(r, 0, 5); k > 0; k--) {
      // Some events fall exactly on window boundaries (exposure, +N days), others anywhere around.
      const ms =
        r() < 0.25 ? firstMs + int(r, -2, 4) * DAY_MS : T0 + Math.floor(uniform(r, -20, 16) * 86_400) * 1000;
      orders.push({
        user: u,
        ms,
        value: r() < 0.1 ? null : Math.round(Math.exp(uniform(r, 0, 6)) * 100) / 100,
        status: pick(r, ['confirmed', 'confirmed', 'cancelled']),
      });
    }
    for (let k = int(r, 0, 6); k > 0; k--)
      sessions.push({
        user: u,
        ms: T0 + Math.floor(uniform(r, -5, 16) * 86_400) * 1000,
        value: 1,
        status: '',
      });
  }
  const orderSource = (withValue: boolean, filter: boolean) => ({
    table: 'core.orders',
    unitColumn: 'user_id',
    timestampColumn: 'ts',
    ...(withValue ? { valueColumn: 'revenue' } : {}),
    ...(filter ? { filter: "status = 'confirmed'" } : {}),
  });
  const window = () => (r() < 0.7 ? { conversionWindowDays: pick(r, [0.5, 1, 2, 3, 7]) } : {});
  const delay = () => (r() < 0.3 ? { conversionDelayHours: pick(r, [1, 6, 24]) } : {});
  const capping = () =>
    pick(r, [
      undefined,
      { type: 'absolute' as const, value: pick(r, [5, 50, 200]) },
      { type: 'percentile' as const, percentile: pick(r, [0.5, 0.9, 0.99]), ignoreZeros: r() < 0.5 },
    ]);
  const cuped = () => (r() < 0.5 ? { cuped: { lookbackDays: pick(r, [1, 7, 14]) } } : {});
  const metrics: MetricDefinition[] = [
    defineMetric({
      id: 'purchase',
      name: 'Purchase',
      type: 'binomial',
      source: orderSource(false, r() < 0.5),
      ...window(),
      ...delay(),
      ...cuped(),
    }),
    defineMetric({
      id: 'revenue',
      name: 'Revenue',
      type: 'mean',
      source: orderSource(true, r() < 0.5),
      ...window(),
      ...delay(),
      ...cuped(),
      ...(() => {
        const c = capping();
        return c ? { capping: c } : {};
      })(),
    }),
    defineMetric({
      id: 'revenue_per_session',
      name: 'Revenue per session',
      type: 'ratio',
      numerator: orderSource(true, false),
      denominator: { table: 'core.sessions', unitColumn: 'user_id', timestampColumn: 'ts' },
      ...window(),
      ...(() => {
        const c = capping();
        return c ? { capping: c } : {};
      })(),
    }),
  ];
  const w: Case['window'] = {};
  if (r() < 0.4) w.start = T0 + int(r, 0, 3) * DAY_MS;
  if (r() < 0.4) w.end = T0 + int(r, 5, 9) * DAY_MS;
  return {
    exposures,
    orders,
    sessions,
    metrics: seed % 5 === 0 ? metrics.slice(0, 1) : metrics,
    keys: r() < 0.5 ? ['exp_a', 'exp_b'] : ['exp_a', 'exp_b', 'exp_c'],
    untilMs: T0 + int(r, 8, 14) * DAY_MS,
    window: w,
  };
}

/** percentile_cont: linear interpolation between order statistics, rounded to 6 decimals as the SQL's cap. */
function percentileCont(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return Math.round(((s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo)) * 1e6) / 1e6;
}

type RefRow = Record<(typeof EXPERIMENT_SQL_COLUMNS)[number], string | number | null>;

/** The reference: the same definitions, computed one unit at a time. */
function reference(c: Case): RefRow[] {
  const units = new Map<
    string,
    { exp: string; user: number; first: number; variants: Set<string>; firstVariant: string }
  >();
  for (const e of c.exposures) {
    if (!c.keys.includes(e.exp) || e.ms >= c.untilMs) continue;
    if (c.window.start !== undefined && e.ms < c.window.start) continue;
    if (c.window.end !== undefined && e.ms >= c.window.end) continue;
    const k = `${e.exp}|${e.user}`;
    const u = units.get(k);
    if (!u)
      units.set(k, {
        exp: e.exp,
        user: e.user,
        first: e.ms,
        variants: new Set([e.variant]),
        firstVariant: e.variant,
      });
    else {
      u.first = Math.min(u.first, e.ms);
      u.variants.add(e.variant);
      // MIN(variation) over the unit's exposures; only single-variation units are kept, so any will do.
      if (e.variant < u.firstVariant) u.firstVariant = e.variant;
    }
  }
  const excluded = new Map<string, number>();
  for (const u of units.values())
    excluded.set(u.exp, (excluded.get(u.exp) ?? 0) + (u.variants.size > 1 ? 1 : 0));
  const assigned = [...units.values()].filter((u) => u.variants.size === 1);

  const out: RefRow[] = [];
  for (const m of c.metrics) {
    const perUnit = (
      u: (typeof assigned)[number],
      src: { table: string; valueColumn?: string | undefined; filter?: string | undefined },
      range: 'main' | 'pre',
    ): number => {
      const events = (src.table === 'core.orders' ? c.orders : c.sessions).filter(
        (e) => e.user === u.user && e.ms < c.untilMs && (!src.filter || e.status === 'confirmed'),
      );
      const startMs = u.first + m.conversionDelayHours * 3_600_000;
      const lookback = m.type !== 'ratio' && m.cuped ? m.cuped.lookbackDays : 0;
      const inRange = (ms: number): boolean =>
        range === 'pre'
          ? ms >= u.first - lookback * DAY_MS && ms < u.first
          : ms >= startMs &&
            (m.conversionWindowDays === undefined || ms < startMs + m.conversionWindowDays * DAY_MS);
      const hits = events.filter((e) => inRange(e.ms));
      if (m.type === 'binomial') return hits.length > 0 ? 1 : 0;
      return hits.reduce((s, e) => s + (src.valueColumn ? (e.value ?? 0) : 1), 0);
    };
    const rows = assigned.map((u) => {
      if (m.type === 'ratio')
        return { u, v: perUnit(u, m.numerator, 'main'), d: perUnit(u, m.denominator, 'main'), c: 0 };
      return { u, v: perUnit(u, m.source, 'main'), d: 0, c: m.cuped ? perUnit(u, m.source, 'pre') : 0 };
    });
    const capping = m.type === 'binomial' ? undefined : m.capping;
    for (const exp of [...new Set(rows.map((x) => x.u.exp))].sort()) {
      const mine = rows.filter((x) => x.u.exp === exp);
      const cap = (col: 'v' | 'd'): number | null => {
        if (!capping) return null;
        if (capping.type === 'absolute') return capping.value;
        const vals = mine.map((x) => x[col]).filter((x) => !capping.ignoreZeros || x !== 0);
        return percentileCont(vals, capping.percentile);
      };
      const capV = cap('v');
      const capD = m.type === 'ratio' ? cap('d') : null;
      const clip = (x: number, k: number | null): number => (k !== null && x > k ? k : x);
      for (const variation of [...new Set(mine.map((x) => x.u.firstVariant))].sort()) {
        const g = mine.filter((x) => x.u.firstVariant === variation);
        const sum = (f: (x: (typeof g)[number]) => number): number => g.reduce((s, x) => s + f(x), 0);
        const v = (x: (typeof g)[number]) => clip(x.v, capV);
        const d = (x: (typeof g)[number]) => clip(x.d, capD);
        const cv = (x: (typeof g)[number]) => clip(x.c, capV);
        const ratio = m.type === 'ratio';
        const cuped = m.type !== 'ratio' && m.cuped !== undefined;
        out.push({
          experiment_key: exp,
          metric_id: m.id,
          variation,
          users: g.length,
          main_sum: sum(v),
          main_sum_squares: sum((x) => v(x) ** 2),
          denominator_sum: ratio ? sum(d) : null,
          denominator_sum_squares: ratio ? sum((x) => d(x) ** 2) : null,
          main_denominator_sum_product: ratio ? sum((x) => v(x) * d(x)) : null,
          covariate_sum: cuped ? sum(cv) : null,
          covariate_sum_squares: cuped ? sum((x) => cv(x) ** 2) : null,
          main_covariate_sum_product: cuped ? sum((x) => v(x) * cv(x)) : null,
          multiple_variation_users: excluded.get(exp) ?? 0,
        });
      }
    }
  }
  const cmp = (a: RefRow, b: RefRow): number => {
    for (const col of ['experiment_key', 'metric_id', 'variation'] as const) {
      const x = String(a[col]);
      const y = String(b[col]);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
  return out.sort(cmp);
}

async function load(engine: Engine, c: Case): Promise<void> {
  const values = <T>(xs: readonly T[], f: (x: T) => string): string => xs.map((x) => `(${f(x)})`).join(', ');
  const lit = (v: number | null) => (v === null ? 'NULL' : String(v));
  await engine.execute(`
    CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS core;
    CREATE OR REPLACE TABLE raw.exposures (experiment_key VARCHAR, user_id VARCHAR, variant VARCHAR, derived_tstamp TIMESTAMP);
    CREATE OR REPLACE TABLE core.orders (user_id BIGINT, ts TIMESTAMP, revenue DOUBLE, status VARCHAR);
    CREATE OR REPLACE TABLE core.sessions (user_id BIGINT, ts TIMESTAMP);
    INSERT INTO raw.exposures VALUES ${values(c.exposures, (e) => `'${e.exp}', '${e.user}', '${e.variant}', ${tsLit(e.ms)}`)};
    -- A user without a user id and an exposure without an experiment are ignored.
    INSERT INTO raw.exposures VALUES (NULL, '999', 'control', ${tsLit(T0)}), ('exp_a', NULL, 'control', ${tsLit(T0)});
  `);
  if (c.orders.length > 0)
    await engine.execute(
      `INSERT INTO core.orders VALUES ${values(c.orders, (e) => `${e.user}, ${tsLit(e.ms)}, ${lit(e.value)}, '${e.status}'`)}`,
    );
  if (c.sessions.length > 0)
    await engine.execute(
      `INSERT INTO core.sessions VALUES ${values(c.sessions, (e) => `${e.user}, ${tsLit(e.ms)}`)}`,
    );
}

const EXPOSURES = {
  table: 'raw.exposures',
  unitColumn: 'user_id',
  experimentColumn: 'experiment_key',
  variationColumn: 'variant',
  timestampColumn: 'derived_tstamp',
};

/** The generator's portable template, rendered for DuckDB as the materialization does. */
const sqlFor = (c: Case): string => renderTemplate(duckdbDialect, templateFor(c), {});
const templateFor = (c: Case): string =>
  experimentStatsSql({
    exposures: EXPOSURES,
    experimentKeys: c.keys,
    metrics: c.metrics,
    until: tsLit(c.untilMs),
    exposureWindow: {
      ...(c.window.start !== undefined ? { start: iso(c.window.start) } : {}),
      ...(c.window.end !== undefined ? { end: iso(c.window.end) } : {}),
    },
  });

function expectRowsClose(actual: Row[], expected: RefRow[], label: string): void {
  expect(
    actual.map((r) => [r.experiment_key, r.metric_id, r.variation, r.users, r.multiple_variation_users]),
    label,
  ).toEqual(
    expected.map((r) => [r.experiment_key, r.metric_id, r.variation, r.users, r.multiple_variation_users]),
  );
  actual.forEach((row, i) => {
    const want = expected[i] as RefRow;
    for (const col of EXPERIMENT_SQL_COLUMNS) {
      const a = row[col];
      const b = want[col];
      if (typeof b === 'number') {
        expect(typeof a, `${label} ${col}`).toBe('number');
        expect(
          Math.abs((a as number) - b),
          `${label} row ${i} ${col}: ${String(a)} vs ${b}`,
        ).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
      } else expect(a, `${label} ${col}`).toBe(b);
    }
  });
}

describe('experiment sufficient statistics SQL on DuckDB', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 2 });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('equals the per-unit TypeScript computation on 60 random data sets', async () => {
    let rows = 0;
    let excluded = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const c = makeCase(rng(seed * 7919), seed);
      await load(engine, c);
      const actual = await engine.query(sqlFor(c));
      const expected = reference(c);
      expectRowsClose(actual, expected, `seed ${seed}`);
      rows += actual.length;
      excluded += actual.reduce((n, r) => n + Number(r.multiple_variation_users), 0);
    }
    // The generator must actually exercise the paths it claims to.
    expect(rows).toBeGreaterThan(300);
    expect(excluded).toBeGreaterThan(0);
  });

  it('feeds analyzeExperiment: the SQL rows give the same analysis as the reference sums', async () => {
    for (let seed = 101; seed <= 110; seed++) {
      const c = makeCase(rng(seed), seed);
      await load(engine, c);
      const actual = await engine.query(sqlFor(c));
      const expected = reference(c);
      const analyse = (rows: readonly Record<string, unknown>[]) => {
        const mine = rows.filter((r) => r.experiment_key === 'exp_a');
        const variations = [...new Set(mine.map((r) => String(r.variation)))].sort();
        if (variations.length < 2) return undefined;
        const stats = mine.map((r) => ({ metricId: String(r.metric_id), ...sufficientStatsFromSqlRow(r) }));
        return analyzeExperiment({
          settings: {
            variations: variations.map((id) => ({ id, weight: 1 / variations.length })),
            correction: 'holm-bonferroni',
          },
          units: Object.fromEntries(
            stats.filter((s) => s.metricId === 'purchase').map((s) => [s.variation, s.users]),
          ),
          metrics: c.metrics.map((metric) => ({
            metric,
            role: 'goal' as const,
            rows: stats.filter((s) => s.metricId === metric.id).map(({ metricId: _m, ...s }) => s),
          })),
        });
      };
      const a = analyse(actual);
      const b = analyse(expected as unknown as Record<string, unknown>[]);
      expect(a === undefined, `seed ${seed}`).toBe(b === undefined);
      if (!a || !b) continue;
      expect(a.srm.pValue).toBeCloseTo(b.srm.pValue, 12);
      a.metrics.forEach((m, i) =>
        m.variations.forEach((v, j) => {
          const w = b.metrics[i]?.variations[j];
          expect(v.users).toBe(w?.users);
          expect(v.mean).toBeCloseTo(w?.mean ?? NaN, 9);
          if (v.result && w?.result && 'pValue' in v.result && 'pValue' in w.result) {
            expect(v.result.pValue).toBeCloseTo(w.result.pValue, 9);
            expect(v.result.ci[0]).toBeCloseTo(w.result.ci[0], 9);
          }
        }),
      );
    }
  });

  it('is a portable template that every dialect renders, with no DuckDB-only syntax', () => {
    const c = makeCase(rng(3), 3);
    const template = templateFor(c);
    expect(template).not.toMatch(
      /group by all|::|quantile_cont|percentile_cont|approx_percentile|interval \d/i,
    );
    expect(template).toContain('{{ t.text }}');
    expect(template).toMatch(/\{\{ add_minutes\(a\.first_exposed_at, \d+\) \}\}/);
    for (const d of [duckdbDialect, trinoDialect, sparkDialect, bigqueryDialect]) {
      const rendered = renderTemplate(d, template, {});
      expect(rendered, d.name).not.toContain('{{');
      expect(rendered, d.name).toContain(`AS ${d.portable.types.text})`);
    }
    // The template rendered for a dialect is the query spelled for it directly.
    const direct = { ...c, window: {} };
    for (const d of [duckdbDialect, trinoDialect, sparkDialect])
      expect(renderTemplate(d, templateFor(direct), {}), d.name).toBe(
        experimentStatsSql({
          exposures: EXPOSURES,
          experimentKeys: direct.keys,
          metrics: direct.metrics,
          until: tsLit(direct.untilMs),
          spellings: dialectSpellings(d),
        }),
      );
    expect(renderTemplate(trinoDialect, template, {})).toMatch(/INTERVAL '\d+' MINUTE/);
    expect(renderTemplate(bigqueryDialect, template, {})).toMatch(
      /TIMESTAMP_ADD\(a\.first_exposed_at, INTERVAL -?\d+ MINUTE\)/,
    );
    const exposures = { ...EXPOSURES, timestampColumn: 'ts' };
    // Offsets are whole minutes: the declaration refuses others, and so does the generator.
    const quick = { id: 'quick', name: 'Quick', type: 'binomial' as const, source: { table: 'core.orders' } };
    expect(() => defineMetric({ ...quick, conversionDelayHours: 0.001 })).toThrow(/whole number of minutes/);
    const unchecked = { ...defineMetric(quick), conversionDelayHours: 0.001 };
    expect(() => experimentStatsSql({ exposures, metrics: [unchecked] })).toThrow(/whole number of minutes/);
    expect(() =>
      experimentStatsSql({
        exposures,
        metrics: [c.metrics[0] as MetricDefinition, c.metrics[0] as MetricDefinition],
      }),
    ).toThrow(/listed twice/);
  });
});
