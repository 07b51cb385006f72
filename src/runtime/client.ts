/** Client helpers: connect, and start Tessera workflows with validated inputs and predictable ids. */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowIdConflictPolicy } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { withoutInputs } from '../planner/plan.js';
import type { Plan, PlanRequest } from '../planner/types.js';
import type { backfillWorkflow, materializeWorkflow, publishWorkflow } from '../workflows/index.js';
import { recheckSignal } from '../workflows/types.js';
import type { BackfillInput, MaterializeInput, PublishInput } from '../workflows/types.js';
import type { TemporalConfig } from './config.js';
import { backfillWorkflowId, materializeWorkflowId, publishWorkflowId } from './ids.js';
import { PARTITION_KEY, RUN_KIND } from './search-attributes.js';

export async function connectClient(
  config: Pick<TemporalConfig, 'address' | 'namespace'>,
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address: config.address });
  return { connection, client: new Client({ connection, namespace: config.namespace }) };
}

const duration = z.union([z.string().min(1), z.number().nonnegative()]);
const range = z.object({ from: z.string(), to: z.string() });

export const PlanRequestSchema = z.object({
  selection: z.string().min(1),
  range: range.optional(),
  partitionKeys: z.array(z.string()).optional(),
  force: z.boolean().optional(),
});

const PlanStepSchema = z.object({
  id: z.string().min(1),
  assetKey: z.string().min(1),
  partitionKey: z.string(),
  reason: z.enum(['missing', 'failed_before', 'code_changed', 'upstream_changed', 'forced']),
  upstream: z.array(z.string()),
  inputs: z.array(z.string()),
  readsUntil: z.string().optional(),
  batch: z.string().optional(),
  lane: z.string().optional(),
});

export const PlanSchema = z.object({
  selection: z.string(),
  range: range.optional(),
  steps: z.array(PlanStepSchema),
  skippedFresh: z.number().int().nonnegative(),
});

const runOptions = {
  concurrency: z.number().int().positive().optional(),
  mode: z.enum(['child', 'activity', 'local']).optional(),
  stepOptions: z
    .object({
      startToCloseTimeout: duration.optional(),
      heartbeatTimeout: duration.optional(),
      maximumAttempts: z.number().int().positive().optional(),
      initialInterval: duration.optional(),
      maximumInterval: duration.optional(),
      workflowTimeout: duration.optional(),
    })
    .optional(),
  uiBaseUrl: z.url().optional(),
};

export const MaterializeInputSchema = z
  .object({
    ...runOptions,
    force: z.boolean().optional(),
    plan: PlanSchema.optional(),
    request: PlanRequestSchema.optional(),
  })
  .refine((v) => v.plan !== undefined || v.request !== undefined, 'needs a plan or a request');

export const BackfillInputSchema = z.object({
  ...runOptions,
  backfillId: z.string().min(1),
  request: PlanRequestSchema,
  only: z.enum(['missing', 'failed', 'all']),
  stepsPerRun: z.number().int().positive().optional(),
  progressEvery: z.number().int().positive().optional(),
  windowDays: z.number().int().positive().optional(),
});

export const PublishInputSchema = z.object({
  group: z.string().min(1),
  partitionKey: z.string(),
  lateness: duration.optional(),
  timeout: duration.optional(),
  pollInitial: duration.optional(),
  pollMax: duration.optional(),
  runId: z.string().optional(),
  uiBaseUrl: z.url().optional(),
});

type Target = Pick<TemporalConfig, 'taskQueue' | 'uiBaseUrl'>;

/** Starts a materialization run (id `tessera/run/<uuid>` unless given). */
export async function startMaterialize(
  client: Client,
  target: Target,
  input: MaterializeInput,
  opts: { workflowId?: string } = {},
): Promise<WorkflowHandle<typeof materializeWorkflow>> {
  const parsed = MaterializeInputSchema.parse(input) as MaterializeInput;
  // The activity recomputes step inputs: a ready plan travels without them, like the planRun activity's result.
  const args = parsed.plan ? { ...parsed, plan: withoutInputs(parsed.plan) } : parsed;
  return client.workflow.start<typeof materializeWorkflow>('materializeWorkflow', {
    taskQueue: target.taskQueue,
    workflowId: opts.workflowId ?? materializeWorkflowId(randomUUID()),
    args: [{ uiBaseUrl: target.uiBaseUrl, ...args }],
    typedSearchAttributes: [{ key: RUN_KIND, value: 'materialize' }],
  });
}

/** Starts backfill `tessera/backfill/<backfillId>`, or returns the running one with that id. */
export async function startBackfill(
  client: Client,
  target: Target,
  input: BackfillInput,
): Promise<WorkflowHandle<typeof backfillWorkflow>> {
  const parsed: BackfillInput = BackfillInputSchema.parse(input);
  return client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    taskQueue: target.taskQueue,
    workflowId: backfillWorkflowId(parsed.backfillId),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [{ uiBaseUrl: target.uiBaseUrl, ...parsed }],
    typedSearchAttributes: [{ key: RUN_KIND, value: 'backfill' }],
  });
}

/** Starts the barrier for a group partition, or asks the one already waiting to re-check now. */
export async function startPublish(
  client: Client,
  target: Target,
  input: PublishInput,
): Promise<WorkflowHandle<typeof publishWorkflow>> {
  const parsed: PublishInput = PublishInputSchema.parse(input);
  return client.workflow.signalWithStart<typeof publishWorkflow, []>('publishWorkflow', {
    taskQueue: target.taskQueue,
    workflowId: publishWorkflowId(parsed.group, parsed.partitionKey, target.taskQueue),
    args: [{ uiBaseUrl: target.uiBaseUrl, ...parsed }],
    signal: recheckSignal,
    typedSearchAttributes: [
      { key: PARTITION_KEY, value: parsed.partitionKey },
      { key: RUN_KIND, value: 'publish' },
    ],
  });
}

export type { Plan, PlanRequest };
