/**
 * The step lease store on every backend (a SQLite file, the PostgreSQL test cluster, memory): one winner per
 * claim, renewals and releases only by the claim that holds it, an expired holder taken over, the released result
 * left for waiters. Clocks are passed in, so expiry is decided by numbers, never by waiting.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { StepResult } from '../../src/activities/types.js';
import {
  MemoryStepLeaseStore,
  openPostgresLeaseStore,
  openSqliteLeaseStore,
  type StepLeaseStore,
} from '../../src/activities/lease-store.js';
import { ensurePostgres } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-leases-'));
const schemas: string[] = [];
const opened: StepLeaseStore[] = [];

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (schemas.length > 0) {
    const db = new pg.Client({ connectionString: await ensurePostgres() });
    await db.connect();
    for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await db.end();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Two stores on one database (two connections, as two workers have), or one shared memory store. */
const backends: Record<string, () => Promise<[StepLeaseStore, StepLeaseStore]>> = {
  sqlite: () => {
    const path = join(dir, `${randomUUID()}.sqlite`);
    const pair: [StepLeaseStore, StepLeaseStore] = [openSqliteLeaseStore(path), openSqliteLeaseStore(path)];
    opened.push(...pair);
    return Promise.resolve(pair);
  },
  postgres: async () => {
    const url = await ensurePostgres();
    const schema = `lease_${randomUUID().slice(0, 8)}`;
    schemas.push(schema);
    const pair: [StepLeaseStore, StepLeaseStore] = [
      await openPostgresLeaseStore(url, schema),
      await openPostgresLeaseStore(url, schema),
    ];
    opened.push(...pair);
    return pair;
  },
  memory: () => {
    const store = new MemoryStepLeaseStore();
    return Promise.resolve([store, store]);
  },
};

const result = (stepId: string): StepResult => ({
  stepId,
  status: 'success',
  rowCount: 3,
  dataVersion: `v-${stepId}`,
  checks: [],
});

describe.each(Object.keys(backends))('step leases on %s', (name) => {
  const open = backends[name]!;

  it('refuses another live run, lets the holder retry, and leaves its result on release', async () => {
    const [a, b] = await open();
    const first = await a.claim('q/x.a/p', 'run-1', 60_000, 1_000);
    expect(first).toEqual({ claimed: true, generation: 1 });
    expect(await b.claim('q/x.a/p', 'run-2', 60_000, 2_000)).toEqual({
      claimed: false,
      holder: 'run-1',
      expiresMs: 61_000,
    });
    // A retried attempt of the holder's own run takes it again, as a new claim.
    const again = await b.claim('q/x.a/p', 'run-1', 60_000, 3_000);
    expect(again).toEqual({ claimed: true, generation: 2 });
    // The first claim is superseded: it can neither renew nor release.
    expect(await a.renew('q/x.a/p', 'run-1', 1, 60_000, 4_000)).toBe(false);
    expect(await a.release('q/x.a/p', 'run-1', 1, undefined)).toBe(false);
    expect(await a.renew('q/x.a/p', 'run-1', 2, 60_000, 4_000)).toBe(true);
    expect((await b.read('q/x.a/p'))?.expiresMs).toBe(64_000);
    expect(await b.release('q/x.a/p', 'run-1', 2, result('x.a@p'))).toBe(true);
    expect(await a.read('q/x.a/p')).toMatchObject({
      holder: null,
      releasedBy: 'run-1',
      result: result('x.a@p'),
    });
    // Free again: the next run claims it, and the released result is gone with the new claim.
    expect(await a.claim('q/x.a/p', 'run-2', 60_000, 5_000)).toEqual({ claimed: true, generation: 3 });
    expect(await b.read('q/x.a/p')).toMatchObject({ holder: 'run-2', result: null, releasedBy: null });
  });

  it('takes over a lease whose holder stopped renewing, and the old holder cannot touch it after', async () => {
    const [a, b] = await open();
    await a.claim('q/x.b/p', 'dead-run', 1_000, 0);
    expect(await b.claim('q/x.b/p', 'run-2', 60_000, 999)).toMatchObject({ claimed: false });
    expect(await b.claim('q/x.b/p', 'run-2', 60_000, 1_000)).toEqual({ claimed: true, generation: 2 });
    expect(await a.renew('q/x.b/p', 'dead-run', 1, 1_000, 1_001)).toBe(false);
    expect(await a.release('q/x.b/p', 'dead-run', 1, result('x.b@p'))).toBe(false);
    expect(await a.read('q/x.b/p')).toMatchObject({ holder: 'run-2', generation: 2 });
  });

  it('has exactly one winner when many runs claim one step at once', async () => {
    const [a, b] = await open();
    const runs = Array.from({ length: 12 }, (_, i) => `run-${i}`);
    const outcomes = await Promise.all(
      runs.map((run, i) => (i % 2 === 0 ? a : b).claim('q/x.c/p', run, 60_000, 10_000)),
    );
    const winners = runs.filter((_, i) => outcomes[i]!.claimed);
    expect(winners).toHaveLength(1);
    for (const o of outcomes) if (!o.claimed) expect(o.holder).toBe(winners[0]);
    expect((await a.read('q/x.c/p'))?.holder).toBe(winners[0]);
  });
});
