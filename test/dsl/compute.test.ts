/**
 * Compute assets ("an asset is a function"): validation, code versions that follow the function's source, and
 * the materialize activity writing the returned rows into the partition atomically on real DuckDB.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { TesseraActivities } from '../../src/activities/types.js';
import {
  asset,
  daily,
  defineDefinitions,
  normalizeSource,
  ValidationError,
  type AssetSpec,
  type ComputeFn,
  type Definitions,
} from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import type { PlanStep } from '../../src/planner/index.js';

const byDay = daily({ start: '2026-11-01' });
const compute: ComputeFn = async () => ({ columns: [{ name: 'x', type: 'integer' }], rows: [{ x: 1 }] });

function problems(spec: AssetSpec): string[] {
  try {
    asset(spec);
    return [];
  } catch (e) {
    if (e instanceof ValidationError) return e.problems.map((p) => p.message);
    throw e;
  }
}

describe('compute in the DSL', () => {
  it('custom needs exactly one of sql, compute and ingest; marts may compute; other kinds may not', () => {
    expect(problems({ key: 'x.a', kind: 'custom', compute })).toEqual([]);
    expect(problems({ key: 'x.a', kind: 'mart', compute })).toEqual([]);
    expect(problems({ key: 'x.a', kind: 'custom' })).toEqual([
      'asset "x.a": kind custom needs sql (the SELECT producing a partition), or compute (a function returning its rows)',
    ]);
    expect(problems({ key: 'x.a', kind: 'custom', compute, sql: 'select 1' })).toEqual([
      'asset "x.a": give exactly one of sql, compute, not several',
    ]);
    expect(
      problems({ key: 'x.a', kind: 'custom', compute, ingest: { source: 's', stream: 't' } })[0],
    ).toContain('give exactly one of compute, ingest');
    expect(problems({ key: 'x.a', kind: 'fact', compute })).toEqual([
      'asset "x.a": compute only applies to kinds custom and mart',
    ]);
    expect(problems({ key: 'x.a', kind: 'custom', compute: 'select 1' as unknown as ComputeFn })[0]).toMatch(
      /compute.*must be an async function/,
    );
  });

  it('the code version follows the function source, not its identity', () => {
    const v = (fn: ComputeFn, version?: string) =>
      asset({ key: 'x.a', kind: 'custom', compute: fn, ...(version ? { version } : {}) }).codeVersion;
    const a: ComputeFn = async () => ({ columns: [{ name: 'x', type: 'integer' }], rows: [{ x: 1 }] });
    const sameSource: ComputeFn = async () => ({
      columns: [{ name: 'x', type: 'integer' }],
      rows: [{ x: 1 }],
    });
    const changed: ComputeFn = async () => ({ columns: [{ name: 'x', type: 'integer' }], rows: [{ x: 2 }] });
    expect(v(a)).toBe(v(sameSource));
    expect(v(a)).not.toBe(v(changed));
    // Formatting does not count (prettier wraps and adds trailing commas); text inside strings does.
    expect(normalizeSource('async (ctx) => ({\n  rows: [\n    { x: 1 },\n  ],\n})')).toBe(
      normalizeSource('async (ctx) => ({ rows: [{ x: 1 }] })'),
    );
    expect(normalizeSource("f('a  b', `x  ${y}`)")).toBe("f('a  b',`x  ${y}`)");
    expect(normalizeSource('return a  instanceof   B')).toBe('return a instanceof B');
    // What the function closes over is not in its source: `version` carries it.
    expect(v(a, 'cfg-1')).not.toBe(v(a, 'cfg-2'));
  });
});

describe('materializing a compute asset on DuckDB', () => {
  let engine: Engine;
  let ledger: MemoryLedger;
  let seen: { partitionKey: string; window?: { start: string; end: string } }[];

  const defs = (fn: ComputeFn, kind: 'custom' | 'mart' = 'custom'): Definitions =>
    defineDefinitions({
      assets: [
        asset({
          key: 'src.sales',
          kind: 'fact',
          partitions: byDay,
          sql: `select * from (values (1, 10.5), (2, 20.0), (3, 5.25)) as t(id, amount) where id <= cast(strftime({{ partition_start }}, '%d') as int)`,
        }),
        asset({
          key: 'out.summary',
          kind,
          partitions: byDay,
          deps: ['src.sales'],
          compute: fn,
          ...(kind === 'mart' ? { publishGroup: 'g' } : {}),
        }),
      ],
      ...(kind === 'mart' ? { publishGroups: [{ name: 'g' }] } : {}),
    });

  const summarize: ComputeFn = async (ctx) => {
    seen.push({ partitionKey: ctx.partitionKey, ...(ctx.window ? { window: ctx.window } : {}) });
    const rows = await ctx.query(
      `select count(*) as n, sum(amount) as total from src.sales where _partition_key = '${ctx.partitionKey}'`,
    );
    const r = rows[0] ?? {};
    return {
      columns: [
        { name: 'day', type: 'date' },
        { name: 'sales', type: 'integer' },
        { name: 'total', type: 'double' },
        { name: 'label', type: 'string' },
        { name: 'big', type: 'boolean' },
        { name: 'computed_at', type: 'timestamp' },
      ],
      rows: [
        {
          day: ctx.partitionKey,
          sales: Number(r.n),
          total: Number(r.total),
          label: `it's ${ctx.partitionKey}`,
          big: Number(r.total) > 20,
          computed_at: ctx.window?.end ?? null,
        },
        { day: ctx.partitionKey, sales: null, label: 'no total' },
      ],
    };
  };

  const make = (d: Definitions): TesseraActivities =>
    createActivities({
      definitions: d,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger,
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });
  const step = (assetKey: string, partitionKey: string): PlanStep => ({
    id: `${assetKey}@${partitionKey}`,
    assetKey,
    partitionKey,
    reason: 'missing',
    upstream: [],
    inputs: [],
  });
  const run = (acts: TesseraActivities, key: string, day: string) =>
    acts.materializeStep({ runId: 'r1', step: step(key, day), force: false });

  beforeEach(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
    ledger = new MemoryLedger();
    seen = [];
  });
  afterEach(async () => engine.close());

  it('replaces the partition with the returned rows, typed, with _partition_key; re-runs are idempotent', async () => {
    const acts = make(defs(summarize));
    for (const d of ['2026-11-02', '2026-11-03']) {
      expect((await run(acts, 'src.sales', d)).status).toBe('success');
      expect((await run(acts, 'out.summary', d)).status).toBe('success');
    }
    expect(seen).toEqual([
      {
        partitionKey: '2026-11-02',
        window: { start: '2026-11-02T00:00:00.000Z', end: '2026-11-03T00:00:00.000Z' },
      },
      {
        partitionKey: '2026-11-03',
        window: { start: '2026-11-03T00:00:00.000Z', end: '2026-11-04T00:00:00.000Z' },
      },
    ]);
    const read = () =>
      engine.query(
        `select _partition_key, cast(day as varchar) as day, sales, total, label, big, cast(computed_at as varchar) as at from out.summary order by _partition_key, sales nulls last`,
      );
    expect(await read()).toEqual([
      {
        _partition_key: '2026-11-02',
        day: '2026-11-02',
        sales: 2,
        total: 30.5,
        label: "it's 2026-11-02",
        big: true,
        at: '2026-11-03 00:00:00',
      },
      {
        _partition_key: '2026-11-02',
        day: '2026-11-02',
        sales: null,
        total: null,
        label: 'no total',
        big: null,
        at: null,
      },
      {
        _partition_key: '2026-11-03',
        day: '2026-11-03',
        sales: 3,
        total: 35.75,
        label: "it's 2026-11-03",
        big: true,
        at: '2026-11-04 00:00:00',
      },
      {
        _partition_key: '2026-11-03',
        day: '2026-11-03',
        sales: null,
        total: null,
        label: 'no total',
        big: null,
        at: null,
      },
    ]);
    const types = await engine.describeTable('out.summary');
    expect(types?.map((c) => `${c.name}:${c.type}`)).toEqual([
      'day:DATE',
      'sales:BIGINT',
      'total:DOUBLE',
      'label:VARCHAR',
      'big:BOOLEAN',
      'computed_at:TIMESTAMP',
      '_partition_key:VARCHAR',
    ]);
    const before = await read();
    const again = await acts.materializeStep({
      runId: 'r2',
      step: step('out.summary', '2026-11-02'),
      force: true,
    });
    expect(again.rowCount).toBe(2);
    expect(await read()).toEqual(before);
  });

  it('an empty result empties only its partition; a mart computes into its build table', async () => {
    let empty = false;
    const fn: ComputeFn = async (ctx) =>
      empty
        ? { columns: [{ name: 'k', type: 'string' }], rows: [] }
        : { columns: [{ name: 'k', type: 'string' }], rows: [{ k: ctx.partitionKey }] };
    const acts = make(defs(fn, 'mart'));
    await run(acts, 'out.summary', '2026-11-02');
    await run(acts, 'out.summary', '2026-11-03');
    empty = true;
    const r = await run(acts, 'out.summary', '2026-11-02');
    expect(r.status).toBe('success');
    expect(r.rowCount).toBe(0);
    expect(await engine.query(`select _partition_key, k from out.summary__build`)).toEqual([
      { _partition_key: '2026-11-03', k: '2026-11-03' },
    ]);
    // Publication flips the group's view at the asset key to a copy of the build table.
    expect(await engine.describeTable('out.summary')).toBeUndefined();
  });

  it('refuses writes through query, undeclared columns and values of the wrong type; the step fails', async () => {
    const cases: [ComputeFn, RegExp][] = [
      [
        async (ctx) => {
          await ctx.query('delete from src.sales');
          return { columns: [{ name: 'k', type: 'string' }], rows: [] };
        },
        /only a read-only SELECT/,
      ],
      [
        async () => ({ columns: [{ name: 'k', type: 'string' }], rows: [{ k: 'a', extra: 1 }] }),
        /undeclared columns extra/,
      ],
      [
        async () => ({ columns: [{ name: 'n', type: 'integer' }], rows: [{ n: 1.5 }] }),
        /column n is integer, got 1.5/,
      ],
      [async () => ({ columns: [{ name: '_partition_key', type: 'string' }], rows: [] }), /added by Tessera/],
    ];
    for (const [fn, message] of cases) {
      const acts = make(defs(fn));
      await run(acts, 'src.sales', '2026-11-02');
      await expect(run(acts, 'out.summary', '2026-11-02')).rejects.toThrow(message);
    }
    expect(await engine.query(`select count(*)::int as n from src.sales`)).toEqual([{ n: 2 }]);
    expect((await ledger.view(['out.summary'])).latest('out.summary', '2026-11-02')?.status).toBe('failed');
  });
});
