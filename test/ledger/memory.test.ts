import { describe, expect, it } from 'vitest';
import { MemoryLedger, MemoryLedgerView, ledgerViewOf } from '../../src/ledger/memory.js';
import { ledgerContract, mat } from './contract.js';

ledgerContract('memory', () => Promise.resolve(new MemoryLedger()));

describe('MemoryLedgerView (plain data for planner tests)', () => {
  it('is built synchronously from records in any order', () => {
    const ok = mat({ runId: 'r1' });
    const failed = mat({ runId: 'r2', status: 'failed', startedAt: '2026-11-26T00:00:00Z' });
    const view = ledgerViewOf([failed, ok]);
    expect(view.latest('core.dim_users', '2026-11-24')).toBe(failed);
    expect(view.latestSuccess('core.dim_users', '2026-11-24')).toBe(ok);
    expect(view.latest('core.dim_users', '2026-11-25')).toBeUndefined();
  });

  it('can be extended record by record and seeded into a MemoryLedger', async () => {
    const view = new MemoryLedgerView();
    view.add(mat({ runId: 'r1' }));
    expect(view.latestSuccess('core.dim_users', '2026-11-24')?.runId).toBe('r1');
    const ledger = new MemoryLedger([mat({ runId: 'r1' }), mat({ runId: 'r1' })]);
    expect(await ledger.history('core.dim_users', '2026-11-24')).toHaveLength(1);
  });
});
