import { ApplicationFailure } from '@temporalio/common';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { TesseraActivities } from '../../src/activities/types.js';
import type { Definitions } from '../../src/dsl/index.js';
import { USERS_LOG, usersCatalog, usersLoader, usersMartSql } from '../fixtures/users-catalog.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { plan, type PlanStep } from '../../src/planner/index.js';

const defsWith = (sql: string): Definitions => usersCatalog(sql);
const martSql = usersMartSql();
const log = USERS_LOG;
const changeLoader = (engine: Engine, rows: () => string) => usersLoader(engine, () => [rows()]);

describe('activities on real DuckDB', () => {
  let engine: Engine;
  let ledger: MemoryLedger;
  let rows: string[];
  const make = (defs: Definitions): TesseraActivities =>
    createActivities({
      definitions: defs,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger,
      loaders: { user_db: changeLoader(engine, () => rows.join(',')) },
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });

  beforeEach(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
    ledger = new MemoryLedger();
    rows = [...log];
  });
  afterEach(async () => engine.close());

  async function runPlan(
    acts: TesseraActivities,
    defs: Definitions,
    from: string,
    to: string,
    runId = 'run-1',
  ) {
    const p = await acts.planRun({ selection: '*', range: { from, to } });
    const results = [];
    for (const step of p.steps) results.push(await acts.materializeStep({ runId, step, force: false }));
    return { plan: p, results, defs };
  }

  it('materializes raw → SCD2 → snapshot → mart, publishes the group, and plans nothing more', async () => {
    const defs = defsWith(martSql);
    const acts = make(defs);
    const { results } = await runPlan(acts, defs, '2026-11-01', '2026-11-02');
    expect(results.every((r) => r.status === 'success')).toBe(true);
    const dim = await engine.query(
      `select user_id, country, is_current from core.dim_users order by user_id, valid_from`,
    );
    expect(dim).toEqual([
      { user_id: 1, country: 'DE', is_current: false },
      { user_id: 1, country: 'FR', is_current: true },
      { user_id: 2, country: 'FR', is_current: true },
    ]);
    // Day 1 ends with one user in each country; day 2 with both in France.
    const build = await engine.query(
      `select _partition_key, country, users from marts.users_by_country__build order by 1, 2`,
    );
    expect(build).toEqual([
      { _partition_key: '2026-11-01', country: 'DE', users: 1 },
      { _partition_key: '2026-11-01', country: 'FR', users: 1 },
      { _partition_key: '2026-11-02', country: 'FR', users: 2 },
    ]);
    expect(await acts.barrierStatus({ group: 'users', partitionKey: '2026-11-02', latenessMs: 0 })).toEqual({
      ready: true,
      waitingOn: [],
    });
    const { version } = await acts.publishGroup({
      group: 'users',
      partitionKey: '2026-11-02',
      runId: 'run-1',
    });
    // Only the partition behind the barrier: 2026-11-01 was never published.
    expect(await engine.query(`select _partition_key, country, users from marts.users_by_country`)).toEqual([
      { _partition_key: '2026-11-02', country: 'FR', users: 2 },
    ]);
    expect((await ledger.publications('users')).map((p) => p.version)).toEqual([version]);
    // Idempotent: everything is fresh now, and publishing again changes nothing.
    expect(
      (await acts.planRun({ selection: '*', range: { from: '2026-11-01', to: '2026-11-02' } })).steps,
    ).toEqual([]);
    expect(
      (await acts.publishGroup({ group: 'users', partitionKey: '2026-11-02', runId: 'run-1' })).version,
    ).toBe(version);
  });

  it('re-running a step leaves identical tables and data versions', async () => {
    const defs = defsWith(martSql);
    const acts = make(defs);
    const first = await runPlan(acts, defs, '2026-11-01', '2026-11-02');
    const snapshot = await engine.query(`select * from marts.users_by_country__build order by all`);
    const forced = plan(
      defs,
      { selection: '*', range: { from: '2026-11-01', to: '2026-11-02' }, force: true },
      await ledger.view(defs.select('*')),
    );
    const again = [];
    for (const step of forced.steps)
      again.push(await acts.materializeStep({ runId: 'run-2', step, force: true }));
    expect(again.map((r) => r.dataVersion)).toEqual(first.results.map((r) => r.dataVersion));
    expect(await engine.query(`select * from marts.users_by_country__build order by all`)).toEqual(snapshot);
  });

  it('a failed blocking check fails the step, holds the barrier and keeps the previous version served', async () => {
    const good = defsWith(martSql);
    const acts = make(good);
    await runPlan(acts, good, '2026-11-01', '2026-11-02');
    await acts.publishGroup({ group: 'users', partitionKey: '2026-11-02', runId: 'run-1' });
    const served = await engine.query(`select * from marts.users_by_country order by all`);

    // New code that produces a NULL country: the not_null check blocks it.
    const bad = defsWith(
      martSql.replace(
        'select country',
        "select case when country = 'FR' then null else country end as country",
      ),
    );
    const badActs = make(bad);
    const p = await badActs.planRun({ selection: 'marts.users_by_country', partitionKeys: ['2026-11-02'] });
    expect(p.steps.map((s) => [s.id, s.reason])).toEqual([
      ['marts.users_by_country@2026-11-02', 'code_changed'],
    ]);
    const r = await badActs.materializeStep({ runId: 'run-3', step: p.steps[0] as PlanStep, force: false });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/blocking check failed: not_null\(country\)/);
    const barrier = await badActs.barrierStatus({
      group: 'users',
      partitionKey: '2026-11-02',
      latenessMs: 0,
    });
    expect(barrier.ready).toBe(false);
    expect(barrier.waitingOn).toContain('marts.users_by_country@2026-11-02 failed before');
    await expect(
      badActs.publishGroup({ group: 'users', partitionKey: '2026-11-02', runId: 'run-3' }),
    ).rejects.toThrow(/not ready/);
    expect(await engine.query(`select * from marts.users_by_country order by all`)).toEqual(served);
  });

  it('a publish serves exactly the partitions that passed their barrier, never a failing one', async () => {
    const good = defsWith(martSql);
    const acts = make(good);
    await runPlan(acts, good, '2026-11-01', '2026-11-02');
    await acts.publishGroup({ group: 'users', partitionKey: '2026-11-01', runId: 'run-a' });
    const day1 = [
      { _partition_key: '2026-11-01', country: 'DE', users: 1 },
      { _partition_key: '2026-11-01', country: 'FR', users: 1 },
    ];
    const served = () =>
      engine.query(`select _partition_key, country, users from marts.users_by_country order by all`);
    expect(await served()).toEqual(day1);

    // 2026-11-02 is rebuilt by code that fails its blocking check: its rows stay in the build table.
    const bad = defsWith(
      martSql.replace(
        'select country',
        "select case when {{ partition_key }} = '2026-11-02' then null else country end as country",
      ),
    );
    const badActs = make(bad);
    const [step] = (
      await badActs.planRun({ selection: 'marts.users_by_country', partitionKeys: ['2026-11-02'] })
    ).steps;
    expect(
      (await badActs.materializeStep({ runId: 'run-b', step: step as PlanStep, force: false })).status,
    ).toBe('failed');
    await expect(
      badActs.publishGroup({ group: 'users', partitionKey: '2026-11-02', runId: 'run-b' }),
    ).rejects.toThrow(/not ready/);
    // Publishing 2026-11-01 again (its barrier holds) must not bring the failing day along.
    await acts.publishGroup({ group: 'users', partitionKey: '2026-11-01', runId: 'run-c' });
    expect(await served()).toEqual(day1);
    expect(await engine.query(`select count(*)::INT as n from marts.users_by_country__build`)).toEqual([
      { n: 3 },
    ]);
  });

  it('refuses to publish rows that changed after their checks passed', async () => {
    const defs = defsWith(martSql);
    const acts = make(defs);
    await runPlan(acts, defs, '2026-11-01', '2026-11-02');
    // A rebuild in flight (written, checks not yet recorded) looks like this to the publisher.
    await engine.execute(
      `update marts.users_by_country__build set users = 99 where _partition_key = '2026-11-02'`,
    );
    await expect(
      acts.publishGroup({ group: 'users', partitionKey: '2026-11-02', runId: 'run-1' }),
    ).rejects.toThrow(/changed since its checks passed/);
  });

  it('waits for source watermarks past the partition end plus lateness', async () => {
    const defs = defsWith(martSql);
    const acts = make(defs);
    await runPlan(acts, defs, '2026-11-01', '2026-11-02');
    const late = await acts.barrierStatus({
      group: 'users',
      partitionKey: '2026-11-02',
      latenessMs: 7 * 3600_000,
    });
    expect(late.waitingOn).toEqual(['watermark user_db 2026-11-03T06:00:00.000Z < 2026-11-03T07:00:00.000Z']);
  });

  it('classifies SQL errors as non-retryable and records the failure', async () => {
    const defs = defsWith('select nonexistent_column from core.users_daily');
    const acts = make(defs);
    const p = await acts.planRun({ selection: '*', range: { from: '2026-11-01', to: '2026-11-01' } });
    const steps = [...p.steps];
    const last = steps.pop() as PlanStep;
    for (const step of steps) await acts.materializeStep({ runId: 'r', step, force: false });
    const err = await acts.materializeStep({ runId: 'r', step: last, force: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('SqlError');
    expect((await ledger.history('marts.users_by_country', '2026-11-01'))[0]?.status).toBe('failed');
  });

  it('plans a schedule tick as the newest closed partitions', async () => {
    const acts = make(defsWith(martSql));
    const tick = await acts.tickRequest({
      schedule: 'daily',
      selection: '*',
      publishGroups: ['users'],
      asOf: '2026-11-05T02:30:00Z',
    });
    expect(tick).toEqual({
      request: { selection: '*', partitionKeys: ['2026-11-04'], now: '2026-11-05T02:30:00.000Z' },
      publish: [{ group: 'users', partitionKey: '2026-11-04' }],
    });
  });
});
