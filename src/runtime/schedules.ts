/**
 * Temporal Schedules as code: `applySchedules` makes the server's `tessera/schedule/*` schedules match the
 * declared ScheduleSpecs (create, update, delete), idempotently. Each schedule starts scheduleTickWorkflow;
 * a hash of everything that shapes the schedule is kept in the action's memo to tell `unchanged` apart.
 */
import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type {
  Client,
  ScheduleDescription,
  ScheduleOptions,
  ScheduleOptionsStartWorkflowAction,
  ScheduleUpdateOptions,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ScheduleSpec } from '../dsl/types.js';
import type { ingestWorkflow, scheduleTickWorkflow } from '../workflows/index.js';
import type { IngestInput } from '../workflows/ingest.js';
import type { ScheduleTickInput } from '../workflows/types.js';
import { SCHEDULE_ID_PREFIX, tickWorkflowId } from './ids.js';
import { RUN_KIND } from './search-attributes.js';

export interface ApplySchedulesOptions {
  readonly taskQueue: string;
  /** Id prefix owned by this deployment (default `tessera/schedule/`); only schedules under it are deleted. */
  readonly idPrefix?: string;
  /** Extra tick input for every schedule: concurrency, mode, publish options, uiBaseUrl. */
  readonly tick?: Omit<ScheduleTickInput, 'schedule' | 'selection' | 'publishGroups' | 'asOf'>;
  /** What happens when a tick is due while the previous one runs (default BUFFER_ONE: run it right after). */
  readonly overlap?: ScheduleOverlapPolicy;
  /** Missed ticks (server down) younger than this still run (default 1 day). */
  readonly catchupWindow?: Duration;
  /** Compute the diff without changing anything. */
  readonly dryRun?: boolean;
}

export interface ScheduleDiff {
  readonly created: string[];
  readonly updated: string[];
  readonly deleted: string[];
  readonly unchanged: string[];
}

type TickAction = ScheduleOptionsStartWorkflowAction<typeof scheduleTickWorkflow>;
const HASH_MEMO_KEY = 'tesseraSpecHash';

/** JSON with sorted keys, so equal specs hash equally whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function build(spec: ScheduleSpec, opts: ApplySchedulesOptions) {
  const input: ScheduleTickInput = {
    ...opts.tick,
    schedule: spec.name,
    selection: spec.selection,
    publishGroups: spec.publishGroups ?? [],
  };
  const overlap = opts.overlap ?? ScheduleOverlapPolicy.BUFFER_ONE;
  const catchupWindow = opts.catchupWindow ?? '1d';
  const hash = createHash('sha256')
    .update(stableJson({ spec, input, taskQueue: opts.taskQueue, overlap, catchupWindow, v: 1 }))
    .digest('hex')
    .slice(0, 16);
  const action: TickAction = {
    type: 'startWorkflow',
    workflowType: 'scheduleTickWorkflow',
    workflowId: tickWorkflowId(spec.name),
    taskQueue: opts.taskQueue,
    args: [input],
    memo: { [HASH_MEMO_KEY]: hash },
    typedSearchAttributes: [{ key: RUN_KIND, value: 'tick' }],
  };
  return {
    hash,
    spec: { cronExpressions: [spec.cron], timezone: spec.timezone ?? 'UTC' },
    action,
    policies: { overlap, catchupWindow },
  };
}

async function describeOrUndefined(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Ids of the schedules under the prefix (from visibility, which may lag a second behind). */
export async function listScheduleIds(client: Client, idPrefix = SCHEDULE_ID_PREFIX): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(idPrefix)) ids.push(s.scheduleId);
  return ids.sort();
}

export async function applySchedules(
  client: Client,
  desired: readonly ScheduleSpec[],
  opts: ApplySchedulesOptions,
): Promise<ScheduleDiff> {
  const prefix = opts.idPrefix ?? SCHEDULE_ID_PREFIX;
  const names = new Set<string>();
  for (const s of desired) {
    if (names.has(s.name)) throw new Error(`schedule "${s.name}" is declared twice`);
    names.add(s.name);
  }
  const diff: ScheduleDiff = { created: [], updated: [], deleted: [], unchanged: [] };
  for (const spec of desired) {
    const id = `${prefix}${spec.name}`;
    const want = build(spec, opts);
    const have = await describeOrUndefined(client, id);
    if (!have) {
      if (!opts.dryRun) {
        const options: ScheduleOptions<TickAction> = {
          scheduleId: id,
          spec: want.spec,
          action: want.action,
          policies: want.policies,
          memo: { [HASH_MEMO_KEY]: want.hash },
        };
        await client.schedule.create(options);
      }
      diff.created.push(spec.name);
    } else if (have.action.memo?.[HASH_MEMO_KEY] === want.hash) {
      diff.unchanged.push(spec.name);
    } else {
      if (!opts.dryRun) {
        await client.schedule
          .getHandle(id)
          .update<typeof scheduleTickWorkflow>((prev): ScheduleUpdateOptions<TickAction> => ({
            spec: want.spec,
            action: want.action,
            policies: want.policies,
            state: { paused: prev.state.paused, note: prev.state.note },
          }));
      }
      diff.updated.push(spec.name);
    }
  }
  for (const id of await listScheduleIds(client, prefix)) {
    const name = id.slice(prefix.length);
    if (names.has(name)) continue;
    if (!opts.dryRun) {
      try {
        await client.schedule.getHandle(id).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
        continue; // deleted meanwhile; visibility had not caught up
      }
    }
    diff.deleted.push(name);
  }
  return diff;
}

export interface ScheduleStatus {
  readonly name: string;
  readonly id: string;
  readonly paused: boolean;
  readonly note?: string;
  readonly nextActionTimes: readonly Date[];
  readonly recentWorkflowIds: readonly string[];
}

export async function scheduleStatus(
  client: Client,
  name: string,
  idPrefix = SCHEDULE_ID_PREFIX,
): Promise<ScheduleStatus> {
  const id = `${idPrefix}${name}`;
  const d = await client.schedule.getHandle(id).describe();
  return {
    name,
    id,
    paused: d.state.paused,
    note: d.state.note,
    nextActionTimes: d.info.nextActionTimes,
    recentWorkflowIds: d.info.recentActions.map((a) => a.action.workflow.workflowId),
  };
}

export async function listSchedules(
  client: Client,
  idPrefix = SCHEDULE_ID_PREFIX,
): Promise<ScheduleStatus[]> {
  const ids = await listScheduleIds(client, idPrefix);
  return Promise.all(ids.map((id) => scheduleStatus(client, id.slice(idPrefix.length), idPrefix)));
}

export const pauseSchedule = (
  client: Client,
  name: string,
  note?: string,
  idPrefix = SCHEDULE_ID_PREFIX,
): Promise<void> => client.schedule.getHandle(`${idPrefix}${name}`).pause(note);

export const unpauseSchedule = (
  client: Client,
  name: string,
  note?: string,
  idPrefix = SCHEDULE_ID_PREFIX,
): Promise<void> => client.schedule.getHandle(`${idPrefix}${name}`).unpause(note);

/** Runs a tick now (overlap ALLOW_ALL: even while another tick runs). */
export const triggerSchedule = (client: Client, name: string, idPrefix = SCHEDULE_ID_PREFIX): Promise<void> =>
  client.schedule.getHandle(`${idPrefix}${name}`).trigger(ScheduleOverlapPolicy.ALLOW_ALL);

/**
 * Micro-batch ingestion of a source: a schedule starting a one-pass ingestWorkflow every `every`; overlap SKIP,
 * so a pass still running when the next is due makes that one skipped, never two passes at once. Creates the
 * schedule or updates it in place. Ids live outside `tessera/schedule/`, so `applySchedules` never deletes it.
 */
export async function upsertIngestSchedule(
  client: Client,
  o: { scheduleId: string; workflowId: string; taskQueue: string; every: Duration; input: IngestInput },
): Promise<'created' | 'updated'> {
  const action: ScheduleOptionsStartWorkflowAction<typeof ingestWorkflow> = {
    type: 'startWorkflow',
    workflowType: 'ingestWorkflow',
    workflowId: o.workflowId,
    taskQueue: o.taskQueue,
    args: [{ ...o.input, mode: 'once' }],
    typedSearchAttributes: [{ key: RUN_KIND, value: 'ingest' }],
  };
  const spec = { intervals: [{ every: o.every }] };
  // A missed pass is not worth replaying: the next one lands everything new anyway.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' };
  if (!(await describeOrUndefined(client, o.scheduleId))) {
    await client.schedule.create({ scheduleId: o.scheduleId, spec, action, policies });
    return 'created';
  }
  await client.schedule
    .getHandle(o.scheduleId)
    .update<typeof ingestWorkflow>((prev) => ({ spec, action, policies, state: prev.state }));
  return 'updated';
}
