import { IANAZone } from 'luxon';
import { z } from 'zod';
import { DslError, nearest } from './errors.js';
import { buildGraph } from './graph.js';
import type { PartitionMapping } from './mappings/types.js';
import type { PartitionsDefinition, TimeWindowPartitions } from './partitions/types.js';
import { selectKeys } from './selection/index.js';
import type { AlertRouteSpec, AssetDeclaration, PublishGroupSpec, ScheduleSpec } from './types.js';

/**
 * Whole-definitions validation. Collects every problem instead of stopping at the first, so one run of
 * `tessera dev` shows everything to fix; each message names the asset/schedule/group and the way out.
 */

export type ProblemCode =
  | 'invalid_spec'
  | 'duplicate_key'
  | 'unknown_dep'
  | 'cycle'
  | 'incompatible_mapping'
  | 'no_default_mapping'
  | 'misaligned_start'
  | 'publish_group'
  | 'schedule'
  | 'check'
  | 'alert_route';

export interface ValidationProblem {
  readonly code: ProblemCode;
  readonly message: string;
  /** The asset the problem is about, when there is one. */
  readonly asset?: string;
}

export class ValidationError extends DslError {
  constructor(readonly problems: readonly ValidationProblem[]) {
    const n = problems.length;
    super(
      `${n} problem${n === 1 ? '' : 's'} in definitions:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
    );
  }
}

/** zod issues as readable lines: `scd2.businessKey must not be empty`, `checks[1].columns ...`. */
export function formatIssues(
  prefix: string,
  issues: readonly z.core.$ZodIssue[],
  fields: readonly string[] = [],
): string[] {
  return issues.flatMap(unwrapUnion).map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, part) =>
        typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
      '',
    );
    let message = issue.message.replace(/^Invalid input: /, '');
    if (issue.code === 'unrecognized_keys') {
      message = issue.keys
        .map((k) => {
          const hint = nearest(k, fields);
          return `unknown field "${k}"${hint ? `; did you mean "${hint}"?` : ''}`;
        })
        .join(', ');
    }
    return `${prefix}: ${path ? `${path} ` : ''}${message}`;
  });
}

/** A union failure is clearer as the issues of the one branch whose type matched (e.g. `deps[0].mapping`). */
function unwrapUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const typed = issue.errors.filter(
    (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  const branch = typed.length === 1 ? typed[0] : undefined;
  if (!branch) return [issue];
  return branch.flatMap((i) => unwrapUnion({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue));
}

export interface ValidationInput {
  readonly assets: readonly AssetDeclaration[];
  readonly schedules?: readonly ScheduleSpec[];
  readonly publishGroups?: readonly PublishGroupSpec[];
  readonly alertRoutes?: readonly AlertRouteSpec[];
  /** The mapping for a dep that names none; undefined when none can be inferred. */
  readonly defaultMapping: (
    downstream: PartitionsDefinition | undefined,
    upstream: PartitionsDefinition | undefined,
  ) => PartitionMapping | undefined;
}

const scheduleSchema = z.strictObject({
  name: z.string().min(1, { error: 'must not be empty' }),
  cron: z.string().regex(/^\s*\S+(\s+\S+){4,5}\s*$/, {
    error: 'must be a cron expression with 5 fields, e.g. "0 6 * * *"',
  }),
  timezone: z
    .string()
    .refine((tz) => IANAZone.isValidZone(tz), { error: 'must be an IANA timezone, e.g. "Asia/Kolkata"' })
    .optional(),
  selection: z.string().min(1, { error: 'must not be empty' }),
  publishGroups: z.array(z.string()).optional(),
});

const publishGroupSchema = z.strictObject({
  name: z.string().min(1, { error: 'must not be empty' }),
  description: z.string().optional(),
  assets: z.array(z.string()).optional(),
  barrierTimeoutMinutes: z.number().positive({ error: 'must be > 0' }).optional(),
});

export const alertRouteSchema = z
  .strictObject({
    name: z.string().min(1, { error: 'must not be empty' }),
    type: z.enum(['webhook', 'slack', 'log'], { error: 'type must be one of webhook, slack, log' }),
    url: z.url({ error: 'must be a URL' }).optional(),
    match: z
      .strictObject({ owners: z.array(z.string()).optional(), tags: z.array(z.string()).optional() })
      .optional(),
  })
  .refine((r) => r.type === 'log' || r.url !== undefined, {
    error: 'url is required for webhook and slack routes',
  });

export function validateDefinitions(input: ValidationInput): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const add = (code: ProblemCode, message: string, asset?: string): void => {
    problems.push(asset === undefined ? { code, message } : { code, message, asset });
  };

  // Assets: duplicates, then deps against the first definition of each key.
  const byKey = new Map<string, AssetDeclaration>();
  const counts = new Map<string, number>();
  for (const a of input.assets) {
    counts.set(a.key, (counts.get(a.key) ?? 0) + 1);
    if (!byKey.has(a.key)) byKey.set(a.key, a);
  }
  for (const [key, n] of counts) {
    if (n > 1) add('duplicate_key', `asset "${key}" is defined ${n} times; asset keys must be unique`, key);
  }
  const keys = [...byKey.keys()].sort();
  const hint = (missing: string, options: readonly string[]): string => {
    const near = nearest(missing, options);
    return near ? `; did you mean "${near}"?` : '';
  };

  for (const asset of byKey.values()) {
    const where = `asset "${asset.key}"`;
    for (const dep of asset.deps) {
      const upstream = byKey.get(dep.key);
      if (!upstream) {
        add(
          'unknown_dep',
          `${where}: depends on unknown asset "${dep.key}"${hint(dep.key, keys)}`,
          asset.key,
        );
        continue;
      }
      const mapping = dep.mapping ?? input.defaultMapping(asset.partitions, upstream.partitions);
      if (!mapping) {
        add(
          'no_default_mapping',
          `${where}: no default partition mapping from "${dep.key}" (${describe(upstream.partitions)}) to ${describe(asset.partitions)}; pass one: deps: [{ key: '${dep.key}', mapping: ... }]`,
          asset.key,
        );
        continue;
      }
      const why = mapping.incompatibility(asset.partitions, upstream.partitions);
      if (why) add('incompatible_mapping', `${where}: dep "${dep.key}" (${mapping.type}): ${why}`, asset.key);
      else checkStarts(asset, upstream, mapping, add);
    }
    for (const check of asset.checks) {
      if (check.type === 'relationship' && !byKey.has(check.to)) {
        add(
          'check',
          `${where}: check "${check.name}" refers to unknown asset "${check.to}"${hint(check.to, keys)}`,
          asset.key,
        );
      }
    }
  }

  const graph = buildGraph([...byKey.values()]);
  for (const cycle of graph.cycles()) {
    add('cycle', `dependency cycle ${cycle.join(' -> ')}; remove one of these deps`, cycle[0]);
  }

  // Publish groups: members must be marts; an asset's publishGroup must name a defined group.
  const groups = new Map<string, PublishGroupSpec>();
  for (const [i, group] of (input.publishGroups ?? []).entries()) {
    const parsed = publishGroupSchema.safeParse(group);
    const label = `publish group "${group.name ?? i}"`;
    if (!parsed.success) {
      for (const m of formatIssues(label, parsed.error.issues)) add('publish_group', m);
      continue;
    }
    if (groups.has(group.name)) add('publish_group', `${label} is defined twice`);
    groups.set(group.name, group);
    for (const member of group.assets ?? []) {
      const asset = byKey.get(member);
      if (!asset) add('publish_group', `${label}: unknown asset "${member}"${hint(member, keys)}`);
      else if (asset.kind !== 'mart') {
        add('publish_group', `${label}: "${member}" is a ${asset.kind}; only marts are published`, member);
      }
    }
  }
  const groupNames = [...groups.keys()];
  for (const asset of byKey.values()) {
    if (asset.publishGroup === undefined) continue;
    if (!groups.has(asset.publishGroup)) {
      add(
        'publish_group',
        `asset "${asset.key}": publishGroup "${asset.publishGroup}" is not defined${hint(asset.publishGroup, groupNames)} (add it to publishGroups)`,
        asset.key,
      );
    } else if (asset.kind !== 'mart') {
      add(
        'publish_group',
        `asset "${asset.key}": only marts can be in a publish group, this is a ${asset.kind}`,
        asset.key,
      );
    }
  }

  // Schedules: shape, then the selection must parse and select something.
  const universe = {
    assets: [...byKey.values()],
    upstreamOf: graph.upstreamOf,
    downstreamOf: graph.downstreamOf,
  };
  const scheduleNames = new Set<string>();
  for (const [i, schedule] of (input.schedules ?? []).entries()) {
    const label = `schedule "${schedule.name ?? i}"`;
    const parsed = scheduleSchema.safeParse(schedule);
    if (!parsed.success) {
      for (const m of formatIssues(label, parsed.error.issues)) add('schedule', m);
      continue;
    }
    if (scheduleNames.has(schedule.name)) add('schedule', `${label} is defined twice`);
    scheduleNames.add(schedule.name);
    try {
      if (selectKeys(schedule.selection, universe).length === 0) {
        add('schedule', `${label}: selection "${schedule.selection}" matches no asset`);
      }
    } catch (error) {
      if (!(error instanceof DslError)) throw error;
      add('schedule', `${label}: ${error.message}`);
    }
    for (const g of schedule.publishGroups ?? []) {
      if (!groups.has(g)) add('schedule', `${label}: unknown publish group "${g}"${hint(g, groupNames)}`);
    }
  }

  const routeNames = new Set<string>();
  for (const [i, route] of (input.alertRoutes ?? []).entries()) {
    const label = `alert route "${route.name ?? i}"`;
    const parsed = alertRouteSchema.safeParse(route);
    if (!parsed.success) for (const m of formatIssues(label, parsed.error.issues)) add('alert_route', m);
    else if (routeNames.has(route.name)) add('alert_route', `${label} is defined twice`);
    routeNames.add(route.name);
  }
  return problems;
}

const timeOf = (p: PartitionsDefinition | undefined): TimeWindowPartitions | undefined =>
  p?.type === 'time'
    ? p
    : p?.type === 'multi'
      ? (p.timeDimension?.partitions as TimeWindowPartitions | undefined)
      : undefined;

/**
 * With identity, downstream partition D reads upstream partition D; a downstream that starts before its
 * upstream would have first partitions reading nothing. (Lookbacks reaching before the start are fine.)
 */
function checkStarts(
  asset: AssetDeclaration,
  upstream: AssetDeclaration,
  mapping: PartitionMapping,
  add: (code: ProblemCode, message: string, asset?: string) => void,
): void {
  const down = timeOf(asset.partitions);
  const up = timeOf(upstream.partitions);
  if (mapping.type !== 'identity' || !down || !up || down.start.toMillis() >= up.start.toMillis()) return;
  const first = (p: TimeWindowPartitions): string => p.keyAt(p.start);
  add(
    'misaligned_start',
    `asset "${asset.key}": starts at partition ${first(down)} but its upstream "${upstream.key}" starts at ${first(up)}; align the starts (start: '${first(up)}') so every partition has its input`,
    asset.key,
  );
}

function describe(p: PartitionsDefinition | undefined): string {
  if (!p) return 'unpartitioned';
  if (p.type === 'time') return `${p.cadence} in ${p.timezone}`;
  if (p.type === 'static') return `static [${p.values.join(', ')}]`;
  return `multi (${p.dimensions.map((d) => d.name).join(', ')})`;
}
