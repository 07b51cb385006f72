/**
 * publishWorkflow: the consistency barrier before a publish group flips. Polls barrierStatus with a durable
 * backoff (or at once on a `recheck` signal); when ready, flips the group in one publishGroup activity; when
 * the timeout passes first, alerts `barrier_timeout` and leaves the previous version in place.
 */
import { condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time.js';
import type { BarrierStatus } from '../activities/types.js';
import { control, publishing } from './activities.js';
import { alert } from './step.js';
import { publishProgressQuery, recheckSignal } from './types.js';
import type { PublishInput, PublishResult } from './types.js';

export const DEFAULT_BARRIER_TIMEOUT = '6h';

interface PublishCarry {
  /** Epoch ms after which the barrier gives up (kept across continue-as-new). */
  readonly deadline?: number;
  readonly checks?: number;
}

export async function publishWorkflow(input: PublishInput & PublishCarry): Promise<PublishResult> {
  const info = workflowInfo();
  const runId = input.runId ?? info.workflowId;
  const deadline = input.deadline ?? Date.now() + msToNumber(input.timeout ?? DEFAULT_BARRIER_TIMEOUT);
  const maxWait = msToNumber(input.pollMax ?? '1m');
  const latenessMs = msToNumber(input.lateness ?? 0);
  let wait = Math.min(msToNumber(input.pollInitial ?? '5s'), maxWait);
  let recheck = false;
  let checks = input.checks ?? 0;
  let status: BarrierStatus = { ready: false, waitingOn: [] };
  setHandler(recheckSignal, () => {
    recheck = true;
  });
  setHandler(publishProgressQuery, () => ({ ready: status.ready, waitingOn: status.waitingOn, checks }));

  for (;;) {
    recheck = false;
    status = await control.barrierStatus({
      group: input.group,
      partitionKey: input.partitionKey,
      latenessMs,
    });
    checks++;
    if (status.ready) {
      const { version } = await publishing.publishGroup({
        group: input.group,
        partitionKey: input.partitionKey,
        runId,
      });
      return { status: 'published', version, checks };
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const error = `barrier not ready after timeout; waiting on: ${status.waitingOn.join('; ') || 'unknown'}`;
      await alert(
        'barrier_timeout',
        { group: input.group, partitionKey: input.partitionKey, error, runId },
        input.uiBaseUrl,
      );
      return { status: 'timed_out', waitingOn: status.waitingOn, checks };
    }
    await condition(() => recheck, Math.min(wait, remaining));
    wait = Math.min(wait * 2, maxWait);
    if (workflowInfo().continueAsNewSuggested && !recheck) {
      return continueAsNew<typeof publishWorkflow>({ ...input, runId, deadline, checks });
    }
  }
}
