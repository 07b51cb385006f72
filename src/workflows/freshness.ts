/**
 * Freshness alerts: a schedule tick asks which partitions of its selection are late (freshnessBreaches) and
 * starts one `freshnessAlertWorkflow` per breach with the id `tessera/freshness/<scope>/<asset>/<partition>`.
 * Temporal refuses a second workflow with that id, so a breach alerts once however many ticks see it.
 */
import { ParentClosePolicy, WorkflowIdReusePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { FreshnessBreach } from '../activities/types.js';
import { freshnessWorkflowId } from '../runtime/ids.js';
import { ASSET_KEY, PARTITION_KEY, RUN_KIND } from '../runtime/search-attributes.js';
import { control } from './activities.js';
import { alert } from './step.js';

export interface FreshnessAlertInput extends FreshnessBreach {
  /** The run that found the breach. */
  readonly runId: string;
  readonly uiBaseUrl?: string;
}

/** Sends the `freshness_breach` alert of one breach (its id makes it once per breach). */
export async function freshnessAlertWorkflow(input: FreshnessAlertInput): Promise<void> {
  await alert(
    'freshness_breach',
    { assetKey: input.assetKey, partitionKey: input.partitionKey, error: input.error, runId: input.runId },
    input.uiBaseUrl,
  );
}

/** Checks the selection's freshness as of `asOf`; returns the ids of the alert workflows started (new breaches). */
export async function alertFreshness(input: {
  selection: string;
  asOf: string;
  uiBaseUrl?: string;
}): Promise<string[]> {
  const info = workflowInfo();
  const breaches = await control.freshnessBreaches({ selection: input.selection, asOf: input.asOf });
  const started: string[] = [];
  for (const breach of breaches) {
    const workflowId = freshnessWorkflowId(breach.assetKey, breach.partitionKey, info.taskQueue);
    try {
      await startChild(freshnessAlertWorkflow, {
        workflowId,
        args: [{ ...breach, runId: info.workflowId, uiBaseUrl: input.uiBaseUrl }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: ASSET_KEY, value: breach.assetKey },
          { key: PARTITION_KEY, value: breach.partitionKey },
          { key: RUN_KIND, value: 'freshness' },
        ],
      });
      started.push(workflowId);
    } catch (err) {
      // Alerted already (by an earlier tick, or one running now).
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return started;
}
