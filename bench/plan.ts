/**
 * Plans 1,000 synthetic assets × 365 daily partitions against an empty ledger and a half-fresh one,
 * and prints the time and peak memory. Goal: under 1 second on this machine.
 * Run: npx tsx bench/plan.ts [--assets 1000] [--days 365]
 */
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { asset, daily, defineDefinitions, lookback, type AssetDeclaration } from '../src/dsl/index.js';
import { ledgerViewOf, type MaterializationRecord } from '../src/ledger/index.js';
import { plan } from '../src/planner/index.js';

const { values } = parseArgs({
  options: { assets: { type: 'string', default: '1000' }, days: { type: 'string', default: '365' } },
});
const assetCount = Number(values.assets);
const days = Number(values.days);
const start = '2025-01-01';
const end =
  DateTime.fromISO(start, { zone: 'utc' })
    .plus({ days: days - 1 })
    .toISODate() ?? start;

// A layered DAG: each asset reads up to three assets of earlier layers, one of them through a 2-day lookback.
const assets: AssetDeclaration[] = [];
for (let i = 0; i < assetCount; i++) {
  const deps =
    i < 10
      ? []
      : [
          `s.a${String(i - 10).padStart(4, '0')}`,
          { key: `s.a${String(Math.floor(i / 2)).padStart(4, '0')}`, mapping: lookback(2) },
          `s.a${String(i % 10).padStart(4, '0')}`,
        ];
  assets.push(
    asset({
      key: `s.a${String(i).padStart(4, '0')}`,
      kind: 'custom',
      partitions: daily({ start }),
      deps: [...new Map(deps.map((d) => [typeof d === 'string' ? d : d.key, d])).values()],
      sql: `select ${i} as x`,
    }),
  );
}

function measure<T>(label: string, fn: () => T): T {
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const out = fn();
  const ms = performance.now() - t0;
  const heapMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms   heap +${heapMb.toFixed(0)} MB`);
  return out;
}

const defs = measure(`define + validate ${assetCount} assets`, () => defineDefinitions({ assets }));
const request = { selection: '*', range: { from: start, to: end } };
const cold = measure(`plan ${assetCount} × ${days} (empty ledger)`, () =>
  plan(defs, request, ledgerViewOf([])),
);
console.log(`  steps planned: ${cold.steps.length}`);

// Roots fresh for every day: only their readers' input checks remain to do.
const records: MaterializationRecord[] = [];
for (const a of defs.assets.slice(0, 10)) {
  for (const s of cold.steps) {
    if (s.assetKey !== a.key) continue;
    records.push({
      assetKey: a.key,
      partitionKey: s.partitionKey,
      runId: 'bench',
      codeVersion: a.codeVersion,
      inputDataVersions: {},
      dataVersion: 'v1',
      rowCount: 1,
      status: 'success',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:00.000Z',
    });
  }
}
const view = ledgerViewOf(records);
const warm = measure(`plan ${assetCount} × ${days} (roots fresh)`, () => plan(defs, request, view));
console.log(`  steps planned: ${warm.steps.length}, skipped fresh: ${warm.skippedFresh}`);
console.log(
  `peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB   (goal: each plan < 1000 ms)`,
);
