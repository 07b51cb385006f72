import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryClient } from '../../src/engines/bigquery/bigquery-client.js';
import { startEmulator, type EmulatorProcess } from '../../src/engines/bigquery/bigquery-emulator.js';
import { formatBytes, overBudget, parseBytes } from '../../src/cli/plan-cost.js';

/**
 * Cost before it is spent: `tessera plan` shows the bytes each BigQuery step would scan (dry runs) and
 * `--max-bytes` refuses a plan over budget. On the emulator (a private one, project `test-plan`) a dry run runs the query
 * and reports the size of its result; BigQuery reports the bytes of the columns it would read, without
 * running anything. The tests compare estimates with each other, never with fixed numbers.
 */

const BIN = process.env['TESSERA_BQ_EMULATOR_BIN'];
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('budget arithmetic (no server)', () => {
  it('parses sizes in decimal and binary units, and refuses the rest', () => {
    expect(parseBytes('1000')).toBe(1000);
    expect(parseBytes('1.5GB')).toBe(1_500_000_000);
    expect(parseBytes('2 MiB')).toBe(2 * 1024 * 1024);
    expect(parseBytes('10 potatoes')).toBeUndefined();
    expect(formatBytes(1_234_000)).toBe('1.23 MB');
  });

  it('refuses only what exceeds the budget', () => {
    const cost = { steps: [], totalBytes: 5000, unknown: 0 };
    expect(overBudget(cost, 5000)).toBeUndefined();
    expect(overBudget(cost, 4999)).toMatch(/would scan 5.00 KB \(5000 bytes\), over the budget .*4999 bytes/);
  });
});

describe.skipIf(!BIN)('tessera plan on BigQuery (emulator)', { timeout: 180_000 }, () => {
  const prefix = `p${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bq-plan-'));
  const configFile = join(dir, 'tessera.yaml');
  let emulator: EmulatorProcess | undefined;
  let URL = '';
  beforeAll(async () => {
    emulator = await startEmulator(BIN ?? '', 'test-plan');
    URL = emulator.endpoint;
    writeFileSync(
      configFile,
      [
        'environment: test',
        `stateDir: ${dir}`,
        'defaultEngine: bq',
        'engines:',
        '  bq:',
        '    type: bigquery',
        '    projectId: test-plan',
        `    apiEndpoint: ${URL}`,
        'ledger:',
        '  type: sqlite',
        `  path: ${join(dir, 'ledger.sqlite')}`,
        'temporal:',
        '  address: 127.0.0.1:1',
        `  taskQueue: bq-plan-${prefix}`,
        '  uiUrl: http://127.0.0.1:1',
        '',
      ].join('\n'),
    );
    await seed();
  }, 120_000);
  afterAll(async () => {
    await emulator?.stop();
  });

  const cli = (
    args: readonly string[],
    config = configFile,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(repo, 'bin', 'tessera.js'),
          '--config',
          config,
          '--definitions',
          'test/engines/fixtures/bigquery-plan-catalog.ts',
          ...args,
        ],
        { cwd: repo, env: { ...process.env, TESSERA_TEST_PREFIX: prefix } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  interface PlanJson {
    readonly steps: readonly { readonly id: string }[];
    readonly cost: {
      readonly totalBytes: number;
      readonly steps: readonly {
        readonly step: string;
        readonly bytes: number | null;
        readonly note?: string;
      }[];
    };
  }

  async function seed(): Promise<void> {
    const c = new BigQueryClient({
      projectId: 'test-plan',
      apiEndpoint: URL ?? '',
      scratchDataset: `${prefix}_scratch`,
    });
    await c.run(`CREATE SCHEMA IF NOT EXISTS \`${prefix}_src\``);
    // Day 1: 40 rows, day 2: 4 rows.
    await c.run(
      `CREATE OR REPLACE TABLE \`${prefix}_src\`.\`events\` AS SELECT IF(x <= 40, '2026-11-01', '2026-11-02') AS day, ` +
        `CONCAT('label-', CAST(MOD(x, 7) AS STRING)) AS label FROM UNNEST(GENERATE_ARRAY(1, 44)) AS x`,
    );
  }

  it('shows what each step would scan and the total', async () => {
    const r = await cli([
      'plan',
      '--json',
      '-s',
      `${prefix}_facts.events_daily`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as PlanJson;
    const bytes = Object.fromEntries(plan.cost.steps.map((s) => [s.step, s.bytes]));
    const d1 = bytes[`${prefix}_facts.events_daily@2026-11-01`] ?? 0;
    const d2 = bytes[`${prefix}_facts.events_daily@2026-11-02`] ?? 0;
    expect(d1).toBeGreaterThan(0);
    expect(d2).toBeGreaterThan(0);
    expect(plan.cost.totalBytes).toBe(d1 + d2);

    const text = await cli(['plan', '-s', `${prefix}_facts.events_daily`, '--partition', '2026-11-01']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/would scan .* \(\d+ bytes, BigQuery dry runs\)/);
  });

  it('--max-bytes refuses a plan over budget (exit 1) and lets one within it through', async () => {
    const base = [
      'plan',
      '--json',
      '-s',
      `${prefix}_facts.events_daily`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
    ];
    const total = (JSON.parse((await cli(base)).stdout) as PlanJson).cost.totalBytes;
    const within = await cli([...base, '--max-bytes', String(total)]);
    expect(within.code).toBe(0);
    const over = await cli([...base, '--max-bytes', String(total - 1)]);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain(`over the budget`);
    expect(over.stderr).toContain(`${total} bytes`);
    // A run over budget is refused before anything starts (this config's Temporal address answers nothing).
    const run = await cli([
      'materialize',
      '-s',
      `${prefix}_facts.events_daily`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
      '--max-bytes',
      String(total - 1),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('over the budget');
    const bad = await cli([...base, '--max-bytes', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-bytes "lots" is not a size/);
  });

  it('backfill --max-bytes refuses before anything starts, counting only the steps it would run', async () => {
    const range = ['-s', `${prefix}_facts.events_daily`, '--from', '2026-11-01', '--to', '2026-11-02'];
    const total = (JSON.parse((await cli(['plan', '--json', ...range])).stdout) as PlanJson).cost.totalBytes;
    expect(total).toBeGreaterThan(0);
    // Over budget: refused before the backfill is started (this config's Temporal address answers nothing).
    const over = await cli(['backfill', 'start', ...range, '--max-bytes', String(total - 1)]);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain('over the budget');
    expect(over.stderr).toContain(`${total} bytes`);
    const within = await cli(['backfill', 'start', ...range, '--dry-run', '--max-bytes', String(total)]);
    expect(within.stderr).toBe('');
    expect(within.code).toBe(0);
    // Nothing has failed, so `--only failed` would run no step: no budget is exceeded.
    const none = await cli([
      'backfill',
      'start',
      ...range,
      '--only',
      'failed',
      '--max-bytes',
      '1',
      '--dry-run',
    ]);
    expect(none.stderr).toBe('');
    expect(none.code).toBe(0);
    const bad = await cli(['backfill', 'start', ...range, '--max-bytes', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-bytes "lots" is not a size/);
  });

  it('estimates the steps config places on BigQuery (assetEngines), not only those whose code names it', async () => {
    const placed = join(dir, 'placed.yaml');
    writeFileSync(
      placed,
      [
        'environment: test',
        `stateDir: ${dir}`,
        'defaultEngine: local',
        'engines:',
        '  local:',
        '    type: duckdb',
        `    path: ${join(dir, 'local.duckdb')}`,
        '  bq:',
        '    type: bigquery',
        '    projectId: test-plan',
        `    apiEndpoint: ${URL}`,
        'assetEngines:',
        `  '${prefix}_facts.*': bq`,
        'ledger:',
        '  type: sqlite',
        `  path: ${join(dir, 'ledger-placed.sqlite')}`,
        'temporal:',
        '  address: 127.0.0.1:1',
        `  taskQueue: bq-plan-placed-${prefix}`,
        '  uiUrl: http://127.0.0.1:1',
        '',
      ].join('\n'),
    );
    const range = ['-s', `${prefix}_facts.events_daily`, '--from', '2026-11-01', '--to', '2026-11-02'];
    const direct = JSON.parse((await cli(['plan', '--json', ...range])).stdout) as PlanJson;
    const r = await cli(['plan', '--json', ...range], placed);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const viaConfig = JSON.parse(r.stdout) as PlanJson;
    expect(viaConfig.cost.totalBytes).toBeGreaterThan(0);
    expect(viaConfig.cost.totalBytes).toBe(direct.cost.totalBytes);
  });
});
