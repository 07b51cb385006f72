/**
 * `tessera ingest start|status|stop` as subprocesses against a real Temporal server and a `tessera worker`
 * subprocess running BookMyEvent's catalog with its landing-folder loaders (`<stateDir>/landing`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus } from '../../src/cli/commands/ingest.js';
import { ensureTemporalServer, TEMPORAL_ADDRESS } from '../helpers/temporal.js';
import { eventually } from '../helpers/eventually.js';
import { cliEnv, type LongRunning } from './helpers.js';

const env = cliEnv('ingest', { catalog: false });
let worker: LongRunning | undefined;

beforeAll(async () => {
  await ensureTemporalServer();
  worker = env.spawnLong(['worker']);
  await worker.waitFor(/worker started/, { timeoutMs: 150_000, stream: 'stderr' });
}, 180_000);

afterAll(async () => {
  // Whatever a failed test left running on the shared server.
  await env.run(['ingest', 'stop', 'fx']).catch(() => undefined);
  await worker?.stop();
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  await new Client({ connection }).schedule
    .getHandle(`tessera/ingest/${env.taskQueue}/fx`)
    .delete()
    .catch(() => undefined);
  await connection.close();
});

describe('tessera ingest', () => {
  it('starts continuous ingestion, shows progress, refuses a second mode, stops; then schedules micro-batches', async () => {
    const started = await env.run(['ingest', 'start', 'fx', '--every', '1s']);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^ingesting fx: continuously every 1s\n/);
    expect(started.stdout).toContain(`tessera%2Fingest%2F${env.taskQueue}%2Ffx`);

    await mkdir(join(env.dir, 'landing', 'fx'), { recursive: true });
    await writeFile(
      join(env.dir, 'landing', 'fx', 'rates-2026-11-24.csv'),
      'date,currency,usd_rate\n2026-11-24,EUR,1.08\n2026-11-24,INR,0.012\n',
    );
    const status = await eventually(
      async () => {
        const r = await env.json<IngestStatus>(['ingest', 'status', 'fx']);
        return r.value.progress?.rowsLanded === 2 ? r : undefined;
      },
      30_000,
      500,
    );
    expect(status.code).toBe(0);
    expect(status.value).toMatchObject({
      source: 'fx',
      mode: 'continuous',
      every: '1s',
      progress: { lastWatermark: '2026-11-25T00:00:00.000Z', failedPasses: 0 },
    });

    const [table, again, other, unknown] = await Promise.all([
      env.run(['ingest', 'status']),
      env.run(['ingest', 'start', 'fx']),
      env.run(['ingest', 'start', 'fx', '--schedule', '--every', '5m']),
      env.run(['ingest', 'start', 'fxx']),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/source\s+mode\s+every\s+state\s+passes\s+rows\s+watermark/);
    expect(table.stdout).toMatch(/\nfx\s+continuous\s+1s\s+\w+\s+\d+\s+2\s+2026-11-25T00:00:00.000Z/);
    expect(table.stdout).toMatch(/\nsnowplow\s+off\s/);
    expect(again.stdout).toMatch(/^already ingesting fx \(a pass runs now\)\n/);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/fx is ingesting continuously; `tessera ingest stop fx`/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown source "fxx"; did you mean "fx"\?/);

    const stopped = await env.run(['ingest', 'stop', 'fx']);
    expect(stopped.stdout).toBe('stopped fx (continuous)\n');

    // Micro-batches: a schedule of one-pass workflows, shown and stopped the same way.
    const scheduled = await env.json<{ mode: string; started: boolean; id: string }>([
      'ingest',
      'start',
      'fx',
      '--schedule',
      '--every',
      '1h',
    ]);
    expect(scheduled.value).toMatchObject({
      mode: 'schedule',
      started: true,
      id: `tessera/ingest/${env.taskQueue}/fx`,
    });
    const status2 = await env.json<IngestStatus>(['ingest', 'status', 'fx']);
    expect(status2.value).toMatchObject({ mode: 'schedule', every: '1h', paused: false });
    const unscheduled = await env.json<{ stopped: string[] }>(['ingest', 'stop', 'fx']);
    expect(unscheduled.value.stopped).toEqual(['schedule']);
    const off = await env.run(['ingest', 'status', 'fx']);
    expect(off.stdout).toMatch(/\nfx\s+off\s*\n/);
  });
});
