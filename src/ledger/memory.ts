/** In-memory ledger: for planner and workflow tests. Same semantics as the SQL stores (see contract tests). */
import {
  compareStrings,
  filterMaterializations,
  isoMillis,
  LedgerConflictError,
  MemoryLedgerView,
  parseBackfill,
  parseCheckResult,
  parseMaterialization,
  parsePublication,
  parseWatermark,
  sameTables,
} from './records.js';
import type {
  BackfillRecord,
  CheckResultRecord,
  Ledger,
  LedgerView,
  MaterializationFilter,
  MaterializationRecord,
  PublicationRecord,
  WatermarkRecord,
} from './types.js';

export { MemoryLedgerView, ledgerViewOf } from './records.js';

/** Composite map key; NUL cannot occur in asset keys, partition keys or run ids we generate. */
const key = (...parts: string[]): string => parts.join('\u0000');

export class MemoryLedger implements Ledger {
  private readonly materializationsByKey = new Map<string, MaterializationRecord>();
  private readonly checks = new Map<string, CheckResultRecord>();
  private readonly publicationsByKey = new Map<string, PublicationRecord>();
  private readonly watermarksBySource = new Map<string, WatermarkRecord>();
  private readonly backfillsById = new Map<string, BackfillRecord>();

  /** Seeds the ledger with records (e.g. a test's history). */
  constructor(materializations: Iterable<MaterializationRecord> = []) {
    for (const r of materializations) this.putMaterialization(r);
  }

  private putMaterialization(record: MaterializationRecord): void {
    const r = parseMaterialization(record);
    this.materializationsByKey.set(key(r.assetKey, r.partitionKey, r.runId), r);
  }

  async view(assetKeys: readonly string[]): Promise<LedgerView> {
    const wanted = new Set(assetKeys);
    const records = [...this.materializationsByKey.values()].filter((r) => wanted.has(r.assetKey));
    return new MemoryLedgerView(records);
  }

  async recordMaterialization(record: MaterializationRecord): Promise<void> {
    this.putMaterialization(record);
  }

  async materializations(filter: MaterializationFilter = {}): Promise<MaterializationRecord[]> {
    return filterMaterializations(this.materializationsByKey.values(), filter);
  }

  async history(assetKey: string, partitionKey: string): Promise<MaterializationRecord[]> {
    const all = filterMaterializations(this.materializationsByKey.values(), {
      assetKeys: [assetKey],
      all: true,
    });
    return all.filter((r) => r.partitionKey === partitionKey);
  }

  async recordCheck(record: CheckResultRecord): Promise<void> {
    const r = parseCheckResult(record);
    this.checks.set(key(r.assetKey, r.partitionKey, r.runId, r.checkName), r);
  }

  async checkResults(assetKey: string, partitionKey: string, runId?: string): Promise<CheckResultRecord[]> {
    const rows = [...this.checks.values()]
      .filter(
        (c) =>
          c.assetKey === assetKey &&
          c.partitionKey === partitionKey &&
          (runId === undefined || c.runId === runId),
      )
      .sort(
        (a, b) =>
          isoMillis(a.checkedAt) - isoMillis(b.checkedAt) ||
          compareStrings(a.checkName, b.checkName) ||
          compareStrings(a.runId, b.runId),
      );
    return rows;
  }

  async recordPublication(record: PublicationRecord): Promise<void> {
    const r = parsePublication(record);
    const k = key(r.group, r.version);
    const existing = this.publicationsByKey.get(k);
    if (existing) {
      // A retried publish is a no-op; a version must never change what it served.
      if (!sameTables(existing.tables, r.tables)) {
        throw new LedgerConflictError(
          `publication ${r.group}@${r.version} already recorded with other tables`,
        );
      }
      return;
    }
    this.publicationsByKey.set(k, r);
  }

  async publications(group: string): Promise<PublicationRecord[]> {
    const rows = [...this.publicationsByKey.values()]
      .filter((p) => p.group === group)
      .sort(
        (a, b) => isoMillis(a.publishedAt) - isoMillis(b.publishedAt) || compareStrings(a.version, b.version),
      );
    return rows;
  }

  async setWatermark(record: WatermarkRecord): Promise<void> {
    const r = parseWatermark(record);
    const current = this.watermarksBySource.get(r.source);
    // Never backwards: a retried activity may deliver an older watermark after a newer one (see sql.ts).
    const wm = isoMillis(r.watermark);
    const prev = current ? isoMillis(current.watermark) : -Infinity;
    if (!current || wm > prev || (wm === prev && isoMillis(r.updatedAt) >= isoMillis(current.updatedAt))) {
      this.watermarksBySource.set(r.source, r);
    }
  }

  async watermarks(): Promise<WatermarkRecord[]> {
    return [...this.watermarksBySource.values()].sort((a, b) => compareStrings(a.source, b.source));
  }

  async upsertBackfill(record: BackfillRecord): Promise<void> {
    const r = parseBackfill(record);
    this.backfillsById.set(r.backfillId, r);
  }

  async backfills(): Promise<BackfillRecord[]> {
    const rows = [...this.backfillsById.values()].sort(
      (a, b) => isoMillis(b.createdAt) - isoMillis(a.createdAt) || compareStrings(a.backfillId, b.backfillId),
    );
    return rows;
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
