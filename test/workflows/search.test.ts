/**
 * Every step is findable by each partition it builds (issue 15, finding 7): a batch of hourly partitions landed
 * by ISO week (`raw.snowplow_events/2026-W45`) answers `PartitionKeys = "<day>"` and `= "<hour>"`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanStep } from '../../src/planner/types.js';
import { stepWorkflowId } from '../../src/runtime/ids.js';
import { PARTITION_KEYS_BUDGET, partitionSearchKeys } from '../../src/runtime/search-attributes.js';
import type { materializeWorkflow } from '../../src/workflows/index.js';
import { connectTestEnv, startWorker, UI_BASE_URL } from '../helpers/temporal.js';
import type { RunningWorker, TemporalTestEnv } from '../helpers/temporal.js';
import { eventually, switchableFakes } from './fakes.js';

let env: TemporalTestEnv;
let worker: RunningWorker;
const fakes = switchableFakes();

beforeAll(async () => {
  env = await connectTestEnv('search');
  worker = await startWorker(env, fakes.activities);
});

afterAll(async () => {
  await worker?.stop();
  await env?.close();
});

describe('partition search attributes', () => {
  it('lists the days, then the keys while they fit', () => {
    expect(partitionSearchKeys(['2026-11-03T05', '2026-11-04T00'])).toEqual([
      '2026-11-03',
      '2026-11-04',
      '2026-11-03T05',
      '2026-11-04T00',
    ]);
    expect(partitionSearchKeys(['2026-11-03|google'])).toEqual(['2026-11-03', '2026-11-03|google']);
    expect(partitionSearchKeys(['2026-11-03'])).toEqual(['2026-11-03']);
    expect(partitionSearchKeys(['eu'])).toEqual(['eu']);
    const week = Array.from({ length: 168 }, (_, h) => {
      const d = 2 + Math.floor(h / 24);
      return `2026-11-${String(d).padStart(2, '0')}T${String(h % 24).padStart(2, '0')}`;
    });
    const listed = partitionSearchKeys(week);
    expect(listed.slice(0, 7)).toEqual(['02', '03', '04', '05', '06', '07', '08'].map((d) => `2026-11-${d}`));
    expect(listed.reduce((n, k) => n + k.length + 3, 0)).toBeLessThanOrEqual(PARTITION_KEYS_BUDGET);
  });

  it('finds a week batch of hourly steps by day and by hour', async () => {
    fakes.use({});
    const asset = `${env.ns}.events`;
    const steps: PlanStep[] = ['2026-11-03T00', '2026-11-03T01', '2026-11-04T00'].map((p) => ({
      id: `${asset}@${p}`,
      assetKey: asset,
      partitionKey: p,
      reason: 'missing',
      upstream: [],
      inputs: [],
      batch: '2026-W45',
    }));
    const handle = await env.client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
      taskQueue: env.taskQueue,
      workflowId: `test/run/${randomUUID()}`,
      args: [
        { uiBaseUrl: UI_BASE_URL, plan: { selection: asset, range: undefined, steps, skippedFresh: 0 } },
      ],
    });
    expect(await handle.result()).toMatchObject({ status: 'success', succeeded: 3 });
    const batchId = stepWorkflowId(asset, '2026-W45', env.taskQueue);
    const find = async (key: string): Promise<string[] | undefined> => {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({
        query: `AssetKey = '${asset}' AND PartitionKeys = '${key}'`,
      }))
        ids.push(w.workflowId);
      return ids.length > 0 ? ids : undefined;
    };
    expect(await eventually(() => find('2026-11-03'), 20_000, 300)).toEqual([batchId]);
    expect(await eventually(() => find('2026-11-03T01'), 20_000, 300)).toEqual([batchId]);
    expect(await eventually(() => find('2026-11-04'), 20_000, 300)).toEqual([batchId]);
    expect(await find('2026-11-05')).toBeUndefined();
  });
});
