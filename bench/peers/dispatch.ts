/**
 * Dispatch overhead per step, the same graph in every tool: a chain of N (default 20) no-op assets, each
 * depending on the one before, so every step's dispatch is on the critical path.
 *
 *   bash scripts/bench.sh dispatch [--steps 20] [--rounds 5]
 *
 * - Tessera: materializeWorkflow with the chain as its plan, on the real Temporal server, in the default `child`
 *   mode (a step workflow per step) and in `activity` and `local` mode, each with its step lease (the claim,
 *   renewal timer and release materializeStep does, src/activities/lease.ts) in a SQLite ledger file, `local` also
 *   in a PostgreSQL ledger schema (TESSERA_TEST_PG_URL); and `activity` and `local` without a lease (before it);
 * - bare Temporal: one workflow calling N no-op activities in a row (bench/peers/temporal-chain-workflow.ts);
 * - Dagster: the same chain as assets, in-process and multiprocess executors (bench/peers/dispatch_dagster.py).
 * A step's overhead is the gap between one no-op body ending and the next one starting; the table shows
 * the median over all steps of all rounds (the first round of each tool warms up and is dropped), and each
 * run's wall time / N.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import pg from 'pg';
import { createLeaseActivities, leasedMaterializeStep } from '../../src/activities/lease.js';
import {
  openPostgresLeaseStore,
  openSqliteLeaseStore,
  type StepLeaseStore,
} from '../../src/activities/lease-store.js';
import type { StepResult, TesseraActivities } from '../../src/activities/types.js';
import type { Plan, PlanStep } from '../../src/planner/types.js';
import type { materializeWorkflow } from '../../src/workflows/index.js';
import type { StepMode } from '../../src/workflows/types.js';
import { connectTestEnv, startWorker } from '../../test/helpers/temporal.js';
import type { TemporalTestEnv } from '../../test/helpers/temporal.js';
import type { chainWorkflow } from './temporal-chain-workflow.js';

const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
};
const N = Number(flag('steps', '20'));
const ROUNDS = Number(flag('rounds', '5'));
const python = process.env['TESSERA_BENCH_PYTHON'];
const here = fileURLToPath(new URL('.', import.meta.url));

const starts: number[] = [];
const ends: number[] = [];
const noop = async (): Promise<void> => undefined;
const activities: TesseraActivities = {
  async materializeStep({ step }): Promise<StepResult> {
    starts.push(performance.timeOrigin + performance.now());
    ends.push(performance.timeOrigin + performance.now());
    return { stepId: step.id, status: 'success', rowCount: 0, dataVersion: 'v', checks: [] };
  },
  planRun: () => Promise.reject(new Error('unused')),
  sendAlert: noop,
  alertRoutes: () => Promise.resolve([]),
  deliverAlert: noop,
  barrierStatus: () => Promise.resolve({ ready: true, waitingOn: [] }),
  publishGroup: () => Promise.resolve({ version: 'v' }),
  recordBackfill: noop,
  tickRequest: () => Promise.reject(new Error('unused')),
  freshnessBreaches: () => Promise.resolve([]),
};

/** The chain as a Tessera plan: step i reads step i - 1. */
function chain(n: number): Plan {
  const run = randomUUID().slice(0, 8);
  const id = (i: number): string => `bench${run}.a${String(i).padStart(2, '0')}@p`;
  const steps: PlanStep[] = Array.from({ length: n }, (_, i) => ({
    id: id(i),
    assetKey: `bench${run}.a${String(i).padStart(2, '0')}`,
    partitionKey: 'p',
    reason: 'forced',
    upstream: i === 0 ? [] : [id(i - 1)],
    inputs: [],
  }));
  return { selection: 'bench', range: undefined, steps, skippedFresh: 0 };
}

interface Sample {
  readonly gaps: number[];
  readonly wallMs: number;
}
const results = new Map<string, Sample[]>();
const loads: number[] = [];
const record = (tool: string, s: Sample): void => {
  loads.push(loadavg()[0]!);
  results.set(tool, [...(results.get(tool) ?? []), s]);
  const sorted = [...s.gaps].sort((a, b) => a - b);
  console.log(
    `${tool.padEnd(22)} gap median ${(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(1)} ms, ` +
      `wall/step ${(s.wallMs / N).toFixed(1)} ms (load ${loadavg()[0]!.toFixed(1)})`,
  );
};
const gapsOf = (): number[] => starts.slice(1).map((s, i) => s - ends[i]!);

const env = await connectTestEnv('bench-dispatch');
const worker = await startWorker(env, activities, { maxConcurrentActivityTaskExecutions: 64 });

// The same no-op steps under a lease, each store on its own task queue (a worker per queue).
const leaseDir = mkdtempSync(join(tmpdir(), 'tessera-bench-leases-'));
const pgUrl = process.env['TESSERA_TEST_PG_URL'];
const pgSchema = `bench_leases_${randomUUID().slice(0, 8)}`;
const stores: Record<string, StepLeaseStore> = {
  sqlite: openSqliteLeaseStore(join(leaseDir, 'ledger.sqlite')),
  ...(pgUrl ? { postgres: await openPostgresLeaseStore(pgUrl, pgSchema) } : {}),
};
const leasedEnvs: Record<string, { env: TemporalTestEnv; stop: () => Promise<void> }> = {};
for (const [name, store] of Object.entries(stores)) {
  const e = await connectTestEnv(`bench-dispatch-${name}`);
  const w = await startWorker(
    e,
    {
      ...activities,
      materializeStep: leasedMaterializeStep(store, {}, activities.materializeStep),
      ...createLeaseActivities(store),
    },
    { maxConcurrentActivityTaskExecutions: 64 },
  );
  leasedEnvs[name] = {
    env: e,
    stop: async () => {
      await w.stop();
      await e.close();
    },
  };
}
const bareQueue = `${env.taskQueue}-bare`;
const bare = await Worker.create({
  connection: env.nativeConnection,
  taskQueue: bareQueue,
  workflowsPath: join(here, 'temporal-chain-workflow.ts'),
  activities: {
    noop: async (): Promise<void> => {
      starts.push(performance.timeOrigin + performance.now());
      ends.push(performance.timeOrigin + performance.now());
    },
  },
});
const bareRunning = bare.run();

async function tessera(mode: StepMode, on: TemporalTestEnv = env): Promise<Sample> {
  starts.length = 0;
  ends.length = 0;
  const t0 = performance.now();
  const handle = await on.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
    taskQueue: on.taskQueue,
    workflowId: `bench/${mode}/${randomUUID()}`,
    args: [{ plan: chain(N), concurrency: 4, mode }],
  });
  const summary = await handle.result();
  if (summary.succeeded !== N) throw new Error(`${mode}: ${summary.succeeded}/${N} steps succeeded`);
  return { gaps: gapsOf(), wallMs: performance.now() - t0 };
}

async function bareTemporal(): Promise<Sample> {
  starts.length = 0;
  ends.length = 0;
  const t0 = performance.now();
  await env.client.workflow.execute<typeof chainWorkflow>('chainWorkflow', {
    taskQueue: bareQueue,
    workflowId: `bench/bare/${randomUUID()}`,
    args: [N],
  });
  return { gaps: gapsOf(), wallMs: performance.now() - t0 };
}

async function dagster(
  executor: 'in_process' | 'multiprocess',
  rounds: number,
  warmup: number,
): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-dagster-'));
  try {
    const { stdout } = await promisify(execFile)(
      python!,
      [
        join(here, 'dispatch_dagster.py'),
        '--executor',
        executor,
        '--rounds',
        String(rounds),
        '--warmup',
        String(warmup),
      ],
      {
        maxBuffer: 64 << 20,
        env: {
          ...process.env,
          BENCH_STAMPS: join(dir, 'stamps'),
          BENCH_STEPS: String(N),
          PYTHONWARNINGS: 'ignore',
        },
      },
    );
    return stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        const r = JSON.parse(l) as { gaps_ms: number[]; wall_ms: number };
        return { gaps: r.gaps_ms, wallMs: r.wall_ms };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sqliteEnv = leasedEnvs['sqlite']!.env;
const pgEnv = leasedEnvs['postgres']?.env;
const TOOLS: readonly { name: string; what: string; run: () => Promise<Sample> }[] = [
  {
    name: 'tessera-child',
    what: 'Tessera, default `child` mode (step workflow per step; lease in a SQLite ledger)',
    run: () => tessera('child', sqliteEnv),
  },
  {
    name: 'tessera-activity-lease',
    what: 'Tessera, `activity` mode, lease in a SQLite ledger',
    run: () => tessera('activity', sqliteEnv),
  },
  {
    name: 'tessera-local-lease',
    what: 'Tessera, `local` mode, lease in a SQLite ledger',
    run: () => tessera('local', sqliteEnv),
  },
  ...(pgEnv
    ? [
        {
          name: 'tessera-local-lease-pg',
          what: 'Tessera, `local` mode, lease in a PostgreSQL ledger',
          run: () => tessera('local', pgEnv),
        },
      ]
    : []),
  {
    name: 'tessera-activity',
    what: 'Tessera, `activity` mode without a lease (no exclusivity)',
    run: () => tessera('activity'),
  },
  {
    name: 'tessera-local',
    what: 'Tessera, `local` mode without a lease (no exclusivity)',
    run: () => tessera('local'),
  },
  { name: 'temporal', what: 'bare Temporal activities in one workflow', run: bareTemporal },
];
if (!pgEnv) console.log('TESSERA_TEST_PG_URL is not set: the PostgreSQL lease row is skipped');

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

try {
  for (const t of TOOLS) await t.run(); // warm-up: bundles, caches, connections
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved, rotating order.
    for (let i = 0; i < TOOLS.length; i++) {
      const t = TOOLS[(i + round) % TOOLS.length]!;
      record(t.name, await t.run());
    }
  }
  const peers: { name: string; what: string }[] = [];
  if (python) {
    // Dagster runs its rounds in one process after a warm-up round (in-process); each multiprocess step starts a
    // fresh Python process anyway, so that executor gets no warm-up and (each run takes N process starts) 1 round.
    for (const [executor, what] of [
      ['in_process', 'Dagster, in-process executor'],
      ['multiprocess', 'Dagster, multiprocess executor (its default)'],
    ] as const) {
      const mp = executor === 'multiprocess';
      for (const s of await dagster(executor, mp ? 1 : ROUNDS, mp ? 0 : 1)) record(`dagster-${executor}`, s);
      peers.push({ name: `dagster-${executor}`, what });
    }
  } else console.log('TESSERA_BENCH_PYTHON is not set: Dagster is skipped (scripts/bench.sh sets it)');
  const fmt = (x: number): string => `${x.toFixed(1)}`;
  const base = quantile(
    results.get('temporal')!.flatMap((s) => s.gaps),
    0.5,
  );
  console.log(`\nDispatch: a chain of ${N} no-op assets, ${ROUNDS} round(s) per tool after a warm-up`);
  console.log('| tool | overhead per step, median ms | p95 ms | wall / step, median ms | vs bare Temporal |');
  console.log('|---|---|---|---|---|');
  for (const t of [...TOOLS, ...peers]) {
    const s = results.get(t.name) ?? [];
    const gaps = s.flatMap((x) => x.gaps);
    const med = quantile(gaps, 0.5);
    console.log(
      `| ${t.what} | ${fmt(med)} | ${fmt(quantile(gaps, 0.95))} | ${fmt(
        quantile(
          s.map((x) => x.wallMs / N),
          0.5,
        ),
      )} | ${(med / base).toFixed(1)}× |`,
    );
  }
  const ls = [...loads].sort((a, b) => a - b);
  console.log(
    `1-min load average: min ${ls[0]?.toFixed(1)}, median ${quantile(ls, 0.5).toFixed(1)}, max ${ls.at(-1)?.toFixed(1)}`,
  );
} finally {
  // A SIGTERM/SIGINT already shut the workers down (the SDK handles those signals).
  if (bare.getState() === 'RUNNING') bare.shutdown();
  await bareRunning;
  await worker.stop();
  await env.close();
  for (const l of Object.values(leasedEnvs)) await l.stop();
  for (const store of Object.values(stores)) await store.close();
  if (pgUrl) {
    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
    await db.end();
  }
  rmSync(leaseDir, { recursive: true, force: true });
}
