/**
 * The simulator's known true effect is recovered: simulate BookMyEvent (demo scale, 4 days, seed 7), land the
 * files with the demo's landing loaders, build everything the experiment results mart needs through the real
 * activities (planner order, no Temporal), publish the `experiments` group, and compare the published mart
 * with the simulator's ground truth: exposed users and converters per variation exactly, and the conversion
 * metric's relative-lift confidence interval covers the true lift (treatment ×1.2 → +20%).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { TesseraActivities } from '../../src/activities/types.js';
import { bookMyEvent } from '../../src/assets/index.js';
import { createDuckDbEngine, type Engine, type Row } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { simulate, type GroundTruth } from '../../src/simulator/index.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';

const START = '2026-11-01';
const DAYS = 4;
const LAST = '2026-11-04';
const SEED = 7;
// The demo's scale over 4 days exposes about 500 users: enough for an interval that says something (it
// excludes 0 for this seed) while the whole file runs in about 30 s.

let dir: string;
let truth: GroundTruth;
let engine: Engine;
let acts: TesseraActivities;
let results: Row[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-exp-sim-'));
  truth = await simulate({
    seed: SEED,
    start: START,
    days: DAYS,
    landingDir: join(dir, 'landing'),
    scale: 'demo',
  });
  engine = await createDuckDbEngine({ type: 'duckdb', path: join(dir, 'warehouse.duckdb') });
  const ledger = new MemoryLedger();
  acts = createActivities({
    definitions: bookMyEvent,
    engines: { duckdb: engine },
    defaultEngine: 'duckdb',
    ledger,
    loaders: landingLoaders({
      engine,
      landingDir: join(dir, 'landing'),
      piiKey: 'experiments-test-pii-key',
      pii: { user_db: { email: 'hash', phone: 'hash' } },
    }),
    alertRoutes: [],
    latenessMs: 0,
    logger: pino({ level: 'silent' }),
  });
  const plan = await acts.planRun({
    selection: '+experiments.mart_experiment_results',
    range: { from: START, to: LAST },
  });
  for (const step of plan.steps) {
    const r = await acts.materializeStep({ runId: 'exp-sim', step, force: false });
    if (r.status !== 'success') throw new Error(`${step.id}: ${r.error ?? 'failed'}`);
  }
  await acts.publishGroup({ group: 'experiments', partitionKey: LAST, runId: 'exp-sim' });
  results = await engine.query(
    `select * from experiments.mart_experiment_results where _partition_key = '${LAST}' order by metric_id, variation`,
  );
}, 240_000);

afterAll(async () => {
  await engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const row = (metric: string, variation: string): Row => {
  const r = results.find((x) => x.metric_id === metric && x.variation === variation);
  if (!r) throw new Error(`no result row ${metric} ${variation}`);
  return r;
};

describe('checkout_v2 on simulated BookMyEvent data', () => {
  it('counts exactly the exposed users and converters of the ground truth', () => {
    const truthOf = truth.experiment.variants;
    expect(truthOf.control.exposed_users + truthOf.treatment.exposed_users).toBeGreaterThan(400);
    for (const v of ['control', 'treatment'] as const) {
      const r = row('conversion', v);
      expect(r.users, v).toBe(truthOf[v].exposed_users);
      expect(r.main_sum, v).toBe(truthOf[v].converters);
      expect(r.mean as number).toBeCloseTo(truthOf[v].conversion_rate, 12);
    }
    // The simulator never shows a user two variations; every metric sees the same assignment.
    expect(new Set(results.map((r) => r.multiple_variation_users))).toEqual(new Set([0]));
    expect(new Set(results.filter((r) => r.variation === 'control').map((r) => r.users)).size).toBe(1);
  });

  it("the conversion lift's confidence interval covers the true relative lift", () => {
    const lift = truth.experiment.true_effect.relative_lift;
    expect(lift).toBeCloseTo(0.2, 12);
    const t = row('conversion', 'treatment');
    expect(t.lift_type).toBe('relative');
    expect(t.error).toBeNull();
    expect(t.ci_low as number).toBeLessThanOrEqual(lift);
    expect(t.ci_high as number).toBeGreaterThanOrEqual(lift);
    // The point estimate is the observed relative difference of conversion rates.
    const c = row('conversion', 'control');
    expect(t.lift as number).toBeCloseTo((t.mean as number) / (c.mean as number) - 1, 12);
    expect(t.p_value_adjusted as number).toBeGreaterThanOrEqual(t.p_value as number);
    expect(t.srm_mismatch).toBe(false);
  });

  it('every metric has a row per variation with its sufficient statistics', () => {
    expect(results.map((r) => `${String(r.metric_id)}/${String(r.variation)}`)).toEqual([
      'conversion/control',
      'conversion/treatment',
      'revenue_per_session/control',
      'revenue_per_session/treatment',
      'revenue_per_user/control',
      'revenue_per_user/treatment',
    ]);
    expect(row('revenue_per_user', 'treatment').covariate_sum).not.toBeNull();
    expect(row('revenue_per_session', 'treatment').denominator_sum as number).toBeGreaterThan(0);
  });
});
