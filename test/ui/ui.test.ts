/**
 * `tessera ui` in a real browser over the demo's catalog: a small demo run (3 simulated days) builds a warehouse
 * and ledger through real Temporal workflows, then the tests click through the graph, an asset, a partition and
 * its Temporal link, search an SCD2 key's history, read an experiment's forest plot, and check the publish and
 * runs pages against what the CLI says. Screenshots go to a temp dir, or to docs/ui with
 * TESSERA_UI_SCREENSHOTS=docs.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookMyEvent as definitions } from '../../src/assets/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { repo } from '../cli/helpers.js';
import { ensureTemporalServer, TEMPORAL_ADDRESS } from '../helpers/temporal.js';
import { launchBrowser, startUi, type RunningUi } from './helpers.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tessera-ui-'));
const config = join(dir, 'tessera.yaml');
const demoDir = join(dir, 'demo');
const shots = process.env.TESSERA_UI_SCREENSHOTS === 'docs' ? join(repo, 'docs', 'ui') : join(dir, 'shots');
const taskQueue = `ui-test-${process.pid}`;

/** `tessera --json …` over the demo's warehouse and ledger (the config points at them). */
async function cli<T>(args: readonly string[]): Promise<T> {
  const { stdout } = await run(
    process.execPath,
    [join(repo, 'bin', 'tessera.js'), '--config', config, '--json', ...args],
    {
      cwd: repo,
      maxBuffer: 16 * 2 ** 20,
    },
  );
  return JSON.parse(stdout) as T;
}

/** A page expression: the graph shows exactly n nodes. */
const nodesShown = (n: number): string => `document.querySelectorAll('svg.lineage .node').length === ${n}`;

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

let ui: RunningUi;
let browser: Browser;
let page: Page;
let ledger: Ledger;

describe('tessera ui over the demo catalog', () => {
  beforeAll(async () => {
    await ensureTemporalServer();
    writeFileSync(
      config,
      [
        'environment: ui-test',
        `stateDir: ${dir}`,
        'defaultEngine: duckdb',
        // The demo builds under <stateDir>/demo; the CLI's own reads here go to the same files.
        `engines: { duckdb: { type: duckdb, path: ${join(demoDir, 'warehouse.duckdb')} } }`,
        `ledger: { type: sqlite, path: ${join(demoDir, 'ledger.sqlite')} }`,
        `temporal: { address: "${TEMPORAL_ADDRESS}", taskQueue: ${taskQueue} }`,
      ].join('\n'),
    );
    await run(
      process.execPath,
      [
        join(repo, 'bin', 'tessera.js'),
        '--config',
        config,
        'demo',
        '--scale',
        'small',
        '--days',
        '3',
        '--seed',
        '7',
      ],
      { cwd: repo, timeout: 900_000, maxBuffer: 16 * 2 ** 20 },
    );
    ledger = await openLedger({ type: 'sqlite', path: join(demoDir, 'ledger.sqlite') });
    ui = await startUi(config, ['--demo']);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 1_200_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    await ledger?.close();
  });

  it(
    'clicks from the graph to an asset, one of its partitions and the step in Temporal',
    { timeout: 180_000 },
    async () => {
      await page.goto(`${ui.url}/#/graph`);
      const all = definitions.select('*');
      await page.waitForFunction(nodesShown(all.length), undefined, { timeout: 120_000 });
      // The demo built every asset through 2026-11-03: the latest partitions are fresh.
      const mart = 'reporting.mart_daily_revenue';
      expect(await page.getAttribute(`.node[data-key="${mart}"]`, 'class')).toContain('health-fresh');
      await shot(page, 'graph');

      // The CLI's selection syntax narrows the graph to the same assets `assets list -s` names.
      const selection = `+${mart}`;
      await page.fill('input[name="select"]', selection);
      await page.click('button[type="submit"]');
      const selected = definitions.select(selection);
      await page.waitForFunction(nodesShown(selected.length));
      expect(
        await page.$$eval('svg.lineage .node', (ns) => ns.map((n) => n.getAttribute('data-key')).sort()),
      ).toEqual([...selected].sort());

      await page.click(`.node[data-key="${mart}"]`);
      await page.waitForSelector('[data-testid="asset-key"]');
      expect(await page.textContent('[data-testid="asset-key"]')).toContain(mart);
      const a = definitions.asset(mart);
      expect(await page.textContent('.facts')).toContain(a.codeVersion);
      // SQL as DuckDB runs it for the newest partition: placeholders rendered as timestamp literals.
      const sql = (await page.textContent('[data-testid="sql"]')) ?? '';
      expect(sql).toContain("TIMESTAMP '2026-11-03 00:00:00");
      expect(sql).not.toContain('{{');
      for (const d of a.deps)
        expect(await page.textContent('[data-testid="deps"]')).toContain(d.mapping.fingerprint);
      // Each check shows its latest result, as the ledger recorded it.
      const latest = (await ledger.materializations({ assetKeys: [mart] })).find(
        (m) => m.partitionKey === '2026-11-03',
      );
      const results = await ledger.checkResults(mart, '2026-11-03', latest?.runId);
      expect(results.length).toBe(a.checks.length);
      const checksText = (await page.textContent('[data-testid="checks"]')) ?? '';
      for (const r of results) expect(checksText).toContain(r.checkName);
      expect((checksText.match(/passed/g) ?? []).length).toBe(results.filter((r) => r.passed).length);
      await page.waitForSelector(
        '[data-testid="health-strip"] .cell[data-partition="2026-11-02"].health-fresh',
      );
      await shot(page, 'asset');

      await page.click('[data-testid="health-strip"] .cell[data-partition="2026-11-02"]');
      await page.waitForSelector('[data-testid="materialization"]');
      const history = await ledger.history(mart, '2026-11-02');
      expect(await page.locator('[data-testid="materialization"]').count()).toBe(history.length);
      expect(await page.textContent('[data-testid="materialization"] [data-testid="row-count"]')).toBe(
        String(history[0]?.rowCount),
      );
      expect(await page.textContent('[data-testid="materialization"]')).toContain(
        history[0]?.dataVersion ?? '?',
      );
      await shot(page, 'partition');

      // The link names the step workflow that built the partition: Temporal knows it, completed.
      const link = (await page.getAttribute('[data-testid="temporal-link"]', 'href')) ?? '';
      const workflowId = decodeURIComponent(/\/workflows\/([^/?]+)$/.exec(link)?.[1] ?? '');
      expect(workflowId).toBe(`tessera/step/${taskQueue}-demo/${mart}/2026-11-02`);
      const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
      try {
        const d = await new Client({ connection }).workflow.getHandle(workflowId).describe();
        expect(d.status.name).toBe('COMPLETED');
      } finally {
        await connection.close();
      }
    },
  );

  it(
    "searches an SCD2 key's history and reads the table as of an instant",
    { timeout: 120_000 },
    async () => {
      // A purchase that changed: its versions, as `tessera query` reads them.
      type Q = { rows: Record<string, unknown>[] };
      const { rows: keys } = await cli<Q>([
        'query',
        'select purchase_id, count(*) as n from core.dim_purchases group by 1 having count(*) > 1 order by 2 desc, 1 limit 1',
      ]);
      const id = String(keys[0]?.['purchase_id']);
      const { rows: versions } = await cli<Q>([
        'query',
        `select status, valid_from from core.dim_purchases where purchase_id = ${id} order by valid_from`,
      ]);
      await page.goto(`${ui.url}/#/history?key=core.dim_purchases`);
      await page.fill('input[name="k.purchase_id"]', id);
      await page.click('form.toolbar button[type="submit"]');
      await page.waitForSelector('[data-testid="timeline"]');
      const shown = page.locator('[data-testid="version"]');
      expect(await shown.count()).toBe(versions.length);
      for (let i = 1; i < versions.length; i++) {
        const changedStatus = versions[i]?.['status'] !== versions[i - 1]?.['status'];
        const text = (await shown.nth(i).locator('.change[data-column="status"]').count()) > 0;
        expect(text).toBe(changedStatus);
      }
      // As of the end of the first day: the same rows as `query --as-of 2026-11-01`.
      const asOf = await cli<Q>([
        'query',
        `select * from core.dim_purchases where purchase_id = ${id}`,
        '--as-of',
        '2026-11-01',
      ]);
      await page.fill('input[name="at"]', '2026-11-01');
      await page.click('text=Show the table then');
      await page.waitForSelector('[data-testid="asof-table"]');
      expect(await page.locator('[data-testid="asof-table"] tr').count()).toBe(asOf.rows.length + 1);
      if (asOf.rows[0])
        expect(await page.textContent('[data-testid="asof-table"]')).toContain(
          String(asOf.rows[0]['status']),
        );
      await shot(page, 'history');
    },
  );

  it(
    "draws an experiment's lift and confidence intervals as the report computes them",
    { timeout: 120_000 },
    async () => {
      type Report = {
        srm: { mismatch: boolean };
        rows: {
          metric_id: string;
          variation: string;
          is_baseline: boolean;
          lift: number | null;
          ci_low: number | null;
          ci_high: number | null;
          users: number;
        }[];
      };
      const report = await cli<Report>(['experiments', 'report', 'checkout_v2']);
      await page.goto(`${ui.url}/#/experiments?key=checkout_v2`);
      await page.waitForSelector('[data-testid="forest-plot"]');
      const drawn = report.rows.filter((r) => !r.is_baseline && r.lift !== null);
      const titles = await page.$$eval('[data-testid="forest-plot"] circle title', (ts) =>
        ts.map((t) => t.textContent ?? ''),
      );
      expect(titles.length).toBe(drawn.length);
      const pct = (v: number | null) => (v === null ? '' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
      for (const r of drawn) {
        const title = titles.find((t) => t.startsWith(`${r.metric_id} ${r.variation}:`));
        expect(title).toContain(`lift ${pct(r.lift)} [${pct(r.ci_low)}, ${pct(r.ci_high)}]`);
      }
      expect(await page.textContent('[data-testid="srm"]')).toContain(
        report.srm.mismatch ? 'mismatch' : 'ok',
      );
      const users = (await page.textContent('[data-testid="users"]')) ?? '';
      for (const r of report.rows.filter((x) => x.metric_id === report.rows[0]?.metric_id))
        expect(users).toContain(`${r.variation} ${r.users}`);
      await shot(page, 'experiments');
    },
  );

  it('shows what each publish group serves and the backfill the demo ran', { timeout: 120_000 }, async () => {
    type Status = { group: string; serving: { version: string } | null }[];
    const status = await cli<Status>(['publish', 'status']);
    await page.goto(`${ui.url}/#/publish`);
    for (const g of status) {
      const serving = page.locator(`[data-group="${g.group}"] [data-testid="serving"]`);
      await serving.waitFor();
      expect(await serving.textContent()).toBe(g.serving?.version ?? 'nothing yet (never published)');
    }
    await shot(page, 'publish');

    const [backfill] = await ledger.backfills();
    await page.goto(`${ui.url}/#/runs`);
    await page.waitForSelector('[data-testid="backfills"]');
    const row = page.locator('[data-testid="backfills"] tr', { hasText: backfill?.backfillId ?? '?' });
    expect(await row.textContent()).toContain(`${backfill?.done}/${backfill?.total}`);
    expect(await row.textContent()).toContain(backfill?.status ?? '?');
    await shot(page, 'runs');
  });

  it(
    'rolls a publish group back and starts a materialization with --allow-actions',
    { timeout: 180_000 },
    async () => {
      type Status = { group: string; serving: { version: string } | null }[];
      const before = (await cli<Status>(['publish', 'status', 'finance']))[0]?.serving?.version;
      const publications = await ledger.publications('finance');
      const versions = publications.map((p) => p.version);
      const previous = versions[versions.indexOf(before ?? '') - 1];
      expect(previous).toBeDefined();
      const actions = await startUi(config, ['--demo', '--allow-actions']);
      try {
        const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        p.on('dialog', (d) => void d.accept());
        await p.goto(`${actions.url}/#/publish`);
        await p.click('[data-group="finance"] .action button');
        await p.waitForSelector('[data-group="finance"] .action .ok');
        expect(await p.textContent('[data-group="finance"] .action .ok')).toContain(previous ?? '?');
        // The warehouse serves the previous version, as `publish status` reads it.
        expect((await cli<Status>(['publish', 'status', 'finance']))[0]?.serving?.version).toBe(previous);
        await p.close();

        // Materialize starts the CLI's workflow on the demo's task queue (no worker runs it here: it is ended).
        const r = await fetch(`${actions.url}/api/actions/materialize`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            select: 'reporting.mart_daily_revenue',
            partition: '2026-11-03',
            force: true,
          }),
        });
        const started = (await r.json()) as { workflowId?: string; error?: string };
        expect(r.status, started.error).toBe(200);
        const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
        try {
          const handle = new Client({ connection }).workflow.getHandle(started.workflowId ?? '?');
          const d = await handle.describe();
          expect(d.type).toBe('materializeWorkflow');
          expect(d.taskQueue).toBe(`${taskQueue}-demo`);
          await handle.terminate('test: no worker runs it');
        } finally {
          await connection.close();
        }
      } finally {
        await actions.stop();
      }
    },
  );

  it('refuses actions unless started with --allow-actions', async () => {
    const r = await fetch(`${ui.url}/api/actions/rollback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ group: 'finance' }),
    });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: string }).error).toMatch(/--allow-actions/);
  });
});
