/**
 * The graph at 1,000 assets (test/ui/fixtures/big-catalog.ts) in a real browser: every node renders once the
 * server has laid the catalog out. The time to first render is printed, not asserted (a busy CI machine would
 * make a bound flaky); bench/ui-graph.ts measures it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphResponse } from '../../src/ui/api-types.js';
import { repo } from '../cli/helpers.js';
import { TEMPORAL_ADDRESS } from '../helpers/temporal.js';
import { definitions } from './fixtures/big-catalog.js';
import { launchBrowser, startUi, type RunningUi } from './helpers.js';

let ui: RunningUi;
let browser: Browser;

describe('the lineage graph of a 1,000-asset catalog', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ui-big-'));
    const config = join(dir, 'tessera.yaml');
    writeFileSync(
      config,
      [
        'environment: ui-scale-test',
        `stateDir: ${dir}`,
        'defaultEngine: duckdb',
        `engines: { duckdb: { type: duckdb, path: ${join(dir, 'w.duckdb')} } }`,
        `ledger: { type: sqlite, path: ${join(dir, 'l.sqlite')} }`,
        `temporal: { address: "${TEMPORAL_ADDRESS}", taskQueue: ui-scale-${process.pid} }`,
      ].join('\n'),
    );
    ui = await startUi(config, [], {
      TESSERA_DEFINITIONS: join(repo, 'test', 'ui', 'fixtures', 'big-catalog.ts'),
    });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it('renders every asset and dependency', { timeout: 300_000 }, async () => {
    // The first request waits for ELK's layout (seconds at this size; cached on disk afterwards).
    const t0 = performance.now();
    const graph = (await (await fetch(`${ui.url}/api/graph`)).json()) as GraphResponse;
    const layoutS = (performance.now() - t0) / 1000;
    const keys = definitions.select('*');
    expect(graph.nodes.length).toBe(keys.length);
    expect(keys.length).toBe(1000);
    const edges = keys.reduce((n, k) => n + definitions.asset(k).deps.length, 0);
    expect(graph.edges.length).toBe(edges);
    // Every edge is routed: it starts at its upstream node's right side and ends at its downstream node's left.
    const at = new Map(graph.nodes.map((n) => [n.key, n]));
    for (const e of graph.edges) {
      const from = at.get(e.from);
      const to = at.get(e.to);
      expect(e.points.at(0)?.x).toBeCloseTo((from?.x ?? NaN) + (from?.width ?? NaN), 0);
      expect(e.points.at(-1)?.x).toBeCloseTo(to?.x ?? NaN, 0);
    }

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${ui.url}/#/graph`);
    // Set by the graph page once the browser has painted it (src/ui/web/pages/graph.ts).
    await page.waitForFunction('window.__tesseraGraph !== undefined', undefined, { timeout: 120_000 });
    const rendered = (await page.evaluate('window.__tesseraGraph')) as
      { nodes: number; ms: number } | undefined;
    expect(rendered?.nodes).toBe(1000);
    expect(await page.getAttribute('svg.lineage .edges', 'data-edges')).toBe(String(edges));
    // One polyline per dependency in the edges' path.
    const d = (await page.getAttribute('svg.lineage .edges .lines', 'd')) ?? '';
    expect(d.match(/M/g)?.length).toBe(edges);
    process.stdout.write(
      `[ui] 1,000-asset graph: layout ${layoutS.toFixed(1)} s (server, first request); first render ${Math.round(rendered?.ms ?? NaN)} ms after navigation\n`,
    );
    await page.close();
  });
});
