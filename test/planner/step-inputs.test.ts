/**
 * Plans cross Temporal without step inputs (a cumulative asset reads hundreds of partitions per step); the
 * materialize activity recomputes them with stepInputs, which must give exactly what the planner gave.
 */
import { describe, expect, it } from 'vitest';
import { bookMyEvent } from '../../src/assets/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { plan, stepInputs, withoutInputs } from '../../src/planner/index.js';

describe('stepInputs', () => {
  it('recomputes every step input of the BookMyEvent catalog, partitioned and unpartitioned readers alike', async () => {
    const view = await new MemoryLedger().view(bookMyEvent.select('*'));
    const p = plan(bookMyEvent, { selection: '*', range: { from: '2026-11-01', to: '2026-11-03' } }, view);
    expect(p.steps.length).toBeGreaterThan(100);
    let cumulative = 0;
    for (const step of p.steps) {
      expect(stepInputs(bookMyEvent, step), step.id).toEqual(step.inputs);
      if (step.assetKey === 'experiments.experiment_sufficient_stats') cumulative = step.inputs.length;
    }
    // The cumulative stats read every day since the partitions begin, which is why plans ship without inputs.
    expect(cumulative).toBeGreaterThan(300);
    const shipped = withoutInputs(p);
    expect(shipped.steps.every((s) => s.inputs.length === 0)).toBe(true);
    expect(shipped.steps.map((s) => s.upstream)).toEqual(p.steps.map((s) => s.upstream));
    expect(JSON.stringify(shipped).length).toBeLessThan(JSON.stringify(p).length / 2);
  });
});
