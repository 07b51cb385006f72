/**
 * Shared by every ledger store: zod schemas of the records (the boundary where activities hand us
 * data that crossed Temporal's JSON serialization), the ordering of attempts, and the plain-data
 * `LedgerView` the planner reads.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import {
  stepId,
  type BackfillRecord,
  type CheckResultRecord,
  type LedgerView,
  type MaterializationFilter,
  type MaterializationRecord,
  type MaterializationStatus,
  type PartitionHead,
  type PublicationRecord,
  type WatermarkRecord,
} from './types.js';

/** Thrown when a write would rewrite immutable history (e.g. a publication version with other tables). */
export class LedgerConflictError extends Error {
  override readonly name = 'LedgerConflictError';
}

const isoInstant = z.string().refine((s) => DateTime.fromISO(s, { zone: 'utc' }).isValid, {
  message: 'expected an ISO-8601 timestamp',
});

export const materializationSchema = z.object({
  assetKey: z.string().min(1),
  partitionKey: z.string(),
  runId: z.string().min(1),
  codeVersion: z.string(),
  inputDataVersions: z.record(z.string(), z.string()),
  dataVersion: z.string(),
  rowCount: z.number().int().nonnegative(),
  status: z.enum(['success', 'failed']),
  error: z.string().optional(),
  startedAt: isoInstant,
  endedAt: isoInstant,
});

export const checkResultSchema = z.object({
  assetKey: z.string().min(1),
  partitionKey: z.string(),
  runId: z.string().min(1),
  checkName: z.string().min(1),
  blocking: z.boolean(),
  passed: z.boolean(),
  failingRows: z.number().int().nonnegative(),
  detail: z.string().optional(),
  checkedAt: isoInstant,
});

export const publicationSchema = z.object({
  group: z.string().min(1),
  version: z.string().min(1),
  tables: z.record(z.string(), z.string()),
  runId: z.string().min(1),
  publishedAt: isoInstant,
});

export const watermarkSchema = z.object({
  source: z.string().min(1),
  watermark: isoInstant,
  updatedAt: isoInstant,
});

export const backfillSchema = z.object({
  backfillId: z.string().min(1),
  selection: z.string(),
  from: z.string(),
  to: z.string(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  total: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  createdAt: isoInstant,
  updatedAt: isoInstant,
});

/** Parses and re-creates a record so no extra properties (or prototype tricks) reach a store. */
export const parseMaterialization = (r: unknown): MaterializationRecord => materializationSchema.parse(r);
export const parseCheckResult = (r: unknown): CheckResultRecord => checkResultSchema.parse(r);
export const parsePublication = (r: unknown): PublicationRecord => publicationSchema.parse(r);
export const parseWatermark = (r: unknown): WatermarkRecord => watermarkSchema.parse(r);
export const parseBackfill = (r: unknown): BackfillRecord => backfillSchema.parse(r);

/** Epoch millis of an ISO instant (no offset → UTC). Stores order by these, never by the text. */
export const isoMillis = (iso: string): number => {
  const dt = DateTime.fromISO(iso, { zone: 'utc' });
  if (!dt.isValid) throw new Error(`invalid ISO-8601 timestamp: ${iso}`);
  return dt.toMillis();
};

/** Code-unit string order: the same as SQLite's BINARY and PostgreSQL's COLLATE "C". */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Newest attempt first: by start, then end, then run id (a deterministic tie-break). The SQL stores
 * use the same order (`started_ms DESC, ended_ms DESC, run_id DESC`). Start time rather than
 * arrival order, because a retried activity may record an older attempt after a newer one.
 */
export const compareAttemptsNewestFirst = (a: MaterializationRecord, b: MaterializationRecord): number =>
  isoMillis(b.startedAt) - isoMillis(a.startedAt) ||
  isoMillis(b.endedAt) - isoMillis(a.endedAt) ||
  compareStrings(b.runId, a.runId);

/** Grid order: asset, partition, newest attempt first. */
export const compareForListing = (a: MaterializationRecord, b: MaterializationRecord): number =>
  compareStrings(a.assetKey, b.assetKey) ||
  compareStrings(a.partitionKey, b.partitionKey) ||
  compareAttemptsNewestFirst(a, b);

/** Applies a `MaterializationFilter` to in-memory records (the SQL stores do it in SQL). */
export const filterMaterializations = (
  records: Iterable<MaterializationRecord>,
  filter: MaterializationFilter = {},
): MaterializationRecord[] => {
  const assets = filter.assetKeys ? new Set(filter.assetKeys) : undefined;
  const { from, to } = filter;
  const matching = [...records]
    .filter(
      (r) =>
        (!assets || assets.has(r.assetKey)) &&
        (!filter.status || r.status === filter.status) &&
        (r.partitionKey === '' ||
          ((from === undefined || r.partitionKey >= from) && (to === undefined || r.partitionKey <= to))),
    )
    .sort(compareForListing);
  if (filter.all) return matching;
  const seen = new Set<string>();
  return matching.filter((r) => {
    const id = stepId(r.assetKey, r.partitionKey);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
};

/** A partition's head over plain records; the inputs' fingerprint is computed on first read. */
class RecordHead implements PartitionHead {
  latestSuccess: MaterializationRecord | undefined;
  private text: string | undefined;

  constructor(private current: MaterializationRecord) {}

  get latest(): MaterializationRecord {
    return this.current;
  }

  set latest(record: MaterializationRecord) {
    this.current = record;
    this.text = undefined;
  }

  get status(): MaterializationStatus {
    return this.current.status;
  }

  get codeVersion(): string {
    return this.current.codeVersion;
  }

  get inputsText(): string {
    return (this.text ??= JSON.stringify(this.current.inputDataVersions));
  }

  get successDataVersion(): string | undefined {
    return this.latestSuccess?.dataVersion;
  }
}

const NO_HEADS: ReadonlyMap<string, PartitionHead> = new Map();

/** A `LedgerView` over heads kept by asset, then partition: subclasses fill `byAsset`. */
export abstract class HeadsByAsset<H extends PartitionHead = PartitionHead> implements LedgerView {
  protected readonly byAsset = new Map<string, Map<string, H>>();

  latest(assetKey: string, partitionKey: string): MaterializationRecord | undefined {
    return this.byAsset.get(assetKey)?.get(partitionKey)?.latest;
  }

  latestSuccess(assetKey: string, partitionKey: string): MaterializationRecord | undefined {
    return this.byAsset.get(assetKey)?.get(partitionKey)?.latestSuccess;
  }

  heads(assetKey: string): ReadonlyMap<string, PartitionHead> {
    return this.byAsset.get(assetKey) ?? NO_HEADS;
  }
}

/** A `LedgerView` over plain records; built synchronously, so planner tests can make one from literals. */
export class MemoryLedgerView extends HeadsByAsset<RecordHead> {
  constructor(records: Iterable<MaterializationRecord> = []) {
    super();
    for (const r of records) this.add(r);
  }

  /** Folds one more attempt in (keeps whichever is newer per partition). */
  add(record: MaterializationRecord): void {
    let partitions = this.byAsset.get(record.assetKey);
    if (partitions === undefined) this.byAsset.set(record.assetKey, (partitions = new Map()));
    const head = partitions.get(record.partitionKey);
    const success = record.status === 'success';
    if (head === undefined) {
      const fresh = new RecordHead(record);
      if (success) fresh.latestSuccess = record;
      partitions.set(record.partitionKey, fresh);
      return;
    }
    if (compareAttemptsNewestFirst(record, head.latest) < 0) head.latest = record;
    if (success && (!head.latestSuccess || compareAttemptsNewestFirst(record, head.latestSuccess) < 0)) {
      head.latestSuccess = record;
    }
  }
}

/** Builds a `LedgerView` from plain records (any order; the newest attempt per partition wins). */
export const ledgerViewOf = (records: Iterable<MaterializationRecord>): LedgerView =>
  new MemoryLedgerView(records);

/** Order-insensitive equality of publication table maps (JSON key order must not matter). */
export const sameTables = (
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};
