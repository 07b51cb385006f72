/**
 * Where a step's time goes inside the activity: the worker's own `materializeStep` (src/activities/materialize.ts)
 * run in this process, step after step, on a copy of the raw data and ledger, with the ledger's and the engine's
 * methods timed. Temporal is absent here, so what the worker run takes beyond this is dispatch (workflows,
 * activity tasks, child workflows, heartbeats) and the backfill's planning.
 */
import type { Definitions } from '../../src/dsl/index.js';
import { createDuckDbEngine } from '../../src/engines/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { materializeStep } from '../../src/activities/materialize.js';
import type { PlanStep } from '../../src/planner/index.js';
import type { BaselineStep } from './baseline.js';

export interface StepProfile extends BaselineStep {
  readonly kind: string;
  readonly seconds: number;
  /** The engine's write (replace, SCD2 merge, a compute function's reads), bookkeeping statements included. */
  readonly write: number;
  readonly checks: number;
  readonly ledger: number;
}

export interface ProfileResult {
  readonly seconds: number;
  readonly steps: readonly StepProfile[];
  readonly failed: readonly string[];
  /**
   * Seconds inside the engine's writes by phase, `operation: from → to` between the engine's own step marks
   * (EngineHooks.afterStep: a replace marks 'staged', 'evolved', 'deleted', 'inserted'; an SCD2 merge 'staged',
   * 'closed', 'inserted'), 'start' the call's start and 'end' its return (fingerprint, commit).
   */
  readonly phases: ReadonlyMap<string, number>;
}

interface Clock {
  write: number;
  checks: number;
  ledger: number;
  /** The write in flight (steps run one at a time): its operation and the time of its last mark. */
  mark?: { operation: string; name: string; at: number };
  phases: Map<string, number>;
}

const addPhase = (clock: Clock, operation: string, to: string): void => {
  const now = performance.now();
  const m = clock.mark;
  if (m) {
    const key = `${operation}: ${m.name} → ${to}`;
    clock.phases.set(key, (clock.phases.get(key) ?? 0) + (now - m.at) / 1000);
  }
  clock.mark = { operation, name: to, at: now };
};

/** Writes whose phases are marked (a compute function's `query` is not). */
const PHASED = new Set(['replacePartition', 'replaceTable', 'mergeScd2FromChanges', 'mergeScd2FromSnapshot']);

type Bucket = 'write' | 'checks' | 'ledger';

/** `target` with the named async methods timed into `clock[bucket]` (a method's own time, awaited). */
function timed<T extends object>(target: T, methods: Readonly<Record<string, Bucket>>, clock: Clock): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value: unknown = Reflect.get(t, prop, receiver);
      const bucket = typeof prop === 'string' ? methods[prop] : undefined;
      if (bucket === undefined || typeof value !== 'function') return value;
      const phased = typeof prop === 'string' && PHASED.has(prop) ? prop : undefined;
      return async (...args: unknown[]): Promise<unknown> => {
        const s = performance.now();
        if (phased) clock.mark = { operation: phased, name: 'start', at: s };
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        } finally {
          if (phased) {
            addPhase(clock, phased, 'end');
            delete clock.mark;
          }
          clock[bucket] += (performance.now() - s) / 1000;
        }
      };
    },
  });
}

const LEDGER_METHODS = {
  view: 'ledger',
  recordMaterialization: 'ledger',
  recordCheck: 'ledger',
  setWatermark: 'ledger',
} as const;
const ENGINE_METHODS = {
  replacePartition: 'write',
  replaceTable: 'write',
  mergeScd2FromChanges: 'write',
  mergeScd2FromSnapshot: 'write',
  query: 'write',
  runCheck: 'checks',
} as const;

export async function runProfile(opts: {
  readonly warehouse: string;
  readonly ledger: string;
  readonly definitions: Definitions;
  readonly steps: readonly BaselineStep[];
  /** The range's end instant: what the planner bounds cumulative reads with (PlanStep.readsUntil). */
  readonly readsUntil: string;
}): Promise<ProfileResult> {
  const clock: Clock = { write: 0, checks: 0, ledger: 0, phases: new Map() };
  const engine = await createDuckDbEngine(
    { type: 'duckdb', path: opts.warehouse },
    { afterStep: (operation, name) => addPhase(clock, operation, name) },
  );
  const ledger: Ledger = await openLedger({ type: 'sqlite', path: opts.ledger });
  const tEngine = timed(engine, ENGINE_METHODS, clock);
  const deps = {
    definitions: opts.definitions,
    engineFor: () => Promise.resolve({ engine: tEngine, dialect: engine.dialect }),
    ledger: timed(ledger, LEDGER_METHODS, clock),
    loaders: {},
    heartbeat: () => undefined,
    now: () => new Date().toISOString(),
  };
  const steps: StepProfile[] = [];
  const failed: string[] = [];
  try {
    const t0 = performance.now();
    for (const s of opts.steps) {
      const asset = opts.definitions.asset(s.assetKey);
      const step: PlanStep = {
        id: `${s.assetKey}@${s.partitionKey}`,
        assetKey: s.assetKey,
        partitionKey: s.partitionKey,
        reason: 'missing',
        upstream: [],
        inputs: [],
        readsUntil: opts.readsUntil,
      };
      const before = { write: clock.write, checks: clock.checks, ledger: clock.ledger };
      const s0 = performance.now();
      const r = await materializeStep(deps, { runId: 'bench-backfill-profile', step, force: false });
      if (r.status !== 'success') failed.push(`${step.id}: ${r.error ?? r.status}`);
      steps.push({
        ...s,
        kind: asset.kind,
        seconds: (performance.now() - s0) / 1000,
        write: clock.write - before.write,
        checks: clock.checks - before.checks,
        ledger: clock.ledger - before.ledger,
      });
    }
    return { seconds: (performance.now() - t0) / 1000, steps, failed, phases: clock.phases };
  } finally {
    await ledger.close();
    await engine.close();
  }
}
