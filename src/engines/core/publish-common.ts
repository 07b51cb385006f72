import { createHash } from 'node:crypto';
import type { SqlDialect, TableRef } from '../dialect/dialect.js';
import {
  PK_COLUMN,
  SLICE_COLUMN,
  WHOLE,
  parsePublicationId,
  publicationId,
  renderPublish,
  sanitizeVersion,
  storeRef,
  type HistoryRow,
  type SliceRow,
} from '../dialect/publish.js';
import { EngineError, PartitionMismatchError } from '../errors.js';
import type {
  PublishState,
  PublishedPartition,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import type { SqlSession } from './client.js';
import { asNumber, describe } from './context.js';

/**
 * What both publishing strategies share (publish-ops.ts: one transaction; live-publish.ts: statements that each
 * commit): a publication's target and slices, reading slices and history back, and deciding what a flip changes.
 * They differ in how statements commit and how views point at a version, never in these decisions.
 */

/** The staged select of a publication (a temp relation of the operation). */
export const PUBLISH_STAGE = '__tessera_publish_stage';

export interface PublicationTarget {
  readonly version: string;
  readonly store: TableRef;
  readonly column: string | null;
  /** Sorted, distinct; `[WHOLE]` for an unpartitioned asset. */
  readonly keys: readonly string[];
}

/** The request's version, store and partition keys, refusing a publication that names none or a bad key. */
export function publicationTarget(d: SqlDialect, req: VersionedTableRequest): PublicationTarget {
  const version = sanitizeVersion(d.name, req.version);
  const column = req.partitions?.column ?? null;
  const keys = req.partitions ? [...new Set(req.partitions.keys)].sort() : [WHOLE];
  if (keys.length === 0)
    throw new EngineError(d.name, `publication ${req.assetKey}@${version} names no partitions`);
  if (keys.includes(WHOLE) && column !== null)
    throw new EngineError(d.name, `publication ${req.assetKey}@${version}: '' is not a partition key`);
  return { version, store: storeRef(d, req.assetKey), column, keys };
}

/**
 * Stages the publication's select, refuses rows outside its partitions, and fingerprints each partition:
 * a partition whose rows equal a stored slice reuses it, the others (`fresh`) are appended as this version.
 * `fingerprinter`, called once the stage exists, gives the query selecting `rows` and `version` of one partition.
 */
export async function stageSlices(
  tx: SqlSession,
  d: SqlDialect,
  req: VersionedTableRequest,
  target: PublicationTarget,
  fingerprinter: () => Promise<(key: string) => string>,
): Promise<{ slices: SliceRow[]; fresh: string[] }> {
  const p = renderPublish(d);
  const { column, keys, version } = target;
  await tx.run(d.createSchema(target.store.schema));
  await tx.run(d.createTempTableAs(PUBLISH_STAGE, `SELECT * FROM (${req.selectSql}) AS s`));
  if (column !== null) {
    const [row] = await tx.query(p.countOutside(d.tempTable(PUBLISH_STAGE), column, keys));
    const outside = asNumber(row?.['n']);
    if (outside > 0)
      throw new PartitionMismatchError(d.name, req.assetKey, `${column} in (${keys.join(', ')})`, outside);
  }
  const fingerprintSql = await fingerprinter();
  const slices: SliceRow[] = [];
  const fresh: string[] = [];
  for (const key of keys) {
    const [fp] = await tx.query(fingerprintSql(key));
    const rowCount = asNumber(fp?.['rows']);
    const fingerprint = String(fp?.['version'] ?? '');
    const [same] = await tx.query(p.findEqualSlice(req.assetKey, key, rowCount, fingerprint));
    const reuse = same?.['slice'];
    const slice = typeof reuse === 'string' ? reuse : version;
    if (slice === version) fresh.push(key);
    slices.push({
      assetKey: req.assetKey,
      publication: version,
      partitionKey: key,
      slice,
      rowCount,
      fingerprint,
    });
  }
  return { slices, fresh };
}

/**
 * The columns a published view of `assetKey` serves (its store's, without the bookkeeping ones) and whether the
 * view exists; refuses an asset without a store, or whose name a table holds (a published asset is a view).
 */
export async function viewTarget(
  tx: SqlSession,
  d: SqlDialect,
  group: string,
  assetKey: string,
): Promise<{ columns: string[]; exists: boolean }> {
  const columns = (await describe(tx, d, storeRef(d, assetKey)))
    ?.map((c) => c.name)
    .filter((c) => c !== PK_COLUMN && c !== SLICE_COLUMN);
  if (!columns) throw new EngineError(d.name, `publish group ${group}: ${assetKey} has no published store`);
  const [kind] = await tx.query<{ kind: string }>(d.relationKindSql(d.tableRef(assetKey)));
  if (kind?.kind === 'table') {
    throw new EngineError(
      d.name,
      `publish group ${group}: ${assetKey} is a table; a published asset is a view over its published store`,
    );
  }
  return { columns, exists: kind !== undefined };
}

export async function readSlices(
  tx: SqlSession,
  d: SqlDialect,
  assetKey: string,
  publication: string,
): Promise<SliceRow[]> {
  const rows = await tx.query(renderPublish(d).selectSlices(assetKey, publication));
  return rows.map((r) => ({
    assetKey,
    publication,
    partitionKey: String(r['partition_key']),
    slice: String(r['slice']),
    rowCount: asNumber(r['row_count']),
    fingerprint: String(r['fingerprint']),
  }));
}

export async function readHistory(tx: SqlSession, d: SqlDialect, group: string): Promise<PublishState[]> {
  const rows = await tx.query(renderPublish(d).selectHistory(group));
  return rows.map((r) =>
    toState({
      group_name: String(r['group_name']),
      seq: asNumber(r['seq']),
      version: String(r['version']),
      tables_json: String(r['tables_json']),
      run_id: r['run_id'] === null ? null : String(r['run_id']),
      published_at: String(r['published_at']),
      rolled_back: r['rolled_back'] === true,
    }),
  );
}

/** One member of a flip: its slices to list in the new manifest, and whether its other partitions carry over. */
export interface FlipMember {
  readonly assetKey: string;
  readonly slices: readonly SliceRow[];
  readonly carry: boolean;
}

export interface FlipPlan {
  /** False when every named publication is what the group serves already (the flip is a no-op). */
  readonly changed: boolean;
  readonly members: readonly FlipMember[];
  /** Every asset the new version serves, with the publication it serves, sorted by asset. */
  readonly served: readonly (readonly [string, string])[];
}

/**
 * What a flip of `tables` over the group's `current` version writes. Members the flip does not name keep
 * serving what they served (carried into the new version).
 */
export async function planFlip(
  tx: SqlSession,
  d: SqlDialect,
  group: string,
  tables: Readonly<Record<string, string>>,
  current: PublishState | undefined,
): Promise<FlipPlan> {
  const p = renderPublish(d);
  const entries = Object.entries(tables).sort(([a], [b]) => a.localeCompare(b));
  const members: FlipMember[] = [];
  let changed = !current;
  for (const [assetKey, id] of entries) {
    const pub = parsePublicationId(d.name, id);
    if (pub.assetKey !== assetKey)
      throw new EngineError(d.name, `publish group ${group}: ${id} is not a publication of ${assetKey}`);
    const slices = await readSlices(tx, d, assetKey, pub.version);
    if (slices.length === 0)
      throw new EngineError(d.name, `publish group ${group}: ${id} (for ${assetKey}) does not exist`);
    // A publication of an unpartitioned asset replaces all of it; a partitioned one the keys it lists.
    const carry = !(slices.length === 1 && slices[0]?.partitionKey === WHOLE);
    const served = current?.tables[assetKey] !== undefined ? current.seq : undefined;
    if (served === undefined) changed = true;
    else if (!changed) {
      const now = new Map(
        (await tx.query(p.selectManifest(group, served, assetKey))).map((r) => [
          String(r['partition_key']),
          String(r['slice']),
        ]),
      );
      changed = slices.some((s) => now.get(s.partitionKey) !== s.slice) || (!carry && now.size !== 1);
    }
    members.push({ assetKey, slices, carry: carry && served !== undefined });
  }
  const kept = Object.entries(current?.tables ?? {}).filter(([k]) => tables[k] === undefined);
  for (const [assetKey] of kept) members.push({ assetKey, slices: [], carry: true });
  const served = [...entries, ...kept].sort(([a], [b]) => a.localeCompare(b));
  return { changed, members, served };
}

/** Writes the new version `seq`'s manifest: carried partitions of `current`, then each member's slices. */
export async function writeManifest(
  tx: SqlSession,
  d: SqlDialect,
  group: string,
  plan: FlipPlan,
  current: PublishState | undefined,
  seq: number,
): Promise<void> {
  const p = renderPublish(d);
  for (const m of plan.members) {
    if (m.carry && current) {
      const replaced = m.slices.map((s) => s.partitionKey);
      await tx.run(p.carryManifest(group, current.seq, seq, m.assetKey, replaced));
    }
    if (m.slices.length === 0) continue;
    const pairs = m.slices.map((s) => [s.partitionKey, s.slice] as const);
    await tx.run(p.insertManifest(group, seq, m.assetKey, pairs));
  }
}

export function resultOf(
  assetKey: string,
  version: string,
  slices: readonly SliceRow[],
): VersionedTableResult {
  const partitions: Record<string, PublishedPartition> = {};
  for (const s of slices) {
    partitions[s.partitionKey] = {
      rowCount: s.rowCount,
      dataVersion: s.fingerprint,
      reused: s.slice !== version,
    };
  }
  const only = slices.length === 1 ? slices[0] : undefined;
  return {
    table: publicationId(assetKey, version),
    rowCount: slices.reduce((n, s) => n + s.rowCount, 0),
    dataVersion:
      only?.fingerprint ??
      createHash('sha256')
        .update(slices.map((s) => `${s.partitionKey}:${s.fingerprint}`).join('\n'))
        .digest('hex')
        .slice(0, 32),
    schemaChanges: [],
    partitions,
  };
}

export function toState(row: HistoryRow): PublishState {
  const parsed: unknown = JSON.parse(row.tables_json);
  const tables: Record<string, string> = {};
  if (parsed && typeof parsed === 'object') {
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') tables[k] = v;
  }
  return {
    group: row.group_name,
    version: row.version,
    seq: row.seq,
    tables,
    runId: row.run_id,
    publishedAt: row.published_at,
    rolledBack: row.rolled_back,
  };
}

export function currentState(history: readonly PublishState[]): PublishState | undefined {
  return history.filter((h) => !h.rolledBack).at(-1);
}

export function tablesHash(entries: readonly (readonly [string, string])[]): string {
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
}
