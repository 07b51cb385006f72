/**
 * Backfilling days again leaves every table identical (issue #8): the small demo runs once (simulate, backfill,
 * schedule tick, publish), then the same days are backfilled again with `only: all` — every step forced through
 * the real backfill workflow on a real Temporal server — over the same warehouse, ledger and landing folder, and
 * every table's content hash must be unchanged. Publishing again may move the analysts' views to a new version;
 * what they read must not change either.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { bookMyEvent } from '../../src/assets/index.js';
import { warehouseFingerprint } from '../../src/cli/reconcile.js';
import { openPlatform, type Platform } from '../../src/cli/platform.js';
import { parseConfig } from '../../src/config/index.js';
import { startBackfill, startPublish } from '../../src/runtime/index.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import type { BackfillSummary, PublishResult } from '../../src/workflows/types.js';
import {
  connectTestEnv,
  ensureTemporalServer,
  startWorker,
  TEMPORAL_ADDRESS,
  UI_BASE_URL,
  type RunningWorker,
  type TemporalTestEnv,
} from '../helpers/temporal.js';

// Days of its own: step and publish workflow ids are per asset and partition, and demo.test.ts runs November.
const START = '2026-12-01';
const DAYS = ['2026-12-01', '2026-12-02', '2026-12-03'];
const LAST = DAYS.at(-1) ?? '';

describe('backfilling the demo days again', () => {
  let env: TemporalTestEnv | undefined;
  let platform: Platform | undefined;
  let worker: RunningWorker | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rerun-'));
  afterAll(async () => {
    await worker?.stop();
    await platform?.close();
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves every table and every published view identical', { timeout: 300_000 }, async () => {
    await ensureTemporalServer();
    const configFile = join(dir, 'tessera.yaml');
    writeFileSync(
      configFile,
      [
        'environment: rerun-test',
        `stateDir: ${dir}`,
        'defaultEngine: duckdb',
        `engines: { duckdb: { type: duckdb, path: ${join(dir, 'w.duckdb')} } }`,
        `ledger: { type: sqlite, path: ${join(dir, 'l.sqlite')} }`,
        `temporal: { address: "${TEMPORAL_ADDRESS}", taskQueue: rerun-test-${process.pid} }`,
      ].join('\n'),
    );
    const { stdout } = await promisify(execFile)(
      'node',
      [
        'bin/tessera.js',
        '--config',
        configFile,
        'demo',
        '--scale',
        'small',
        '--days',
        String(DAYS.length),
        '--seed',
        '11',
        '--start',
        START,
      ],
      { timeout: 180_000, maxBuffer: 16 * 2 ** 20 },
    );
    expect(stdout).toMatch(/backfill completed: \d+ partitions built, 0 failed, 0 skipped/);
    const reconciled = /reconciled with the simulator's ground truth: (\d+)\/(\d+) figures match/.exec(
      stdout,
    );
    expect(reconciled?.[1]).toBe(reconciled?.[2]);

    // The demo's warehouse, ledger and landing folder (<stateDir>/demo), reopened by a worker of this test.
    const demo = join(dir, 'demo');
    const config = parseConfig({
      environment: 'rerun-test',
      stateDir: dir,
      defaultEngine: 'duckdb',
      engines: { duckdb: { type: 'duckdb', path: join(demo, 'warehouse.duckdb') } },
      ledger: { type: 'sqlite', path: join(demo, 'ledger.sqlite') },
      temporal: { address: TEMPORAL_ADDRESS },
      lateness: { defaultMinutes: 0 },
    });
    platform = await openPlatform({
      config,
      definitions: bookMyEvent,
      logger: pino({ level: 'silent' }),
      loadersFor: (engines) =>
        landingLoaders({
          engine: engines.duckdb ?? (undefined as never),
          landingDir: join(demo, 'landing'),
          // The demo's key (the child inherited this environment), so re-landed rows hash the same.
          piiKey: process.env.TESSERA_PII_KEY ?? 'demo-only-pii-key',
          pii: { user_db: { email: 'hash', phone: 'hash' } },
        }),
    });
    const engine = platform.engines.duckdb;
    if (!engine) throw new Error('no duckdb engine');
    const before = await warehouseFingerprint(engine);
    expect(Object.keys(before).length).toBeGreaterThan(30);
    expect(before['reporting.mart_daily_revenue']).toMatch(/^[1-9]/); // published, not empty

    env = await connectTestEnv('rerun');
    worker = await startWorker(env, platform.activities, { maxConcurrentActivityTaskExecutions: 4 });
    const target = { taskQueue: env.taskQueue, uiBaseUrl: UI_BASE_URL };
    const backfill = await startBackfill(env.client, target, {
      backfillId: `rerun-${env.ns}`,
      request: { selection: '*', range: { from: DAYS[0] ?? '', to: LAST } },
      only: 'all',
      concurrency: 4,
    });
    const summary = (await backfill.result()) as BackfillSummary;
    expect(summary.failedSteps).toEqual([]);
    expect(summary.status).toBe('completed');
    expect(summary.skippedFresh).toBe(0); // forced: nothing was left out as fresh
    expect(summary.done).toBeGreaterThan(100);

    const diff = (a: Record<string, string>, b: Record<string, string>) =>
      [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((t) => a[t] !== b[t]).sort();
    const afterBackfill = await warehouseFingerprint(engine);
    expect(diff(before, afterBackfill)).toEqual([]);

    for (const group of bookMyEvent.publishGroups.map((g) => g.name)) {
      const pub = await startPublish(env.client, target, {
        group,
        partitionKey: LAST,
        pollInitial: '1s',
        timeout: '1m',
      });
      const r = (await pub.result()) as PublishResult;
      expect(r.status, group).toBe('published');
    }
    expect(diff(before, await warehouseFingerprint(engine))).toEqual([]);
  });
});
