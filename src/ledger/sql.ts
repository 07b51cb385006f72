/**
 * The SQL ledger shared by SQLite and PostgreSQL: one set of statements (written with `?`
 * placeholders, in the SQL both engines accept: ON CONFLICT upserts, `excluded.`, window functions),
 * one row mapping (sql-rows.ts), one schema (sql-schema.ts). The few dialect differences live in
 * `Dialect` (column types, table qualification) and in each driver (placeholders, booleans, locking).
 */
import {
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
import {
  HeadsView,
  NEWEST_FIRST,
  refreshLatestParams,
  refreshLatestStatement,
  viewStatement,
} from './sql-latest.js';
import { toBackfill, toCheck, toMaterialization, toPublication, toWatermark } from './sql-rows.js';
import { migrate, type SqlDriver, type SqlValue } from './sql-schema.js';
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

export * from './sql-schema.js';

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
const VIEW_ASSETS_PER_STATEMENT = 10;

/** The `Ledger` over any `SqlDriver`. Construct with `SqlLedger.open` (runs migrations). */
export class SqlLedger implements Ledger {
  private constructor(private readonly db: SqlDriver) {}

  static async open(driver: SqlDriver): Promise<SqlLedger> {
    try {
      await migrate(driver);
    } catch (e) {
      await driver.close();
      throw e;
    }
    return new SqlLedger(driver);
  }

  private t(name: string): string {
    return this.db.dialect.table(name);
  }

  async view(assetKeys: readonly string[]): Promise<LedgerView> {
    if (assetKeys.length === 0) return new MemoryLedgerView();
    // A few assets per statement: one result of 365,000 rows cost better-sqlite3 and the collector about twice
    // the CPU time of the same rows read ten assets at a time (measured at 1,000 assets × 365 days).
    const view = new HeadsView();
    for (let i = 0; i < assetKeys.length; i += VIEW_ASSETS_PER_STATEMENT) {
      const chunk = assetKeys.slice(i, i + VIEW_ASSETS_PER_STATEMENT);
      view.add(await this.db.values(viewStatement(this.db.dialect, chunk.length), chunk));
    }
    return view;
  }

  async recordMaterialization(record: MaterializationRecord): Promise<void> {
    const r = parseMaterialization(record);
    const inputsText = JSON.stringify(r.inputDataVersions);
    // Same (asset, partition, run) again = the same attempt re-delivered: overwrite, never duplicate. The
    // partition's latest row is recomputed in the same transaction, one writer per partition at a time.
    await this.db.transaction(
      [
        [
          `INSERT INTO ${this.t('materializations')} (asset_key, partition_key, run_id, code_version, input_data_versions,
             data_version, row_count, status, error, started_at, ended_at, started_ms, ended_ms)
           VALUES (${placeholders(13)})
           ON CONFLICT (asset_key, partition_key, run_id) DO UPDATE SET
             code_version = excluded.code_version, input_data_versions = excluded.input_data_versions,
             data_version = excluded.data_version, row_count = excluded.row_count, status = excluded.status,
             error = excluded.error, started_at = excluded.started_at, ended_at = excluded.ended_at,
             started_ms = excluded.started_ms, ended_ms = excluded.ended_ms`,
          [
            r.assetKey,
            r.partitionKey,
            r.runId,
            r.codeVersion,
            inputsText,
            r.dataVersion,
            r.rowCount,
            r.status,
            r.error ?? null,
            r.startedAt,
            r.endedAt,
            isoMillis(r.startedAt),
            isoMillis(r.endedAt),
          ],
        ],
        [refreshLatestStatement(this.db.dialect), refreshLatestParams(r, inputsText)],
      ],
      `${r.assetKey}@${r.partitionKey}`,
    );
  }

  async materializations(filter: MaterializationFilter = {}): Promise<MaterializationRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.assetKeys) {
      if (filter.assetKeys.length === 0) return [];
      where.push(`asset_key IN (${placeholders(filter.assetKeys.length)})`);
      params.push(...filter.assetKeys);
    }
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    const range: string[] = [];
    if (filter.from !== undefined) {
      range.push('partition_key >= ?');
      params.push(filter.from);
    }
    if (filter.to !== undefined) {
      range.push('partition_key <= ?');
      params.push(filter.to);
    }
    if (range.length > 0) where.push(`(partition_key = '' OR (${range.join(' AND ')}))`);
    const cond = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const inner = filter.all
      ? `SELECT * FROM ${this.t('materializations')} ${cond}`
      : `SELECT * FROM (
           SELECT m.*, ROW_NUMBER() OVER (PARTITION BY asset_key, partition_key ORDER BY ${NEWEST_FIRST}) AS rn
           FROM ${this.t('materializations')} m ${cond}) x WHERE rn = 1`;
    const rows = await this.db.all(`${inner} ORDER BY asset_key, partition_key, ${NEWEST_FIRST}`, params);
    return rows.map(toMaterialization);
  }

  async history(assetKey: string, partitionKey: string): Promise<MaterializationRecord[]> {
    const rows = await this.db.all(
      `SELECT * FROM ${this.t('materializations')} WHERE asset_key = ? AND partition_key = ? ORDER BY ${NEWEST_FIRST}`,
      [assetKey, partitionKey],
    );
    return rows.map(toMaterialization);
  }

  async recordCheck(record: CheckResultRecord): Promise<void> {
    const r = parseCheckResult(record);
    await this.db.run(
      `INSERT INTO ${this.t('check_results')} (asset_key, partition_key, run_id, check_name, blocking, passed,
         failing_rows, detail, checked_at, checked_ms)
       VALUES (${placeholders(10)})
       ON CONFLICT (asset_key, partition_key, run_id, check_name) DO UPDATE SET
         blocking = excluded.blocking, passed = excluded.passed, failing_rows = excluded.failing_rows,
         detail = excluded.detail, checked_at = excluded.checked_at, checked_ms = excluded.checked_ms`,
      [
        r.assetKey,
        r.partitionKey,
        r.runId,
        r.checkName,
        r.blocking,
        r.passed,
        r.failingRows,
        r.detail ?? null,
        r.checkedAt,
        isoMillis(r.checkedAt),
      ],
    );
  }

  async checkResults(assetKey: string, partitionKey: string, runId?: string): Promise<CheckResultRecord[]> {
    const params: SqlValue[] = [assetKey, partitionKey];
    if (runId !== undefined) params.push(runId);
    const rows = await this.db.all(
      `SELECT * FROM ${this.t('check_results')} WHERE asset_key = ? AND partition_key = ?
       ${runId !== undefined ? 'AND run_id = ?' : ''} ORDER BY checked_ms, check_name, run_id`,
      params,
    );
    return rows.map(toCheck);
  }

  async recordPublication(record: PublicationRecord): Promise<void> {
    const r = parsePublication(record);
    const inserted = await this.db.run(
      `INSERT INTO ${this.t('publications')} (group_name, version, tables, run_id, published_at, published_ms)
       VALUES (${placeholders(6)}) ON CONFLICT (group_name, version) DO NOTHING`,
      [r.group, r.version, JSON.stringify(r.tables), r.runId, r.publishedAt, isoMillis(r.publishedAt)],
    );
    if (inserted > 0) return;
    // Already there: a retried publish is fine, but a version must never change what it served.
    const rows = await this.db.all(
      `SELECT * FROM ${this.t('publications')} WHERE group_name = ? AND version = ?`,
      [r.group, r.version],
    );
    const existing = rows[0] ? toPublication(rows[0]) : undefined;
    if (existing && !sameTables(existing.tables, r.tables)) {
      throw new LedgerConflictError(`publication ${r.group}@${r.version} already recorded with other tables`);
    }
  }

  async publications(group: string): Promise<PublicationRecord[]> {
    const rows = await this.db.all(
      `SELECT * FROM ${this.t('publications')} WHERE group_name = ? ORDER BY published_ms, version`,
      [group],
    );
    return rows.map(toPublication);
  }

  async setWatermark(record: WatermarkRecord): Promise<void> {
    const r = parseWatermark(record);
    // Never move a watermark backwards: activities are retried, so a report computed earlier can
    // arrive after a newer one; accepting it would re-open partitions the barrier already let through.
    // An equal watermark only refreshes updated_at (a freshness heartbeat), and only forwards.
    await this.db.run(
      `INSERT INTO ${this.t('watermarks')} AS w (source, watermark, watermark_ms, updated_at, updated_ms)
       VALUES (${placeholders(5)})
       ON CONFLICT (source) DO UPDATE SET
         watermark = excluded.watermark, watermark_ms = excluded.watermark_ms,
         updated_at = excluded.updated_at, updated_ms = excluded.updated_ms
       WHERE excluded.watermark_ms > w.watermark_ms
          OR (excluded.watermark_ms = w.watermark_ms AND excluded.updated_ms >= w.updated_ms)`,
      [r.source, r.watermark, isoMillis(r.watermark), r.updatedAt, isoMillis(r.updatedAt)],
    );
  }

  async watermarks(): Promise<WatermarkRecord[]> {
    const rows = await this.db.all(`SELECT * FROM ${this.t('watermarks')} ORDER BY source`);
    return rows.map(toWatermark);
  }

  async upsertBackfill(record: BackfillRecord): Promise<void> {
    const r = parseBackfill(record);
    await this.db.run(
      `INSERT INTO ${this.t('backfills')} (backfill_id, selection, from_key, to_key, status, total, done, failed,
         created_at, created_ms, updated_at, updated_ms)
       VALUES (${placeholders(12)})
       ON CONFLICT (backfill_id) DO UPDATE SET
         selection = excluded.selection, from_key = excluded.from_key, to_key = excluded.to_key,
         status = excluded.status, total = excluded.total, done = excluded.done, failed = excluded.failed,
         created_at = excluded.created_at, created_ms = excluded.created_ms,
         updated_at = excluded.updated_at, updated_ms = excluded.updated_ms`,
      [
        r.backfillId,
        r.selection,
        r.from,
        r.to,
        r.status,
        r.total,
        r.done,
        r.failed,
        r.createdAt,
        isoMillis(r.createdAt),
        r.updatedAt,
        isoMillis(r.updatedAt),
      ],
    );
  }

  async backfills(): Promise<BackfillRecord[]> {
    const rows = await this.db.all(
      `SELECT * FROM ${this.t('backfills')} ORDER BY created_ms DESC, backfill_id`,
    );
    return rows.map(toBackfill);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
