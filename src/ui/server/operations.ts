/**
 * Publish groups (what each serves, its history and rollbacks, what a waiting barrier waits on) and runs
 * (backfills with live progress, failed steps, running workflows): the ledger, the warehouse's publish history
 * and Temporal, as `publish status`, `publish run` and `backfill status` read them.
 */
import type { Client } from '@temporalio/client';
import { DateTime } from 'luxon';
import { barrierStatus } from '../../activities/barrier.js';
import type { CliContext } from '../../cli/context.js';
import { backfillWorkflowId, stepWorkflowId } from '../../runtime/ids.js';
import { workflowUrl } from '../../runtime/ui.js';
import { backfillProgressQuery, publishProgressQuery } from '../../workflows/types.js';
import type { BackfillView, PublishGroupView, PublishResponse, RunsResponse } from '../api-types.js';
import { lit, missingTable, type WarehouseReader } from './warehouse.js';

export interface OperationsDeps {
  readonly ctx: CliContext;
  readonly warehouse: WarehouseReader;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function urlOf(ctx: CliContext, workflowId: string): string {
  return workflowUrl(workflowId, { baseUrl: ctx.target.uiBaseUrl, namespace: ctx.config.temporal.namespace });
}

/** Temporal, or the reason it cannot be reached (pages still show what the ledger knows). */
async function temporal(ctx: CliContext, notes: string[]): Promise<Client | undefined> {
  try {
    return await ctx.client();
  } catch (e) {
    notes.push(message(e));
    return undefined;
  }
}

interface HistoryRow {
  readonly group: string;
  readonly seq: number;
  readonly version: string;
  readonly publishedAt: string;
  readonly rolledBack: boolean;
}

async function publishHistory(deps: OperationsDeps, groups: readonly string[], notes: string[]) {
  if (groups.length === 0) return [];
  try {
    const r = await deps.warehouse.query({
      sql: `SELECT group_name, seq, version, cast(published_at as varchar) as published_at, rolled_back FROM tessera_meta.publish_history WHERE group_name IN (${groups.map(lit).join(', ')}) ORDER BY group_name, seq`,
      limit: 10_000,
    });
    return r.rows.map((row): HistoryRow => ({
      group: String(row['group_name']),
      seq: Number(row['seq']),
      version: String(row['version']),
      publishedAt: String(row['published_at']),
      rolledBack: row['rolled_back'] === true,
    }));
  } catch (e) {
    // Never published: the history table does not exist yet.
    if (!missingTable(e)) notes.push(`serving versions unavailable: ${message(e)}`);
    return [];
  }
}

/** Running publish workflows of this deployment, with the barrier's live list from each. */
async function waitingBarriers(ctx: CliContext, client: Client | undefined, notes: string[]) {
  if (!client) return [];
  const prefix = `tessera/publish/${ctx.target.taskQueue}/`;
  const out: { group: string; view: PublishGroupView['waiting'][number] }[] = [];
  try {
    const list = client.workflow.list({
      query: `WorkflowType="publishWorkflow" AND ExecutionStatus="Running" AND TaskQueue=${JSON.stringify(ctx.target.taskQueue)}`,
    });
    for await (const w of list) {
      if (!w.workflowId.startsWith(prefix)) continue;
      const [group = '', partitionKey = ''] = w.workflowId.slice(prefix.length).split('/');
      const progress = await client.workflow
        .getHandle(w.workflowId, w.runId)
        .query(publishProgressQuery)
        .catch((e: unknown) => ({
          ready: false,
          checks: 0,
          waitingOn: [`(progress unavailable: ${message(e)})`],
        }));
      out.push({
        group,
        view: {
          partitionKey,
          workflowId: w.workflowId,
          url: urlOf(ctx, w.workflowId),
          checks: progress.checks,
          waitingOn: progress.waitingOn,
        },
      });
    }
  } catch (e) {
    notes.push(`waiting barriers unavailable: ${message(e)}`);
  }
  return out;
}

export async function publishPage(deps: OperationsDeps): Promise<PublishResponse> {
  const { ctx } = deps;
  const defs = await ctx.definitions();
  const ledger = await ctx.ledger();
  const notes: string[] = [];
  const names = defs.publishGroups.map((g) => g.name);
  const history = await publishHistory(deps, names, notes);
  const client = await temporal(ctx, notes);
  const waiting = await waitingBarriers(ctx, client, notes);
  const latenessMs = ctx.config.lateness.defaultMinutes * 60_000;
  const groups = await Promise.all(
    defs.publishGroups.map(async (g): Promise<PublishGroupView> => {
      const rows = history.filter((h) => h.group === g.name);
      const live = rows.filter((r) => !r.rolledBack).at(-1);
      const publications = await ledger.publications(g.name);
      // The next partition to publish: the day after the one served (versions are `<partition>_<hash>`).
      const servedPartition = live?.version.split('_')[0];
      const next =
        servedPartition && /^\d{4}-\d{2}-\d{2}$/.test(servedPartition)
          ? DateTime.fromISO(servedPartition, { zone: 'utc' }).plus({ days: 1 }).toISODate()
          : undefined;
      let barrier: PublishGroupView['barrier'] = null;
      if (next) {
        try {
          const s = await barrierStatus(
            { definitions: defs, ledger },
            { group: g.name, partitionKey: next, latenessMs },
          );
          barrier = { partitionKey: next, ready: s.ready, waitingOn: s.waitingOn };
        } catch (e) {
          notes.push(`barrier of ${g.name}@${next}: ${message(e)}`);
        }
      }
      return {
        name: g.name,
        description: g.description ?? '',
        assets: g.assets,
        serving: live
          ? {
              version: live.version,
              seq: live.seq,
              publishedAt: live.publishedAt,
              rolledBack: rows.length - rows.filter((r) => !r.rolledBack).length,
            }
          : null,
        history: rows.map(({ seq, version, publishedAt, rolledBack }) => ({
          seq,
          version,
          publishedAt,
          rolledBack,
        })),
        publications: publications.map((p) => ({
          version: p.version,
          publishedAt: p.publishedAt,
          runId: p.runId,
        })),
        waiting: waiting.filter((w) => w.group === g.name).map((w) => w.view),
        barrier,
      };
    }),
  );
  return { groups, notes };
}

const FAILED_STEPS_SHOWN = 100;

export async function runsPage(deps: OperationsDeps): Promise<RunsResponse> {
  const { ctx } = deps;
  const ledger = await ctx.ledger();
  const notes: string[] = [];
  const client = await temporal(ctx, notes);
  const backfills = await Promise.all(
    (await ledger.backfills()).map(async (b): Promise<BackfillView> => {
      const workflowId = backfillWorkflowId(b.backfillId);
      const base = {
        ...b,
        running: 0,
        phase: b.status === 'running' ? 'running' : 'done',
        url: urlOf(ctx, workflowId),
      };
      if (b.status !== 'running' || !client) return base;
      try {
        // Live figures from the workflow itself; the ledger row is updated less often.
        const p = await client.workflow.getHandle(workflowId).query(backfillProgressQuery);
        return {
          ...base,
          total: p.total,
          done: p.done,
          failed: p.failed,
          running: p.running,
          phase: p.phase,
        };
      } catch (e) {
        notes.push(`progress of backfill ${b.backfillId}: ${message(e)}`);
        return base;
      }
    }),
  );
  const failed = (await ledger.materializations())
    .filter((m) => m.status === 'failed')
    .sort((x, y) => y.endedAt.localeCompare(x.endedAt))
    .slice(0, FAILED_STEPS_SHOWN);
  const running: RunsResponse['running'][number][] = [];
  if (client) {
    try {
      const list = client.workflow.list({
        query: `ExecutionStatus="Running" AND TaskQueue=${JSON.stringify(ctx.target.taskQueue)}`,
      });
      for await (const w of list) {
        running.push({
          workflowId: w.workflowId,
          type: w.type,
          startTime: w.startTime.toISOString(),
          url: urlOf(ctx, w.workflowId),
        });
        if (running.length >= 100) break;
      }
    } catch (e) {
      notes.push(`running workflows unavailable: ${message(e)}`);
    }
  }
  return {
    backfills,
    failedSteps: failed.map((m) => ({
      assetKey: m.assetKey,
      partitionKey: m.partitionKey,
      error: m.error ?? '',
      endedAt: m.endedAt,
      runId: m.runId,
      url: urlOf(ctx, stepWorkflowId(m.assetKey, m.partitionKey, ctx.target.taskQueue)),
    })),
    running,
    notes,
  };
}
