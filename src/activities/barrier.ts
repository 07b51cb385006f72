import { DateTime } from 'luxon';
import type { Definitions } from '../dsl/index.js';
import type { Ledger } from '../ledger/index.js';
import { plan } from '../planner/index.js';
import { partitionFacts } from './step-context.js';
import type { BarrierStatus, BarrierStatusInput } from './types.js';

/**
 * The consistency barrier for one partition of a publish group: ready when (1) every upstream partition the
 * group's marts read is materialized and fresh (the planner has nothing left to do for `+member`), which also
 * means every blocking check passed, since a failed one fails its step; and (2) every source the group reads has
 * a watermark past the partition's end plus the allowed lateness.
 */
export async function barrierStatus(
  deps: { definitions: Definitions; ledger: Ledger },
  input: BarrierStatusInput,
): Promise<BarrierStatus> {
  const defs = deps.definitions;
  const group = defs.publishGroups.find((g) => g.name === input.group);
  if (!group) throw new Error(`unknown publish group "${input.group}"`);
  const selection = group.assets.map((k) => `+${k}`).join(' or ');
  const keys = defs.select(selection);
  const view = await deps.ledger.view(keys);
  const waitingOn: string[] = [];
  const pending = plan(defs, { selection, partitionKeys: [input.partitionKey] }, view);
  for (const s of pending.steps) waitingOn.push(`${s.id} ${s.reason.replace('_', ' ')}`);
  // Partitions the marts read at other keys (lookbacks, all-upstream) must have succeeded last time too.
  const members = plan(
    defs,
    { selection: group.assets.join(' or '), partitionKeys: [input.partitionKey], force: true },
    view,
  );
  const named = new Set(pending.steps.map((s) => s.id));
  for (const inputId of new Set(members.steps.flatMap((s) => s.inputs))) {
    if (named.has(inputId)) continue;
    const at = inputId.lastIndexOf('@');
    const latest = view.latest(inputId.slice(0, at), inputId.slice(at + 1));
    if (latest?.status !== 'success') waitingOn.push(`${inputId} ${latest ? 'failed before' : 'missing'}`);
  }

  const ends = group.assets
    .map((k) => partitionFacts(defs.asset(k).partitions, input.partitionKey).window?.end)
    .filter((e): e is string => e !== undefined)
    .sort();
  const end = ends.at(-1);
  if (end !== undefined) {
    const needed = DateTime.fromISO(end, { zone: 'utc' }).plus({ milliseconds: input.latenessMs });
    const sources = [
      ...new Set(keys.map((k) => defs.asset(k).ingest?.source).filter((s): s is string => !!s)),
    ].sort();
    const marks = new Map((await deps.ledger.watermarks()).map((w) => [w.source, w.watermark]));
    for (const source of sources) {
      const mark = marks.get(source);
      if (mark === undefined || DateTime.fromISO(mark, { zone: 'utc' }) < needed) {
        waitingOn.push(`watermark ${source} ${mark ?? '(none)'} < ${needed.toISO()}`);
      }
    }
  }
  return { ready: waitingOn.length === 0, waitingOn };
}
