/**
 * Many workers on a shared engine: two `tessera worker` processes (node bin/tessera.js worker) on one task queue
 * split the steps of a backfill on Trino over Iceberg with a PostgreSQL ledger. The Temporal histories show that
 * both workers ran materializations, the ledger holds exactly one success per step, and every table equals a
 * one-worker run of the same backfill row for row. Nothing waits for a duration: both workers have polled the
 * queue (their "worker started" line) before the backfill starts, and the test waits for the backfill's result.
 * Needs the Trino of scripts/services/trino.sh (TESSERA_TRINO_URL) and PostgreSQL (TESSERA_TEST_PG_URL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalValue } from '../../src/cli/mart-compare.js';
import { createEngine, type Engine } from '../../src/engines/index.js';
import { startBackfill } from '../../src/runtime/index.js';
import type { BackfillSummary } from '../../src/workflows/types.js';
import { repo } from '../cli/helpers.js';
import { TEMPORAL_ADDRESS, UI_BASE_URL } from '../helpers/temporal.js';

const TRINO_URL = process.env.TESSERA_TRINO_URL;
const PG_URL = process.env.TESSERA_TEST_PG_URL;
const FROM = '2026-11-01';
const TO = '2026-11-08';
const DAYS = 8;
/** Where each asset's rows live (a mart without a publish group stays in its build table, src/activities/tables.ts). */
const TABLES = ['src.orders', 'core.orders', 'marts.daily_orders__build'];
const CATALOG = 'iceberg';

interface Run {
  readonly prefix: string;
  readonly ledgerSchema: string;
  readonly taskQueue: string;
  readonly configFile: string;
  readonly env: NodeJS.ProcessEnv;
}

const runs: Run[] = [];

function prepare(name: string): Run {
  const id = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  const prefix = `tw${id}_`;
  const run: Run = {
    prefix,
    ledgerSchema: `tw_ledger_${id}`,
    taskQueue: `test-two-workers-${name}-${id}`,
    configFile: join(dir, 'tessera.yaml'),
    env: {
      ...process.env,
      TESSERA_TEST_PREFIX: prefix,
      TESSERA_DEFINITIONS: join(repo, 'test', 'runtime', 'two-workers-catalog.ts'),
      TESSERA_LOG_LEVEL: 'info',
    },
  };
  writeFileSync(
    run.configFile,
    [
      'environment: test',
      `stateDir: ${dir}`,
      'defaultEngine: trino',
      'engines:',
      '  trino:',
      '    type: trino',
      `    url: ${TRINO_URL}`,
      `    catalog: ${CATALOG}`,
      'ledger:',
      '  type: postgres',
      `  url: ${PG_URL}`,
      `  schema: ${run.ledgerSchema}`,
      'temporal:',
      `  address: ${TEMPORAL_ADDRESS}`,
      `  taskQueue: ${run.taskQueue}`,
      `  uiUrl: ${UI_BASE_URL}`,
      'worker:',
      '  maxConcurrentActivities: 4',
      'lateness:',
      '  defaultMinutes: 0',
      '',
    ].join('\n'),
  );
  runs.push(run);
  return run;
}

interface Worker {
  readonly child: ChildProcess;
  readonly started: Promise<void>;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** A real worker process, as an operator starts it: `node bin/tessera.js --config FILE worker`. */
function startWorker(run: Run): Worker {
  const child = spawn(
    process.execPath,
    [join(repo, 'bin', 'tessera.js'), '--config', run.configFile, 'worker'],
    {
      cwd: repo,
      env: run.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/worker started/.test(stderr)) resolve();
    });
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it started:\n${stderr}`)));
  });
  child.stdout?.resume();
  return {
    child,
    started,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function backfill(client: Client, run: Run): Promise<BackfillSummary> {
  const handle = await startBackfill(
    client,
    { taskQueue: run.taskQueue, uiBaseUrl: UI_BASE_URL },
    {
      backfillId: `two-workers-${run.taskQueue}`,
      request: { selection: '*', range: { from: FROM, to: TO } },
      only: 'missing',
      concurrency: 6,
    },
  );
  return (await handle.result()) as BackfillSummary;
}

/** Which worker ran each materializeStep attempt that completed, from the step workflows' histories. */
async function materializedBy(client: Client, run: Run): Promise<Map<string, string[]>> {
  const byWorker = new Map<string, string[]>();
  for await (const w of client.workflow.list({ query: `TaskQueue="${run.taskQueue}"` })) {
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = new Map<string, string>();
    const started = new Map<string, string>();
    for (const e of events) {
      const id = String(e.eventId);
      const s = e.activityTaskScheduledEventAttributes;
      if (s?.activityType?.name === 'materializeStep') scheduled.set(id, s.activityId ?? id);
      const st = e.activityTaskStartedEventAttributes;
      if (st && scheduled.has(String(st.scheduledEventId))) started.set(id, st.identity ?? '');
      const done = e.activityTaskCompletedEventAttributes;
      if (done && started.has(String(done.startedEventId))) {
        const identity = started.get(String(done.startedEventId)) ?? '';
        byWorker.set(identity, [
          ...(byWorker.get(identity) ?? []),
          `${w.workflowId}#${scheduled.get(String(done.scheduledEventId))}`,
        ]);
      }
    }
  }
  return byWorker;
}

/** Each table's rows, canonical and sorted, hashed: equal content gives equal hashes on any run. */
async function contentHashes(engine: Engine, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const rows = await engine.query(`select * from ${CATALOG}.${prefix}${table}`);
    const lines = rows
      .map((r) =>
        JSON.stringify(
          Object.entries(r)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, canonicalValue(v)]),
        ),
      )
      .sort();
    out[table] =
      `${lines.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}

async function ledgerSuccesses(schema: string): Promise<{ step: string; n: number }[]> {
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ step: string; n: string }>(
      `SELECT asset_key || '@' || partition_key AS step, count(*) AS n FROM "${schema}".materializations
       WHERE status = 'success' GROUP BY 1 ORDER BY 1`,
    );
    return rows.map((r) => ({ step: r.step, n: Number(r.n) }));
  } finally {
    await db.end();
  }
}

let trino: Engine | undefined;

afterAll(async () => {
  // Drop what the runs wrote: their schemas in the shared catalog and their ledger schemas.
  if (trino) {
    for (const run of runs)
      for (const schema of ['src', 'core', 'marts', 'tessera_meta'])
        await trino
          .execute(`DROP SCHEMA IF EXISTS ${CATALOG}.${run.prefix}${schema} CASCADE`)
          .catch(() => undefined);
    await trino.close();
  }
  if (PG_URL && runs.length > 0) {
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    for (const run of runs) await db.query(`DROP SCHEMA IF EXISTS "${run.ledgerSchema}" CASCADE`);
    await db.end();
  }
});

describe.skipIf(!TRINO_URL || !PG_URL)('two workers on a shared engine', () => {
  it(
    'split a backfill between them and build the same tables as one worker',
    { timeout: 1_200_000 },
    async () => {
      trino = await createEngine({ type: 'trino', url: TRINO_URL, catalog: CATALOG });
      const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
      const client = new Client({ connection });
      try {
        // One worker: the reference.
        const single = prepare('one');
        const alone = startWorker(single);
        await alone.started;
        const one = await backfill(client, single);
        expect(await alone.stop()).toBe(0);
        expect(one, alone.stderr().slice(-2000)).toMatchObject({ status: 'completed', failedSteps: [] });
        expect(one.done).toBe(DAYS * TABLES.length);

        // Two workers on one task queue, both polling before the backfill starts.
        const shared = prepare('two');
        const workers = [startWorker(shared), startWorker(shared)];
        await Promise.all(workers.map((w) => w.started));
        const two = await backfill(client, shared);
        const codes = await Promise.all(workers.map((w) => w.stop()));
        const logs = workers.map((w) => w.stderr().slice(-1500)).join('\n---\n');
        expect(two, logs).toMatchObject({ status: 'completed', failedSteps: [] });
        expect(codes).toEqual([0, 0]);

        // Both ran steps: the completed materializeStep attempts, by the identity of the worker that ran them.
        const byWorker = await materializedBy(client, shared);
        const counts = [...byWorker.values()].map((steps) => steps.length);
        expect(byWorker.size, JSON.stringify([...byWorker.keys()])).toBe(2);
        expect(counts.every((n) => n > 0)).toBe(true);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(DAYS * TABLES.length);

        // The ledger: one success per step in each run, the same steps.
        const strip = (rows: { step: string; n: number }[], prefix: string) =>
          rows.map((r) => ({ step: r.step.replaceAll(prefix, ''), n: r.n }));
        const ledgerOne = strip(await ledgerSuccesses(single.ledgerSchema), single.prefix);
        const ledgerTwo = strip(await ledgerSuccesses(shared.ledgerSchema), shared.prefix);
        expect(ledgerOne.filter((r) => r.n !== 1)).toEqual([]);
        expect(ledgerTwo).toEqual(ledgerOne);
        expect(ledgerTwo).toHaveLength(DAYS * TABLES.length);

        // The tables: content-identical to the one-worker run.
        const hashOne = await contentHashes(trino, single.prefix);
        const hashTwo = await contentHashes(trino, shared.prefix);
        expect(hashTwo).toEqual(hashOne);
        expect(Object.values(hashOne).every((h) => !h.startsWith('0:'))).toBe(true);
        process.stdout.write(
          `[two-workers] ${two.done} steps on Trino split ${counts.join(' + ')} between two workers; ` +
            `tables equal the one-worker run: ${JSON.stringify(hashTwo)}\n`,
        );
      } finally {
        await connection.close();
      }
    },
  );
});
