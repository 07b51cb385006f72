/**
 * `tessera status`'s health rows carry the inputs each ingested partition's latest pass quarantined (issue 15,
 * finding 6: quarantine must not be silent), read from the ledger's `quarantined` check.
 */
import { describe, expect, it } from 'vitest';
import { QUARANTINED_CHECK } from '../../src/activities/materialize.js';
import { partitionHealth } from '../../src/cli/health.js';
import { asset, daily, defineDefinitions } from '../../src/dsl/index.js';
import { MemoryLedger } from '../../src/ledger/memory.js';

const byDay = daily({ start: '2026-11-01' });
const defs = defineDefinitions({
  assets: [
    asset({
      key: 'raw.events',
      kind: 'custom',
      partitions: byDay,
      ingest: { source: 'snowplow', stream: 'events' },
    }),
    asset({
      key: 'marts.daily',
      kind: 'mart',
      partitions: byDay,
      deps: ['raw.events'],
      sql: 'select 1 as n from raw.events',
    }),
  ],
});

async function built(ledger: MemoryLedger, key: string, day: string, runId: string, quarantined?: number) {
  await ledger.recordMaterialization({
    assetKey: key,
    partitionKey: day,
    runId,
    codeVersion: defs.asset(key).codeVersion,
    inputDataVersions: {},
    dataVersion: `v-${runId}`,
    rowCount: 10,
    status: 'success',
    startedAt: `${day}T01:00:00.000Z`,
    endedAt: `${day}T01:00:01.${runId === 'r2' ? '5' : '0'}00Z`,
  });
  if (quarantined !== undefined)
    await ledger.recordCheck({
      assetKey: key,
      partitionKey: day,
      runId,
      checkName: QUARANTINED_CHECK,
      blocking: false,
      passed: quarantined === 0,
      failingRows: quarantined,
      checkedAt: `${day}T01:00:01.000Z`,
    });
}

describe('partition health', () => {
  it("counts the quarantined inputs of each partition's latest ingest pass", async () => {
    const ledger = new MemoryLedger();
    await built(ledger, 'raw.events', '2026-11-01', 'r1', 9);
    await built(ledger, 'raw.events', '2026-11-02', 'r1', 0);
    await built(ledger, 'raw.events', '2026-11-03', 'r1', 4);
    // A later pass over the 3rd quarantined less: only the latest attempt counts.
    await built(ledger, 'raw.events', '2026-11-03', 'r2', 1);
    const rows = await partitionHealth(defs, ledger, '*', { from: '2026-11-01', to: '2026-11-03' });
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey['raw.events']?.quarantined).toBe(10);
    expect(byKey['marts.daily']?.quarantined).toBe(0);
    expect(byKey['marts.daily']?.counts.missing).toBe(3);
  });
});
