/**
 * The CLI as a subprocess against real services: a Temporal dev server, `tessera worker` (a subprocess holding
 * the DuckDB warehouse), a SQLite ledger. One story in order: materialize, status, checks, query through the
 * worker, publish and roll back, backfills (cancel, resume), schedules; then the worker stops (SIGTERM, exit 0)
 * and query/rollback open the warehouse directly; finally `tessera dev` runs a worker of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect as connectTcp, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryResult } from '../../src/activities/types.js';
import type { BackfillRecord } from '../../src/ledger/types.js';
import type { BackfillSummary, MaterializeSummary } from '../../src/workflows/types.js';
import { ensureTemporalServer, TEMPORAL_ADDRESS, UI_BASE_URL } from '../helpers/temporal.js';
import { eventually } from '../helpers/eventually.js';
import { createDuckDbEngine } from '../../src/engines/index.js';
import { resolveUiUrl } from '../../src/runtime/ui.js';
import { cliEnv, repo, type CliEnv, type LongRunning } from './helpers.js';

const env = cliEnv('runtime');
const P = env.prefix;
const mart = `${P}marts.users_by_country`;
const group = `${P}users`;
let worker: LongRunning | undefined;

type Query = QueryResult & { route: 'direct' | 'worker' };
interface Served {
  group: string;
  serving: { version: string; seq: number; rolledBack: number } | null;
  publications: { version: string }[];
}

/** The slow test source's partitions after the first wait until this file exists (fixtures/catalog.ts). */
const gate = join(env.dir, 'slow-gate');

beforeAll(async () => {
  await ensureTemporalServer();
  worker = env.spawnLong(['worker'], { TESSERA_TEST_GATE: gate });
  await worker.waitFor(/worker started/, { timeoutMs: 150_000, stream: 'stderr' });
}, 180_000);

afterAll(async () => {
  writeFileSync(gate, 'open'); // releases gated steps should a test have stopped before doing so
  await worker?.stop();
  // Schedules live on the shared server: remove this run's.
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  for await (const s of client.schedule.list())
    if (s.scheduleId.startsWith(`tessera/schedule/${env.taskQueue}/`))
      await client.schedule
        .getHandle(s.scheduleId)
        .delete()
        .catch(() => undefined);
  await connection.close();
});

describe('tessera against a worker', () => {
  it('materializes through the worker; a failing blocking check exits 1 with the error', async () => {
    const ok = await env.json<MaterializeSummary>([
      'materialize',
      '-s',
      `+${mart}`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-03',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.value).toMatchObject({ status: 'success', total: 10, succeeded: 10, failed: 0 });
    expect(ok.value.runId).toMatch(/^tessera\/run\//);

    const [again, bad] = await Promise.all([
      env.run(['materialize', '-s', `+${mart}`, '--partition', '2026-11-02']),
      env.run(['materialize', '-s', `${P}marts.too_strict`, '--partition', '2026-11-02']),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to do');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /too_strict@2026-11-02\s+failed\s+blocking check failed: row_count\(min=1000\)/,
    );
    expect(bad.stdout).toContain(`${UI_BASE_URL}/namespaces/default/workflows/tessera%2Frun%2F`);
  });

  it('shows the status grid and check results (exit 1 while something failed)', async () => {
    const range = ['--from', '2026-11-01', '--to', '2026-11-03'];
    const [fresh, all, text, checks, martChecks] = await Promise.all([
      env.json<{ assets: { key: string; cells: Record<string, string> }[] }>([
        'status',
        '-s',
        `+${mart}`,
        ...range,
      ]),
      env.json<{ assets: { key: string; counts: Record<string, number> }[] }>(['status', ...range]),
      env.run(['status', '-s', `${P}marts.*`, ...range]),
      env.json<{ check: string; passed: boolean; asset: string }[]>(['checks']),
      env.json<{ check: string; passed: boolean }[]>(['checks', '-s', mart]),
    ]);
    expect(fresh.code).toBe(0);
    expect(fresh.value.assets.find((a) => a.key === mart)?.cells).toEqual({
      '2026-11-01': 'fresh',
      '2026-11-02': 'fresh',
      '2026-11-03': 'fresh',
    });
    expect(all.code).toBe(1);
    expect(all.value.assets.find((a) => a.key === `${P}marts.too_strict`)?.counts).toMatchObject({
      failed: 1,
      missing: 2,
    });
    expect(text.stdout).toMatch(new RegExp(`${P}marts\\.too_strict\\s+·✗·`));
    expect(checks.code).toBe(1);
    expect(checks.value).toContainEqual(
      expect.objectContaining({ check: 'row_count(min=1000)', passed: false }),
    );
    expect(martChecks.code).toBe(0);
    expect(martChecks.value).toHaveLength(6);
    expect(martChecks.value.every((c) => c.passed)).toBe(true);
  });

  it('queries the warehouse through the worker that holds it, read-only, as of any time', async () => {
    const sql = `select user_id, country, plan from ${P}core.dim_users`;
    const [json, table, csv, asOf1, asOf2, asOf3, limited] = await Promise.all([
      env.json<Query>(['query', `${sql} order by user_id, valid_from`]),
      env.run(['query', `${sql} where is_current and not is_deleted order by 1`]),
      env.run(['query', `${sql} where is_current order by 1`, '--format', 'csv']),
      env.json<Query>([
        'query',
        `select u.user_id, u.country from ${P}core.dim_users u order by 1`,
        '--as-of',
        '2026-11-01',
      ]),
      env.json<Query>([
        'query',
        `select d.country from ${P}core.dim_users AS d where d.user_id = 1`,
        '--as-of',
        '2026-11-02T08:00:00Z',
      ]),
      env.json<Query>(['query', `select count(*) as n from ${P}core.dim_users`, '--as-of', '2026-11-03']),
      env.json<Query>(['query', sql, '--limit', '2']),
    ]);
    expect(json.code).toBe(0);
    expect(json.value.route).toBe('worker');
    expect(json.value.columns).toEqual([
      { name: 'user_id', type: 'INTEGER' },
      { name: 'country', type: 'VARCHAR' },
      { name: 'plan', type: 'VARCHAR' },
    ]);
    expect(json.value.rows).toHaveLength(5);
    expect(json.value.truncated).toBe(false);
    expect(table.stdout.split('\n').slice(0, 4)).toEqual([
      'user_id  country  plan',
      '-------  -------  ----',
      '1        FR       free',
      '3        IN       pro',
    ]);
    expect(table.stderr).toContain(`through the worker on task queue ${env.taskQueue}`);
    expect(csv.stdout).toBe('user_id,country,plan\r\n1,FR,free\r\n2,FR,pro\r\n3,IN,pro\r\n');
    // As of the end of Nov 1: users 1 (DE) and 2; at 08:00 on Nov 2 user 1 is still DE; on Nov 3 user 2 is gone.
    expect(asOf1.value.rows).toEqual([
      { user_id: 1, country: 'DE' },
      { user_id: 2, country: 'FR' },
    ]);
    expect(asOf1.value.asOfAssets).toEqual([`${P}core.dim_users`]);
    expect(asOf2.value.rows).toEqual([{ country: 'DE' }]);
    expect(asOf3.value.rows).toEqual([{ n: 2 }]);
    expect(limited.value).toMatchObject({ truncated: true, rows: [{}, {}] });
  });

  it('refuses anything but one read-only statement (exit 2)', async () => {
    const results = await Promise.all([
      env.run(['query', `delete from ${P}core.dim_users`]),
      env.run(['query', `select 1; drop table ${P}core.dim_users`]),
      env.run(['query', `copy ${P}core.dim_users to '/tmp/x.csv'`]),
      env.run(['query', `select * from ${mart}`, '--as-of', '2026-11-02']),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(results[0]?.stderr).toMatch(/only a read-only SELECT .* not DELETE/);
    expect(results[1]?.stderr).toMatch(/only one statement may run/);
    expect(results[2]?.stderr).toMatch(/not COPY/);
    expect(results[3]?.stderr).toMatch(/--as-of rewrites reads of SCD2 assets and the query reads none/);
    const still = await env.json<Query>(['query', `select count(*) as n from ${P}core.dim_users`]);
    expect(still.value.rows).toEqual([{ n: 5 }]);
  });

  it('backfills with --json, lists and shows backfills', async () => {
    const id = `b-${P}`;
    const r = await env.json<BackfillSummary>([
      'backfill',
      'start',
      '-s',
      `+${mart}`,
      '--from',
      '2026-11-04',
      '--to',
      '2026-11-05',
      '--id',
      id,
    ]);
    expect(r.code).toBe(0);
    expect(r.value).toMatchObject({ backfillId: id, status: 'completed', failed: 0 });
    // `--only missing` (the default) leaves out the stale (upstream changed) core.dim_users@: 6 of 7 run.
    expect(r.value.done).toBe(r.value.total);
    expect(r.value.total + r.value.skippedFresh).toBe(7);
    const [list, status, missing] = await Promise.all([
      env.json<{ id: string; status: string; done: number }[]>(['backfill', 'list']),
      env.json<{ status: string; ledger: BackfillRecord }>(['backfill', 'status', id]),
      env.run(['backfill', 'status', `${id}x`]),
    ]);
    expect(list.value).toContainEqual(
      expect.objectContaining({ id, status: 'completed', done: r.value.done }),
    );
    expect(status.value).toMatchObject({
      status: 'COMPLETED',
      ledger: { selection: `+${mart}`, from: '2026-11-04', to: '2026-11-05', total: r.value.total },
    });
    // Whatever the backfill left stale is rebuilt by a materialize over the whole range.
    const rest = await env.json<MaterializeSummary>([
      'materialize',
      '-s',
      `+${mart}`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-05',
    ]);
    expect(rest.code).toBe(0);
    const plan = await env.json<{ steps: unknown[] }>([
      'plan',
      '-s',
      `+${mart}`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-05',
    ]);
    expect(plan.value.steps).toEqual([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`did you mean "${id}"?`);
  }, 180_000);

  it('cancels a running backfill and resumes it where it stopped', async () => {
    const id = `slow-${P}`;
    const args = [
      '-s',
      `${P}raw.slow_events`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-20',
      '--concurrency',
      '1',
    ];
    const started = await env.json<{ backfillId: string; workflowId: string; url: string }>([
      'backfill',
      'start',
      ...args,
      '--id',
      id,
      '--no-wait',
    ]);
    expect(started.value).toMatchObject({ backfillId: id, workflowId: `tessera/backfill/${id}` });
    // A step waits at the gate (its source's first landing went through): the backfill cannot finish before the
    // cancel, however slow the machine.
    await eventually(() => (existsSync(`${gate}.waiting`) ? true : undefined), 60_000, 200);
    const running = await env.json<{ status: string; progress?: { done: number; total: number } }>([
      'backfill',
      'status',
      id,
    ]);
    expect(running.value).toMatchObject({ status: 'RUNNING', progress: { total: 20 } });
    const cancel = await env.json<{ cancelled: boolean }>(['backfill', 'cancel', id]);
    expect(cancel.value.cancelled).toBe(true);
    const record = await eventually(
      async () => {
        const l = await env.json<{ id: string; status: string; done: number }[]>(['backfill', 'list']);
        return l.value.find((b) => b.id === id && b.status === 'cancelled');
      },
      30_000,
      300,
    );
    expect(record.done).toBeLessThan(20);
    const again = await env.run(['backfill', 'cancel', id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not running \(CANCELLED\)/);

    writeFileSync(gate, 'open');
    const resumed = await env.json<BackfillSummary>(['backfill', 'resume', id, '--concurrency', '4']);
    expect(resumed.code).toBe(0);
    expect(resumed.value.status).toBe('completed');
    expect(resumed.value.done + resumed.value.skippedFresh).toBe(20);
    expect(resumed.value.done).toBeLessThan(20);
  }, 240_000); // a dozen CLI calls: slow on a loaded machine, not timed

  it('publishes partitions behind the barrier and rolls back through the worker', async () => {
    for (const day of ['2026-11-02', '2026-11-03', '2026-11-04']) {
      const r = await env.json<{ status: string; version: string }>([
        'publish',
        'run',
        group,
        '--partition',
        day,
      ]);
      expect(r.code).toBe(0);
      expect(r.value).toMatchObject({
        status: 'published',
        version: expect.stringMatching(`^${day}_`) as unknown,
      });
    }
    const before = await env.json<Served[]>(['publish', 'status']);
    expect(before.value).toHaveLength(1);
    expect(before.value[0]?.serving).toMatchObject({
      version: expect.stringMatching(/^2026-11-04_/) as unknown,
      rolledBack: 0,
    });
    expect(before.value[0]?.publications.map((p) => p.version.slice(0, 10))).toEqual([
      '2026-11-02',
      '2026-11-03',
      '2026-11-04',
    ]);

    // Exactly the published days: 2026-11-01 and 2026-11-05 are built but never went through a barrier.
    const days = (q: { value: Query }) => q.value.rows.map((r) => r['_partition_key']);
    const published = await env.json<Query>([
      'query',
      `select distinct _partition_key from ${mart} order by 1`,
    ]);
    expect(days(published)).toEqual(['2026-11-02', '2026-11-03', '2026-11-04']);

    const back = await env.json<{ version: string; route: string }>(['publish', 'rollback', group]);
    expect(back.code).toBe(0);
    expect(back.value).toMatchObject({
      route: 'worker',
      version: expect.stringMatching(/^2026-11-03_/) as unknown,
    });
    const after = await env.run(['publish', 'status', group]);
    expect(after.stdout).toMatch(new RegExp(`${group}\\s+2026-11-03_\\w+\\s+\\S+\\s+1\\s+2026-11-04_`));
    const view = await env.json<Query>(['query', `select distinct _partition_key from ${mart} order by 1`]);
    expect(view.code).toBe(0);
    expect(days(view)).toEqual(['2026-11-02', '2026-11-03']);
  }, 180_000);

  it('applies, lists, pauses, unpauses and triggers schedules', async () => {
    const applied = await env.json<{ created: string[]; unchanged: string[] }>(['schedules', 'apply']);
    expect(applied.value).toMatchObject({ created: [`${P}nightly`], unchanged: [] });
    const again = await env.json<{ created: string[]; unchanged: string[] }>([
      'schedules',
      'apply',
      '--dry-run',
    ]);
    expect(again.value).toMatchObject({ created: [], unchanged: [`${P}nightly`] });
    await env.run(['schedules', 'pause', `${P}nightly`, '--note', 'cli test']);
    const paused = await env.json<{ name: string; paused: boolean; cron: string }[]>(['schedules', 'list']);
    expect(paused.value).toEqual([
      expect.objectContaining({ name: `${P}nightly`, paused: true, cron: '0 3 1 1 *' }),
    ]);
    // In order: a trigger that reaches the server while the schedule is still paused may take no action.
    const unpause = await env.run(['schedules', 'unpause', `${P}nightly`]);
    const trigger = await env.json<{ triggered: boolean }>(['schedules', 'trigger', `${P}nightly`]);
    expect(unpause.stdout).toBe(`unpaused ${P}nightly\n`);
    expect(trigger.value.triggered).toBe(true);
    await eventually(
      async () => {
        const l = await env.json<{ paused: boolean; recent: number }[]>(['schedules', 'list']);
        return l.value[0]?.recent === 1 && !l.value[0].paused ? true : undefined;
      },
      120_000,
      300,
    );
  }, 180_000);

  it('stops the worker on SIGTERM; query and rollback then open the warehouse directly', async () => {
    expect(await worker?.stop('SIGTERM')).toBe(0);
    worker = undefined;
    // One at a time: a reader's shared lock keeps a writer out, and the other way round.
    const q = await env.json<Query>(['query', `select count(*) as n from ${P}core.dim_users`]);
    const back = await env.run(['publish', 'rollback', group]);
    expect(q.value).toMatchObject({ route: 'direct', rows: [{ n: 5 }] });
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(new RegExp(`^${group} now serves version 2026-11-02_\\w+ .*; directly\\)`));
    const last = await env.run(['publish', 'rollback', group]);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/has no earlier version to roll back to/);
    const forced = await env.run(['query', 'select 1', '--via', 'worker']);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/no worker (polls|on) task queue/);
  });

  it('`tessera dev` reuses the dev server, prints the UI and runs a worker until SIGINT', async () => {
    const dev = env.spawnLong(['--json', 'dev']);
    try {
      await dev.waitFor(/"taskQueue"/, { timeoutMs: 150_000, stream: 'stdout' });
      const info = JSON.parse(dev.output().stdout.trim().split('\n').at(-1) ?? '{}') as Record<
        string,
        unknown
      >;
      expect(info).toMatchObject({
        address: TEMPORAL_ADDRESS,
        taskQueue: env.taskQueue,
        namespace: 'default',
      });
      // The UI address, or null when the server was started headless (scripts/test.sh does).
      expect([UI_BASE_URL, null]).toContain(info['ui']);
      const q = await env.json<Query>(['query', `select count(*) as n from ${P}core.dim_users`]);
      expect(q.value).toMatchObject({ route: 'worker', rows: [{ n: 5 }] });
      expect(await dev.stop('SIGINT')).toBe(0);
    } finally {
      if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
    }
  });
});

/** `node bin/tessera.js --config <env> ...args` with its own stdio captured: the real entry point, wrapper included. */
function spawnTessera(
  e: CliEnv,
  args: readonly string[],
  extraEnv: Readonly<Record<string, string>> = {},
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [join(repo, 'bin', 'tessera.js'), '--config', e.configFile, ...args],
    {
      cwd: repo,
      env: {
        ...process.env,
        TESSERA_TEST_PREFIX: e.prefix,
        TESSERA_DEFINITIONS: join(repo, 'test', 'cli', 'fixtures', 'catalog.ts'),
        TESSERA_LOG_LEVEL: 'info',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Direct children of a process (from /proc). */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // `pid (comm) state ppid ...`; comm may contain spaces, so split after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return kids;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The warehouse opens read-write: no process (an orphan included) holds its lock. */
async function warehouseIsFree(e: CliEnv): Promise<boolean> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: e.warehouse });
  await engine.close();
  return true;
}

describe('the worker process (bin/tessera.js)', () => {
  it('SIGTERM to the started PID stops the real worker gracefully and frees the warehouse', async () => {
    const e = cliEnv('signals');
    const w = spawnTessera(e, ['worker']);
    await eventually(() => (/worker started/.test(w.output()) ? true : undefined), 150_000, 200);
    const pid = w.child.pid ?? 0;
    const inner = childrenOf(pid);
    expect(inner).toHaveLength(1); // wrapper → node (tsx loaded in-process), not wrapper → tsx → node
    process.kill(pid, 'SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).toMatch(/worker stopped/);
    expect(inner.filter(alive)).toEqual([]);
    expect(await warehouseIsFree(e)).toBe(true);
  }, 200_000);

  it('a worker whose wrapper is SIGKILLed stops by itself (no orphan keeps the DuckDB lock)', async () => {
    const e = cliEnv('orphan');
    const w = spawnTessera(e, ['worker']);
    await eventually(() => (/worker started/.test(w.output()) ? true : undefined), 150_000, 200);
    const [inner] = childrenOf(w.child.pid ?? 0);
    expect(inner).toBeDefined();
    w.child.kill('SIGKILL');
    await eventually(() => (alive(inner ?? 0) ? undefined : true), 60_000, 200);
    expect(w.output()).toMatch(/worker stopped/);
    expect(await warehouseIsFree(e)).toBe(true);
  }, 200_000);

  it('waits for a Temporal server that is not up yet, with a clear log line, then runs', async () => {
    // A port nothing listens on until the proxy below forwards it to the real server.
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const e = cliEnv('late-server', { temporalAddress: `127.0.0.1:${port}` });
    const w = spawnTessera(e, ['worker']);
    await eventually(
      () =>
        /Temporal at 127\.0\.0\.1:\d+ is not reachable yet; retrying/.test(w.output()) ? true : undefined,
      150_000,
      200,
    );
    const [host = '127.0.0.1', target = '7233'] = TEMPORAL_ADDRESS.split(':');
    const proxy = createNetServer((socket) => {
      const upstream = connectTcp(Number(target), host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      await eventually(() => (/worker started/.test(w.output()) ? true : undefined), 120_000, 200);
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await new Promise((r) => proxy.close(r));
    }
  }, 300_000);

  it('stops on SIGTERM while still waiting for Temporal', async () => {
    const e = cliEnv('never-server', { temporalAddress: '127.0.0.1:9' });
    const w = spawnTessera(e, ['worker']);
    await eventually(
      () => (/is not reachable yet; retrying/.test(w.output()) ? true : undefined),
      150_000,
      200,
    );
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).toMatch(/worker stopped before Temporal answered/);
  }, 200_000);

  it('prints the Temporal UI where TESSERA_TEMPORAL_UI_PORT moved it', async () => {
    expect(resolveUiUrl('http://127.0.0.1:8233', { TESSERA_TEMPORAL_UI_PORT: '18233' })).toBe(
      'http://127.0.0.1:18233',
    );
    expect(resolveUiUrl('http://127.0.0.1:8233/', {})).toBe('http://127.0.0.1:8233');
    expect(resolveUiUrl('https://temporal.example.com', { TESSERA_TEMPORAL_UI_PORT: '18233' })).toBe(
      'https://temporal.example.com',
    );
    expect(
      resolveUiUrl('http://127.0.0.1:8233', {
        TESSERA_TEMPORAL_UI_PORT: '18233',
        TESSERA_TEMPORAL_UI_URL: 'http://10.0.0.5:9000/',
      }),
    ).toBe('http://10.0.0.5:9000');
    const r = spawnTessera(
      env,
      [
        '--json',
        'backfill',
        'start',
        '-s',
        mart,
        '--from',
        '2026-11-01',
        '--to',
        '2026-11-01',
        '--id',
        `ui-${P}`,
        '--no-wait',
      ],
      { TESSERA_TEMPORAL_UI_PORT: '18233' },
    );
    expect(await r.exited).toBe(0);
    expect(r.output()).toMatch(/"url": ?"http:\/\/127\.0\.0\.1:18233\/namespaces\/default\/workflows\//);
  }, 120_000);
});
