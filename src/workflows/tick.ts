/**
 * scheduleTickWorkflow: what a Temporal Schedule starts. Asks which partitions the tick stands for (the
 * selection's latest closed ones as of the scheduled time), materializes them, then starts one publish
 * workflow per group partition (or nudges the one already waiting), and alerts the selection's freshness
 * breaches (once per breach). Publish and alert workflows outlive the tick.
 */
import {
  ParentClosePolicy,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
  defineSearchAttributeKey,
} from '@temporalio/common';
import { publishWorkflowId } from '../runtime/ids.js';
import { PARTITION_KEY, RUN_KIND } from '../runtime/search-attributes.js';
import { control } from './activities.js';
import type { Dag } from './dag.js';
import { alertFreshness } from './freshness.js';
import { EMPTY_PROGRESS, planOf, runPlan, tagRun } from './materialize.js';
import { publishWorkflow } from './publish.js';
import { progressQuery, recheckSignal } from './types.js';
import type { ScheduleTickInput, ScheduleTickResult } from './types.js';

/** Set by Temporal on workflows a Schedule starts. */
const SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

const FRESHNESS_PATCH = 'tessera-tick-freshness';
const PUBLISH_SCOPE_PATCH = 'tessera-publish-id-scope';

export async function scheduleTickWorkflow(input: ScheduleTickInput): Promise<ScheduleTickResult> {
  let dag: Dag | undefined;
  setHandler(progressQuery, () => dag?.progress() ?? EMPTY_PROGRESS);
  const info = workflowInfo();
  const asOf =
    input.asOf ?? (info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime).toISOString();
  const tick = await control.tickRequest({
    schedule: input.schedule,
    selection: input.selection,
    publishGroups: input.publishGroups ?? [],
    asOf,
  });
  const plan = await planOf({ ...input, request: tick.request });
  tagRun('tick', plan.steps);
  const materialize = await runPlan(plan, info.workflowId, input, (d) => (dag = d));

  const publishWorkflowIds: string[] = [];
  // Ticks recorded before publish ids were scoped by deployment replay with the old ids.
  const scope = tick.publish.length > 0 && patched(PUBLISH_SCOPE_PATCH) ? info.taskQueue : undefined;
  for (const { group, partitionKey } of tick.publish) {
    const workflowId = publishWorkflowId(group, partitionKey, scope);
    publishWorkflowIds.push(workflowId);
    try {
      await startChild(publishWorkflow, {
        workflowId,
        args: [{ ...input.publish, uiBaseUrl: input.uiBaseUrl, group, partitionKey, runId: info.workflowId }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: PARTITION_KEY, value: partitionKey },
          { key: RUN_KIND, value: 'publish' },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      await getExternalWorkflowHandle(workflowId).signal(recheckSignal);
    }
  }
  // Ticks recorded before freshness alerts existed replay without the check.
  const freshnessAlerts = patched(FRESHNESS_PATCH)
    ? await alertFreshness({ selection: input.selection, asOf, uiBaseUrl: input.uiBaseUrl })
    : [];
  return { asOf, materialize, publishWorkflowIds, freshnessAlerts };
}
