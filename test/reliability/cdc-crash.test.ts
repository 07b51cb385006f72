/**
 * CDC crash: the ingestion process (cdc-crash-child.ts: pgoutput stream → DuckDB file) is SIGKILLed again and again
 * while a writer commits inserts, updates and deletes: half of the kills inside a confirmation (the batch written,
 * the slot not yet moved), half from outside at whatever point the process has reached after landing a batch.
 * After a final clean drain, the raw tables must hold each committed change exactly once: 0 lost, 0 duplicated.
 * CI: 12 kills over 60 transactions; TESSERA_CHAOS_FULL=1: 40 kills over 400.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import { repo } from '../cli/helpers.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

const FULL = process.env.TESSERA_CHAOS_FULL === '1';
const KILLS = FULL ? 40 : 12;
const TRANSACTIONS = FULL ? 400 : 60;

let db: ScratchDatabase;
const dir = mkdtempSync(join(tmpdir(), 'tessera-cdc-crash-'));
const warehouse = join(dir, 'w.duckdb');
const slot = 'cdc_crash';

beforeAll(async () => {
  db = await scratchDatabase('inventory_db');
});
afterAll(async () => {
  await db?.drop();
});

interface Child {
  readonly proc: ChildProcess;
  /** Resolves when a line matching `re` is printed, or with null when the process exits first. */
  next(re: RegExp): Promise<string | null>;
  readonly exited: Promise<NodeJS.Signals | null>;
}

function start(crashAtConfirm = 0): Child {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(repo, 'test', 'reliability', 'cdc-crash-child.ts'), db.url, slot, warehouse],
    {
      cwd: repo,
      env: { ...process.env, CRASH_AT_CONFIRM: String(crashAtConfirm) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    waiters.splice(0).forEach((w) => w());
  });
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0)
        process.stderr.write(`[cdc-crash child] exit ${code}\n${err}\n`);
      resolve(signal);
      waiters.splice(0).forEach((w) => w());
    }),
  );
  let seen = 0;
  return {
    proc,
    exited,
    next: (re) =>
      new Promise((resolve) => {
        const check = () => {
          const lines = out.split('\n').slice(0, -1);
          for (; seen < lines.length; seen++)
            if (re.test(lines[seen] ?? '')) return resolve(lines[seen++] ?? '');
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve(null);
          waiters.push(check);
        };
        check();
      }),
  };
}

async function write(t: number): Promise<void> {
  // One transaction: 5 purchases, an update of earlier ones, every 3rd a delete.
  await db.client.query('BEGIN');
  await db.client.query(
    `INSERT INTO purchases (user_id, listing_id, amount_cents, currency, event_date)
     SELECT g, 1, g * 11 + $1, 'EUR', date '2026-12-01' + (g % 20) FROM generate_series(1, 5) g`,
    [t],
  );
  await db.client.query(`UPDATE purchases SET status = 'confirmed' WHERE purchase_id % 7 = $1 % 7`, [t]);
  if (t % 3 === 0) await db.client.query(`DELETE FROM purchases WHERE purchase_id % 11 = $1 % 11`, [t]);
  await db.client.query('COMMIT');
}

describe('CDC ingestion killed between reading and confirming', () => {
  it('lands every committed change exactly once', { timeout: 900_000 }, async () => {
    await db.client.query(
      `INSERT INTO vendors (name, category, city, country) VALUES ('Hall', 'venue', 'Berlin', 'DE');
       INSERT INTO listings (vendor_id, listing_type, title, description, city, price_cents, currency, capacity)
       VALUES (1, 'event_space', 'Hall', 'x', 'Berlin', 100000, 'EUR', 80)`,
    );
    // The slot and the initial snapshot, then a clean stop.
    const first = start();
    expect(await first.next(/^caughtUp/)).not.toBeNull();
    first.proc.kill('SIGKILL');
    await first.exited;

    let kills = 0;
    let confirmKills = 0;
    let t = 0;
    const perRound = Math.ceil(TRANSACTIONS / KILLS);
    while (kills < KILLS) {
      for (let i = 0; i < perRound && t < TRANSACTIONS; i++) await write(t++);
      const inside = kills % 2 === 0;
      // Inside: die in the 1st or 2nd confirmation of this life. Outside: die right after a batch landed.
      const child = start(inside ? 1 + (kills % 4 === 0 ? 1 : 0) : 0);
      if (!inside) {
        const line = await child.next(/^(batch|caughtUp) /);
        expect(line).not.toBeNull();
        child.proc.kill('SIGKILL');
      }
      expect(await child.exited).toBe('SIGKILL');
      kills++;
      if (inside) confirmKills++;
    }
    while (t < TRANSACTIONS) await write(t++);

    // A final life drains the slot, then stops.
    const last = start();
    for (;;) {
      const line = await last.next(/^(batch|caughtUp) /);
      expect(line).not.toBeNull();
      if (line?.startsWith('caughtUp')) break;
    }
    last.proc.kill('SIGKILL');
    await last.exited;

    // What PostgreSQL committed, counted from the database itself.
    const truth = await db.client.query<{ inserted: string; live: string }>(
      `SELECT (SELECT coalesce(max(purchase_id), 0) FROM purchases) AS inserted, (SELECT count(*) FROM purchases) AS live`,
    );
    const inserted = Number(truth.rows[0]?.inserted);
    const live = Number(truth.rows[0]?.live);
    expect(inserted).toBe(TRANSACTIONS * 5);

    const engine = await createDuckDbEngine({ type: 'duckdb', path: warehouse, threads: 1 });
    try {
      const [r] = await engine.query<{ c: number; d: number; rows: number; keys: number; current: number }>(
        `SELECT count(*) FILTER (WHERE _op = 'c')::INT AS c, count(*) FILTER (WHERE _op = 'd')::INT AS d,
                count(*)::INT AS rows, count(DISTINCT (_lsn, _seq))::INT AS keys,
                (SELECT count(*) FROM (SELECT purchase_id, arg_max(_op, (_lsn, _seq)) AS op
                   FROM raw.inventory_db_purchases_changes GROUP BY 1) WHERE op <> 'd')::INT AS current
         FROM raw.inventory_db_purchases_changes WHERE _op <> 'r'`,
      );
      expect(confirmKills).toBeGreaterThanOrEqual(KILLS / 2);
      expect(r?.c).toBe(inserted); // 0 lost inserts
      expect(r?.keys).toBe(r?.rows); // 0 duplicated changes
      expect(r?.d).toBe(inserted - live); // 0 lost deletes
      expect(r?.current).toBe(live); // replaying the log gives the database's rows
      process.stdout.write(
        `[cdc-crash] ${kills} kills (${confirmKills} inside a confirmation), ${TRANSACTIONS} transactions, ` +
          `${r?.rows} changes landed once each\n`,
      );
    } finally {
      await engine.close();
    }
  });
});
