/**
 * What the UI may change, only under `tessera ui --allow-actions`: materialize, backfill and publish rollback,
 * through the same workflows and checks as the CLI's commands (planFor, startMaterialize, startBackfill,
 * rollbackWarehouse). Bodies are validated with zod; a bad one is a 400 with the CLI's own message.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { planFor, planRequestFrom } from '../../cli/commands/plan.js';
import type { CliContext } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { rollbackWarehouse, type Via } from '../../cli/warehouse.js';
import { startBackfill, startMaterialize } from '../../runtime/client.js';
import { workflowUrl } from '../../runtime/ui.js';
import type { ActionResponse } from '../api-types.js';

const MaterializeBody = z.strictObject({
  select: z.string().min(1),
  partition: z.string().min(1).optional(),
  from: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  force: z.boolean().optional(),
  concurrency: z.number().int().positive().max(64).optional(),
});

const BackfillBody = z.strictObject({
  select: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  only: z.enum(['missing', 'failed', 'all']).default('missing'),
  concurrency: z.number().int().positive().max(64).optional(),
});

const RollbackBody = z.strictObject({ group: z.string().min(1) });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new UsageError(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

const url = (ctx: CliContext, id: string) =>
  workflowUrl(id, { baseUrl: ctx.target.uiBaseUrl, namespace: ctx.config.temporal.namespace });

export async function materializeAction(ctx: CliContext, body: unknown): Promise<ActionResponse> {
  const o = parse(MaterializeBody, body);
  const plan = await planFor(ctx, planRequestFrom(o.select, { ...o, ...(o.force ? { force: true } : {}) }));
  if (plan.steps.length === 0)
    return { message: 'nothing to do: every selected partition is fresh (force rebuilds)' };
  const handle = await startMaterialize(await ctx.client(), ctx.target, {
    plan,
    concurrency: o.concurrency ?? 4,
    force: o.force ?? false,
  });
  return {
    message: `started ${handle.workflowId} (${plan.steps.length} steps)`,
    workflowId: handle.workflowId,
    url: url(ctx, handle.workflowId),
  };
}

export async function backfillAction(ctx: CliContext, body: unknown): Promise<ActionResponse> {
  const o = parse(BackfillBody, body);
  const request = planRequestFrom(o.select, { from: o.from, to: o.to, force: o.only === 'all' });
  await planFor(ctx, request); // validates the selection and the range before anything starts
  const backfillId = `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  const handle = await startBackfill(await ctx.client(), ctx.target, {
    backfillId,
    request,
    only: o.only,
    concurrency: o.concurrency ?? 4,
  });
  return {
    message: `started backfill ${backfillId}`,
    workflowId: handle.workflowId,
    url: url(ctx, handle.workflowId),
  };
}

export async function rollbackAction(ctx: CliContext, body: unknown, via: Via): Promise<ActionResponse> {
  const o = parse(RollbackBody, body);
  const { result } = await rollbackWarehouse(ctx, o.group, via);
  return {
    message: `${result.group} now serves version ${result.version} (seq ${result.seq}, published ${result.publishedAt})`,
  };
}
