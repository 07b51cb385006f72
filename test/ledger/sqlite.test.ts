import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/index.js';
import { LATEST_SCHEMA_VERSION } from '../../src/ledger/sql.js';
import { openSqliteLedger } from '../../src/ledger/sqlite.js';
import { ledgerContract, mat } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ledger-'));
let n = 0;
const freshPath = (): string => join(dir, `ledger-${++n}`, 'ledger.sqlite');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

ledgerContract('sqlite', () => openSqliteLedger(freshPath()));

describe('SQLite ledger file', () => {
  it('creates the schema idempotently (schema_version) and persists across reopen', async () => {
    const path = freshPath();
    const a = await openLedger({ type: 'sqlite', path });
    await a.recordMaterialization(mat());
    await a.close();
    const b = await openLedger({ type: 'sqlite', path });
    expect(await b.history('core.dim_users', '2026-11-24')).toEqual([mat()]);
    await b.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
    );
    db.close();
  });

  it('upgrades a ledger written before the latest table: creates and fills it once at open', async () => {
    const path = freshPath();
    const old = await openSqliteLedger(path);
    const writes = [
      mat({ runId: 'ok' }),
      mat({ runId: 'failed', status: 'failed', error: 'x', startedAt: '2026-11-26T00:00:00Z' }),
      mat({ partitionKey: '2026-11-23', inputDataVersions: { 'b@1': 'x', 'a@1': 'y' } }),
      mat({ assetKey: 'core.other', partitionKey: '', runId: 'only-failed', status: 'failed' }),
    ];
    for (const w of writes) await old.recordMaterialization(w);
    await old.close();
    // The file as a version-1 ledger left it.
    const raw = new Database(path);
    raw.exec('DROP TABLE latest_materializations; DELETE FROM schema_version WHERE version > 1');
    raw.close();

    const upgraded = await openSqliteLedger(path);
    const view = await upgraded.view(['core.dim_users', 'core.other']);
    for (const [a, p] of [
      ['core.dim_users', '2026-11-24'],
      ['core.dim_users', '2026-11-23'],
      ['core.other', ''],
    ] as const) {
      const history = await upgraded.history(a, p);
      expect(view.latest(a, p)).toStrictEqual(history[0]);
      expect(view.latestSuccess(a, p)).toStrictEqual(history.find((r) => r.status === 'success'));
    }
    expect(view.latest('core.dim_users', '2026-11-24')?.runId).toBe('failed');
    expect(view.latestSuccess('core.dim_users', '2026-11-24')?.runId).toBe('ok');
    // SQLite keeps the JSON text as written, so the planner's fingerprint survives the upgrade.
    expect(view.heads('core.dim_users').get('2026-11-23')?.inputsText).toBe('{"b@1":"x","a@1":"y"}');
    await upgraded.recordMaterialization(mat({ runId: 'newest', startedAt: '2026-11-27T00:00:00Z' }));
    await upgraded.close();

    const again = await openSqliteLedger(path); // nothing left to migrate
    expect((await again.view(['core.dim_users'])).latest('core.dim_users', '2026-11-24')?.runId).toBe(
      'newest',
    );
    await again.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
    );
    db.close();
  });

  it('refuses a file migrated by newer code', async () => {
    const path = freshPath();
    await (await openSqliteLedger(path)).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_version VALUES (999, '2030-01-01T00:00:00Z')").run();
    db.close();
    await expect(openSqliteLedger(path)).rejects.toThrow(/newer than this code/);
  });

  it('a reader sees committed data while another connection holds an open write transaction', async () => {
    const path = freshPath();
    const writer = await openSqliteLedger(path);
    await writer.recordMaterialization(mat({ runId: 'committed' }));

    // A second handle on the same file opens a write transaction and leaves it open.
    const raw = new Database(path);
    raw.exec('BEGIN IMMEDIATE');
    raw.prepare(`UPDATE materializations SET row_count = 999`).run();

    const reader = await openSqliteLedger(path, { busyTimeoutMs: 200 });
    const started = Date.now();
    const seen = await reader.history('core.dim_users', '2026-11-24');
    expect(Date.now() - started).toBeLessThan(150); // no waiting on the writer's lock
    expect(seen.map((r) => [r.runId, r.rowCount])).toEqual([['committed', 10]]); // not the uncommitted 999
    // A second writer waits busy_timeout, then fails cleanly (the lock is still held).
    await expect(reader.recordMaterialization(mat({ runId: 'blocked' }))).rejects.toThrow(/locked|busy/i);

    raw.exec('COMMIT');
    raw.close();
    expect((await reader.history('core.dim_users', '2026-11-24'))[0]?.rowCount).toBe(999);
    await reader.close();
    await writer.close();
  });

  it('another process writing: reads go on, and a writer waits for the lock instead of failing', async () => {
    const path = freshPath();
    const ledger = await openSqliteLedger(path, { busyTimeoutMs: 10_000 });
    await ledger.recordMaterialization(mat({ runId: 'before' }));

    // A child process (as a worker would be) holds a write transaction for ~600 ms, then commits.
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(process.argv[1], { timeout: 5000 });
      db.exec('BEGIN IMMEDIATE');
      db.prepare("UPDATE materializations SET data_version = 'from-child'").run();
      process.stdout.write('locked\\n');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 600);
    `;
    const child = spawn(process.execPath, ['-e', script, path], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('locked') && resolve());
      child.on('exit', () => reject(new Error('child exited before locking')));
    });

    expect((await ledger.history('core.dim_users', '2026-11-24'))[0]?.dataVersion).toBe('d1');
    const t0 = Date.now();
    await ledger.recordMaterialization(mat({ runId: 'after', startedAt: '2026-11-26T00:00:00Z' }));
    expect(Date.now() - t0).toBeGreaterThan(200); // it waited for the child's commit
    expect(await exited).toBe(0);
    const history = await ledger.history('core.dim_users', '2026-11-24');
    expect(history.map((r) => [r.runId, r.dataVersion])).toEqual([
      ['after', 'd1'],
      ['before', 'from-child'],
    ]);
    await ledger.close();
  });

  it('two processes opening a fresh file at once both migrate safely', async () => {
    const path = freshPath();
    const ledgers = await Promise.all([
      openSqliteLedger(path),
      openSqliteLedger(path),
      openSqliteLedger(path),
    ]);
    await Promise.all(ledgers.map((l, i) => l.recordMaterialization(mat({ runId: `r${i}` }))));
    expect(await ledgers[0]!.history('core.dim_users', '2026-11-24')).toHaveLength(3);
    await Promise.all(ledgers.map((l) => l.close()));
  });
});
