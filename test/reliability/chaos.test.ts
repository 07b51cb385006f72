/**
 * Chaos: BookMyEvent's catalog backfilled once cleanly and once with the worker SIGKILLed at least 10 times (at
 * seeded-random activities, before an activity starts or after it wrote but before Temporal heard of it) and the
 * Temporal server restarted once mid-backfill. Every table must come out content-identical to the clean run, and
 * the ledger must hold exactly one success per step. Both runs use a Temporal server of this file's own, since it
 * is restarted. CI runs 3 small days; TESSERA_CHAOS_FULL=1 runs 6 days at demo scale with 20 kills.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseFingerprint } from '../../src/cli/reconcile.js';
import { createEngine } from '../../src/engines/index.js';
import { FAULTS_ENV } from '../../src/runtime/faults.js';
import { startBackfill } from '../../src/runtime/index.js';
import type { BackfillSummary } from '../../src/workflows/types.js';
import { cliEnv, repo, type CliEnv, type LongRunning } from '../cli/helpers.js';
import { startPrivateTemporal, type PrivateTemporal } from '../helpers/private-temporal.js';
import { UI_BASE_URL } from '../helpers/temporal.js';

const FULL = process.env.TESSERA_CHAOS_FULL === '1';
const DAYS = FULL ? 6 : 3;
const SCALE = FULL ? 'demo' : 'small';
const KILLS = FULL ? 20 : 10;
const START = '2026-10-01';
const LAST = `2026-10-0${DAYS}`;
const SEED = 20261207;
/** The landing loaders hash personal columns with it; both runs must use the same. */
const WORKER_ENV = { TESSERA_PII_KEY: 'chaos-test-pii-key-0001' };

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed with the same kill points. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-chaos-'));
let temporal: PrivateTemporal | undefined;
let landing = '';

async function simulate(): Promise<string> {
  const out = join(dir, 'landing');
  await promisify(execFile)(
    process.execPath,
    [
      join(repo, 'bin', 'tessera.js'),
      'simulate',
      '--landing',
      out,
      '--scale',
      SCALE,
      '--days',
      String(DAYS),
      '--start',
      START,
      '--seed',
      '7',
    ],
    { cwd: repo, timeout: 300_000 },
  );
  return out;
}

function envFor(name: string): CliEnv {
  if (!temporal) throw new Error('no Temporal server');
  const env = cliEnv(name, { catalog: false, temporalAddress: temporal.address });
  // The default definitions module reads <stateDir>/landing, and moves what it landed to landing/done: a copy each.
  cpSync(landing, join(env.dir, 'landing'), { recursive: true });
  return env;
}

async function fingerprintAndLedger(env: CliEnv) {
  const engine = await createEngine({ type: 'duckdb', path: env.warehouse });
  try {
    const tables = await warehouseFingerprint(engine);
    const db = new Database(join(env.dir, 'ledger.sqlite'), { readonly: true });
    try {
      const successes = db
        .prepare(
          `SELECT asset_key || '@' || partition_key AS step, count(*) AS n FROM materializations
           WHERE status = 'success' GROUP BY 1 ORDER BY 1`,
        )
        .all() as { step: string; n: number }[];
      return { tables, successes };
    } finally {
      db.close();
    }
  } finally {
    await engine.close();
  }
}

beforeAll(async () => {
  temporal = await startPrivateTemporal(join(dir, 'temporal'));
  landing = await simulate();
}, 600_000);

afterAll(async () => {
  await temporal?.stop();
});

/** Short heartbeat timeout and many attempts: a killed step is retried within seconds, never given up on. */
const STEP_OPTIONS = {
  heartbeatTimeout: '10s',
  maximumAttempts: 30,
  initialInterval: '1s',
  maximumInterval: '5s',
} as const;

async function backfill(env: CliEnv, id: string) {
  if (!temporal) throw new Error('no Temporal server');
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const handle = await startBackfill(
    client,
    { taskQueue: env.taskQueue, uiBaseUrl: UI_BASE_URL },
    {
      backfillId: id,
      request: { selection: '*', range: { from: START, to: LAST } },
      only: 'missing',
      concurrency: 4,
      stepOptions: STEP_OPTIONS,
    },
  );
  return { handle, close: () => connection.close() };
}

describe('a backfill under worker kills and a Temporal restart', () => {
  it(
    'builds tables identical to a clean run with one success per step',
    { timeout: FULL ? 3_600_000 : 1_500_000 },
    async () => {
      if (!temporal) throw new Error('no Temporal server');

      // The clean run.
      const clean = envFor('chaos-clean');
      const cleanWorker = clean.spawnLong(['worker'], WORKER_ENV);
      await cleanWorker.waitFor(/worker started/, { timeoutMs: 300_000, stream: 'stderr' });
      const cleanRun = await backfill(clean, 'clean');
      const summary = (await cleanRun.handle.result()) as BackfillSummary;
      await cleanRun.close();
      expect(summary).toMatchObject({ status: 'completed', failedSteps: [] });
      expect(summary.done).toBeGreaterThan(KILLS * 6);
      expect(await cleanWorker.stop()).toBe(0);
      const expected = await fingerprintAndLedger(clean);
      expect(Object.keys(expected.tables).length).toBeGreaterThan(20);
      expect(expected.successes.filter((s) => s.n !== 1)).toEqual([]);

      // The same days again on an empty server, with a fresh warehouse and ledger, under chaos.
      await temporal.wipe();
      const chaos = envFor('chaos');
      const random = prng(SEED);
      const killPoints: string[] = [];
      const spawn = (): LongRunning => {
        if (killPoints.length >= KILLS) return chaos.spawnLong(['worker'], WORKER_ENV);
        // Die at one of the first 6 steps of this worker's life: the clean run had more than KILLS * 6 steps,
        // so the backfill cannot finish before the planned kills are spent.
        const spec = `kill:${1 + Math.floor(random() * 6)}:${random() < 0.5 ? 'start' : 'end'}`;
        killPoints.push(spec);
        return chaos.spawnLong(['worker'], { ...WORKER_ENV, [FAULTS_ENV]: spec });
      };
      let worker = spawn();
      const run = await backfill(chaos, 'chaos');

      let kills = 0;
      let restarted = false;
      for (;;) {
        const state = await run.handle
          .describe()
          .then((d) => d.status.name)
          .catch(() => 'UNREACHABLE');
        if (state === 'COMPLETED') break;
        expect(['RUNNING', 'UNREACHABLE']).toContain(state);
        if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
          // Died by its planned fault (SIGKILL) and nothing else.
          expect(worker.child.signalCode, worker.output().stderr.slice(-2000)).toBe('SIGKILL');
          kills++;
          if (kills === Math.ceil(KILLS / 2) && !restarted) {
            await temporal.restart();
            restarted = true;
          }
          worker = spawn();
        }
        await new Promise((r) => setTimeout(r, 500)); // poll interval between state reads
      }
      const chaosSummary = (await run.handle.result()) as BackfillSummary;
      await run.close();
      const diagnosis = `kill points: ${killPoints.join(' ')}; done ${chaosSummary.done}, fresh ${chaosSummary.skippedFresh}; worker: ${worker.output().stderr.slice(-1500)}`;
      expect(kills, diagnosis).toBeGreaterThanOrEqual(KILLS);
      expect(restarted).toBe(true);
      expect(chaosSummary).toMatchObject({ status: 'completed', failedSteps: [] });
      expect(await worker.stop()).toBe(0);

      const got = await fingerprintAndLedger(chaos);
      const differing = Object.keys({ ...expected.tables, ...got.tables }).filter(
        (t) => expected.tables[t] !== got.tables[t],
      );
      expect(differing).toEqual([]);
      expect(got.successes.filter((s) => s.n !== 1)).toEqual([]);
      expect(got.successes.map((s) => s.step)).toEqual(expected.successes.map((s) => s.step));
      process.stdout.write(
        `[chaos] ${DAYS} days (${SCALE}), ${chaosSummary.done} steps, ${kills} kills (${killPoints.join(' ')}), ` +
          `1 Temporal restart, ${Object.keys(got.tables).length} tables identical\n`,
      );
    },
  );
});
