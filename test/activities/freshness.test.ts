import { describe, expect, it } from 'vitest';
import { freshnessBreaches } from '../../src/activities/freshness.js';
import {
  asset,
  daily,
  defineDefinitions,
  hourly,
  multiPartitions,
  staticPartitions,
} from '../../src/dsl/index.js';
import { MemoryLedger, type MaterializationRecord } from '../../src/ledger/index.js';

const start = '2026-11-01';
const definitions = defineDefinitions({
  assets: [
    asset({
      key: 'marts.revenue',
      kind: 'custom',
      partitions: daily({ start }),
      freshness: { maxLagMinutes: 180 },
      sql: 'select 1 as x',
    }),
    asset({
      key: 'raw.clicks',
      kind: 'custom',
      partitions: hourly({ start }),
      freshness: { maxLagMinutes: 30 },
      sql: 'select 1 as x',
    }),
    asset({
      key: 'raw.spend',
      kind: 'custom',
      partitions: multiPartitions({ date: daily({ start }), platform: staticPartitions(['google', 'meta']) }),
      freshness: { maxLagMinutes: 60 },
      sql: 'select 1 as x',
    }),
    asset({ key: 'raw.untimed', kind: 'custom', partitions: daily({ start }), sql: 'select 1 as x' }),
  ],
});

const record = (
  assetKey: string,
  partitionKey: string,
  status: 'success' | 'failed',
): MaterializationRecord => ({
  assetKey,
  partitionKey,
  runId: `r-${status}`,
  codeVersion: definitions.asset(assetKey).codeVersion,
  inputDataVersions: {},
  dataVersion: status === 'success' ? 'v1' : '',
  rowCount: 1,
  status,
  ...(status === 'failed' ? { error: 'SqlError: boom' } : {}),
  startedAt: '2026-11-05T00:00:00.000Z',
  endedAt: '2026-11-05T00:00:01.000Z',
});

describe('freshnessBreaches', () => {
  it('reports the newest partition past its allowed lag that has no successful materialization', async () => {
    const ledger = new MemoryLedger();
    await ledger.recordMaterialization(record('marts.revenue', '2026-11-03', 'success'));
    await ledger.recordMaterialization(record('raw.clicks', '2026-11-05T01', 'failed'));
    await ledger.recordMaterialization(record('raw.spend', '2026-11-04|google', 'success'));
    const check = (asOf: string) => freshnessBreaches({ definitions, ledger }, { selection: '*', asOf });

    // 02:45 on the 5th: the 4th's revenue is due at 03:00 (not yet), the 3rd's is there; hour 01 of the 5th
    // (due 02:30) failed; spend of the 4th (due 01:00) lacks meta; untimed assets have no policy.
    const early = await check('2026-11-05T02:45:00Z');
    expect(early.map((b) => `${b.assetKey}@${b.partitionKey}`)).toEqual([
      'raw.clicks@2026-11-05T01',
      'raw.spend@2026-11-04|meta',
    ]);
    expect(early[0]!.error).toMatch(
      /30 min after its window ended \(2026-11-05T02:00:00\.000Z\).*SqlError: boom/,
    );
    expect(early[1]!.error).toMatch(/never materialized/);

    // 03:00: the 4th's revenue is due now and missing.
    const due = await check('2026-11-05T03:00:00Z');
    expect(due.map((b) => `${b.assetKey}@${b.partitionKey}`)).toContain('marts.revenue@2026-11-04');

    // Once everything due is materialized, nothing is reported.
    await ledger.recordMaterialization(record('marts.revenue', '2026-11-04', 'success'));
    await ledger.recordMaterialization(record('raw.clicks', '2026-11-05T01', 'success'));
    await ledger.recordMaterialization(record('raw.spend', '2026-11-04|meta', 'success'));
    expect(await check('2026-11-05T03:10:00Z')).toEqual([]);
    // Only the selection is checked.
    expect(
      await freshnessBreaches(
        { definitions, ledger },
        { selection: 'raw.untimed', asOf: '2026-11-09T00:00:00Z' },
      ),
    ).toEqual([]);
  });
});
