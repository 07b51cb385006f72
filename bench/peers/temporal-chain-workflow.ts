/**
 * Bare Temporal: the benchmark's chain of no-op steps as plain activities called one after another from one
 * workflow (no Tessera: no plan, no ledger, no child workflows). The floor any Temporal-based orchestrator
 * pays per step. Bundled by bench/peers/dispatch.ts.
 */
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(i: number): Promise<void> }>({ startToCloseTimeout: '1 minute' });

export async function chainWorkflow(steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) await noop(i);
}
