/**
 * Orchestration overhead per step through the real Temporal server: N (default 200) independent no-op steps.
 *
 *   npx tsx bench/dispatch.ts [N] [--concurrency C]
 *
 * For each step mode it prints:
 * - latency: steps one at a time (concurrency 1); overhead = gap between one no-op activity ending and the
 *   next one starting, i.e. everything Temporal and the workflow do per step (median, p95);
 * - throughput: the same plan with C (default 16) in flight; wall time / N.
 * Modes: `child` (a child workflow per step: the dedupe lock, the default), `batch` (child mode over the
 * partitions of one asset in batches of 24, the hours of a day: one child workflow per batch), `activity`
 * (materializeStep straight from the run) and `local` (as a local activity: the fast path for short steps).
 * Needs a server (scripts/services/temporal.sh start).
 */
import { randomUUID } from 'node:crypto';
import type { StepResult, TesseraActivities } from '../src/activities/types.js';
import type { Plan, PlanStep } from '../src/planner/types.js';
import type { materializeWorkflow } from '../src/workflows/index.js';
import type { StepMode } from '../src/workflows/types.js';
import { connectTestEnv, startWorker } from '../test/helpers/temporal.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 200);
const CONCURRENCY = Number(flag('--concurrency') ?? 16);

const starts: number[] = [];
const ends: number[] = [];
const noop = async (): Promise<void> => undefined;
const activities: TesseraActivities = {
  async materializeStep({ step }): Promise<StepResult> {
    starts.push(performance.now());
    ends.push(performance.now());
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

/** `batched`: the steps are the partitions of one asset in batches of 24 (the hours of a day). */
function plan(n: number, batched = false): Plan {
  const run = randomUUID().slice(0, 8);
  const steps: PlanStep[] = Array.from({ length: n }, (_, i) =>
    batched
      ? {
          id: `bench${run}.h@p${i}`,
          assetKey: `bench${run}.h`,
          partitionKey: `p${i}`,
          batch: `b${Math.floor(i / 24)}`,
          reason: 'forced',
          upstream: [],
          inputs: [],
        }
      : {
          id: `bench${run}.s${i}@p`,
          assetKey: `bench${run}.s${i}`,
          partitionKey: 'p',
          reason: 'forced',
          upstream: [],
          inputs: [],
        },
  );
  return { selection: 'bench', range: undefined, steps, skippedFresh: 0 };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

const env = await connectTestEnv('bench');
const worker = await startWorker(env, activities, { maxConcurrentActivityTaskExecutions: 64 });

type BenchMode = StepMode | 'batch';

async function run(mode: BenchMode, concurrency: number, n: number): Promise<number> {
  starts.length = 0;
  ends.length = 0;
  const t0 = performance.now();
  const handle = await env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: `bench/${mode}/${randomUUID()}`,
    args: [
      mode === 'batch'
        ? { plan: plan(n, true), concurrency, mode: 'child' }
        : { plan: plan(n), concurrency, mode },
    ],
  });
  const summary = await handle.result();
  if (summary.succeeded !== n) throw new Error(`${mode}: ${summary.succeeded}/${n} steps succeeded`);
  return performance.now() - t0;
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
try {
  await run('activity', 4, 20); // warm up: bundle load, caches, connections
  await run('child', 4, 20);
  await run('local', 4, 20);
  await run('batch', 4, 24);
  console.log(`dispatch bench: ${N} no-op steps, real Temporal dev server`);
  for (const mode of ['child', 'batch', 'activity', 'local'] as const) {
    await run(mode, 1, N);
    const gaps = starts.slice(1).map((s, i) => s - ends[i]!);
    const wall = await run(mode, CONCURRENCY, N);
    console.log(
      `${mode.padEnd(8)} latency/step median ${fmt(quantile(gaps, 0.5))}, p95 ${fmt(quantile(gaps, 0.95))}` +
        ` | throughput at ${CONCURRENCY} in flight: ${fmt(wall / N)} per step (${fmt(wall)} total)`,
    );
  }
} finally {
  await worker.stop();
  await env.close();
}
