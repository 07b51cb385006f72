/**
 * The README's main job, small: simulate BookMyEvent, run it through a real Temporal server (backfill, then a
 * schedule tick, then the publish barrier), reconcile every mart figure with the simulator's ground truth — twice,
 * into two fresh warehouses, which must come out identical.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import { ensureTemporalServer, TEMPORAL_ADDRESS } from '../helpers/temporal.js';

async function runDemo(taskQueue: string): Promise<{ stdout: string; warehouse: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-'));
  const config = join(dir, 'tessera.yaml');
  writeFileSync(
    config,
    [
      'environment: demo-test',
      `stateDir: ${dir}`,
      'defaultEngine: duckdb',
      `engines: { duckdb: { type: duckdb, path: ${join(dir, 'w.duckdb')} } }`,
      `ledger: { type: sqlite, path: ${join(dir, 'l.sqlite')} }`,
      `temporal: { address: "${TEMPORAL_ADDRESS}", taskQueue: ${taskQueue} }`,
    ].join('\n'),
  );
  const { stdout } = await promisify(execFile)(
    'node',
    ['bin/tessera.js', '--config', config, 'demo', '--scale', 'small', '--days', '3', '--seed', '7'],
    { timeout: 240_000, maxBuffer: 16 * 2 ** 20 },
  );
  return { stdout, warehouse: join(dir, 'demo', 'warehouse.duckdb') };
}

/** Columns anywhere in the warehouse whose name says they hold a credential or a raw contact detail. */
async function secretColumns(warehouse: string): Promise<string[]> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: warehouse, readOnly: true });
  try {
    const rows = await engine.query(
      `select table_schema || '.' || table_name || '.' || column_name as c from information_schema.columns
       where column_name in ('password_hash', 'email', 'phone') order by 1`,
    );
    return rows.map((r) => String(r['c']));
  } finally {
    await engine.close();
  }
}

describe('the BookMyEvent demo', () => {
  it(
    'reconciles every mart with the ground truth, and two runs build identical warehouses',
    { timeout: 600_000 },
    async () => {
      await ensureTemporalServer();
      const { stdout: first, warehouse } = await runDemo(`demo-test-${process.pid}`);
      // PII at the door: credentials are dropped and contact details hashed before anything lands.
      expect(await secretColumns(warehouse)).toEqual([]);
      expect(first).toMatch(/backfill completed: \d+ partitions built, 0 failed, 0 skipped/);
      expect(first).toMatch(/publish finance @ 2026-11-03: published/);
      expect(first).toMatch(/publish marketing @ 2026-11-03: published/);
      expect(first).toMatch(/publish experiments @ 2026-11-03: published/);
      const reconciled = /reconciled with the simulator's ground truth: (\d+)\/(\d+) figures match/.exec(
        first,
      );
      expect(reconciled?.[1]).toBeDefined();
      expect(Number(reconciled?.[2])).toBeGreaterThan(20);
      expect(reconciled?.[1]).toBe(reconciled?.[2]);
      const { stdout: second } = await runDemo(`demo-test-${process.pid}`);
      const print = (out: string) => /warehouse fingerprint: (\w+) \((\d+) tables/.exec(out)?.slice(1);
      expect(print(first)).toBeDefined();
      expect(print(second)).toEqual(print(first));
    },
  );
});
