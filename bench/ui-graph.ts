/**
 * The UI's lineage graph at scale: a generated catalog (test/ui/fixtures/big-catalog.ts, 1,000 assets by
 * default) served by `tessera ui` in this process, rendered by Debian's Chromium (TESSERA_CHROMIUM overrides).
 * Prints the server's layout time (ELK, cold, then cached) and the browser's first render of the whole graph,
 * measured from navigation start to the painted SVG, over several fresh page loads.
 *
 *   npx tsx bench/ui-graph.ts [--loads 5]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CliContext } from '../src/cli/context.js';
import type { GraphResponse } from '../src/ui/api-types.js';
import { startUiServer } from '../src/ui/server/app.js';
import { launchBrowser } from '../test/ui/helpers.js';

const { values } = parseArgs({ options: { loads: { type: 'string', default: '5' } } });
const loads = Number(values.loads);

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-ui-'));
const config = join(dir, 'tessera.yaml');
writeFileSync(
  config,
  [
    'environment: bench',
    `stateDir: ${dir}`,
    'defaultEngine: duckdb',
    `engines: { duckdb: { type: duckdb, path: ${join(dir, 'w.duckdb')} } }`,
    `ledger: { type: sqlite, path: ${join(dir, 'l.sqlite')} }`,
  ].join('\n'),
);
const catalog = join(import.meta.dirname, '..', 'test', 'ui', 'fixtures', 'big-catalog.ts');
const ctx = new CliContext({ config, definitions: catalog });
const server = await startUiServer({ ctx, host: '127.0.0.1', port: 0, allowActions: false, via: 'direct' });
const browser = await launchBrowser();
try {
  let t0 = performance.now();
  const cold = (await (await fetch(`${server.url}/api/graph`)).json()) as GraphResponse;
  const coldMs = performance.now() - t0;
  t0 = performance.now();
  await (await fetch(`${server.url}/api/graph`)).json();
  const warmMs = performance.now() - t0;
  console.log(
    `catalog: ${cold.nodes.length} assets, ${cold.edges.length} dependencies; layout ${cold.width}×${cold.height}`,
  );
  console.log(
    `server:  first /api/graph ${coldMs.toFixed(0)} ms (ELK ${cold.layoutMs} ms), cached ${warmMs.toFixed(0)} ms`,
  );
  const renders: number[] = [];
  for (let i = 0; i < loads; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/#/graph`);
    await page.waitForFunction('window.__tesseraGraph !== undefined', undefined, { timeout: 120_000 });
    const r = (await page.evaluate('window.__tesseraGraph')) as { nodes: number; ms: number };
    if (r.nodes !== cold.nodes.length) throw new Error(`rendered ${r.nodes} of ${cold.nodes.length} nodes`);
    renders.push(r.ms);
    await page.close();
  }
  const sorted = [...renders].sort((a, b) => a - b);
  console.log(
    `browser: first render of all ${cold.nodes.length} nodes after navigation: ${renders.map((m) => m.toFixed(0)).join(', ')} ms (median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms)`,
  );
} finally {
  await browser.close();
  await server.close();
  await ctx.close();
}
