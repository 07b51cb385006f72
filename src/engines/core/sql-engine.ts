import { DateTime } from 'luxon';
import { defaultCheckName } from '../../dsl/checks.js';
import type { CheckSpec } from '../../dsl/types.js';
import { renderCheck } from '../dialect/checks.js';
import type { SqlDialect, TableRef } from '../dialect/dialect.js';
import { renderReplace, STAGE_TABLE } from '../dialect/replace.js';
import { planSchemaEvolution } from '../dialect/schema.js';
import { renderSnapshotAsOf } from '../dialect/snapshot.js';
import { PartitionMismatchError } from '../errors.js';
import type {
  CheckRunOptions,
  CheckRunResult,
  ColumnInfo,
  Engine,
  FlipRequest,
  FlipResult,
  PublishState,
  ReplacePartitionRequest,
  ReplaceTableRequest,
  Row,
  SchemaChange,
  Scd2ChangesMergeRequest,
  Scd2MergeResult,
  Scd2SnapshotMergeRequest,
  SnapshotAsOfRequest,
  SqlParam,
  VersionedTableRequest,
  VersionedTableResult,
  WriteResult,
} from '../types.js';
import type { SqlClient, SqlSession } from './client.js';
import { asNumber, describe, step, type EngineContext, type EngineHooks } from './context.js';
import { KeyedLock } from './keyed-lock.js';
import * as publish from './publish-ops.js';
import * as scd2 from './scd2-merge.js';

/**
 * An Engine over any SQL database: a dialect renders, a client runs. A new SQL engine is a new
 * dialect + type mapper + client, wired in its own folder; this file does not change.
 */
export class SqlEngine implements Engine {
  readonly name: string;
  private readonly ctx: EngineContext;

  constructor(opts: {
    readonly dialect: SqlDialect;
    readonly client: SqlClient;
    readonly hooks?: EngineHooks;
  }) {
    this.name = opts.dialect.name;
    this.ctx = {
      dialect: opts.dialect,
      client: opts.client,
      hooks: opts.hooks ?? {},
      locks: new KeyedLock(),
    };
  }

  get dialect(): SqlDialect {
    return this.ctx.dialect;
  }

  async execute(sql: string): Promise<void> {
    await this.ctx.client.run(sql);
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.ctx.client.query<T>(sql, params);
  }

  replacePartition(req: ReplacePartitionRequest): Promise<WriteResult> {
    const d = this.ctx.dialect;
    return this.write('replacePartition', req.table, req.selectSql, {
      predicate: d.partitionPredicate(req.partition),
      label: d.describePartition(req.partition),
    });
  }

  replaceTable(req: ReplaceTableRequest): Promise<WriteResult> {
    return this.write('replaceTable', req.table, req.selectSql, null);
  }

  mergeScd2FromChanges(req: Scd2ChangesMergeRequest): Promise<Scd2MergeResult> {
    return scd2.mergeScd2FromChanges(this.ctx, req);
  }

  mergeScd2FromSnapshot(req: Scd2SnapshotMergeRequest): Promise<Scd2MergeResult> {
    return scd2.mergeScd2FromSnapshot(this.ctx, req);
  }

  snapshotAsOfSql(req: SnapshotAsOfRequest): string {
    return renderSnapshotAsOf(this.ctx.dialect, req);
  }

  createVersionedTable(req: VersionedTableRequest): Promise<VersionedTableResult> {
    return publish.createVersionedTable(this.ctx, req);
  }

  flipPublishGroup(req: FlipRequest): Promise<FlipResult> {
    return publish.flipPublishGroup(this.ctx, req);
  }

  rollbackPublishGroup(group: string): Promise<FlipResult> {
    return publish.rollbackPublishGroup(this.ctx, group);
  }

  publishHistory(group: string): Promise<PublishState[]> {
    return publish.publishHistory(this.ctx, group);
  }

  describeTable(table: string): Promise<ColumnInfo[] | undefined> {
    return describe(this.ctx.client, this.ctx.dialect, this.ctx.dialect.tableRef(table));
  }

  async evolveSchema(table: string, selectSql: string): Promise<SchemaChange[]> {
    const d = this.ctx.dialect;
    const ref = d.tableRef(table);
    return this.ctx.locks.run(d.table(ref), () =>
      this.ctx.client.transaction(async (tx) => {
        const existing = await describe(tx, d, ref);
        if (!existing) return [];
        await tx.run(d.createTempTableAs(STAGE_TABLE, `SELECT * FROM (${selectSql}) AS s LIMIT 0`));
        const changes = await this.evolve(tx, table, existing);
        await tx.run(d.dropTempTable(STAGE_TABLE));
        return changes;
      }),
    );
  }

  async runCheck(check: CheckSpec, table: string, options: CheckRunOptions = {}): Promise<CheckRunResult> {
    const now = options.now ?? DateTime.utc().toISO();
    const rendered = renderCheck(this.ctx.dialect, check, table, { ...options, now });
    const [row] = await this.ctx.client.query(rendered.sql);
    const failing = asNumber(row?.['failing']);
    return {
      name: check.name ?? defaultCheckName(check),
      passed: failing === 0,
      failingRows: failing,
      detail: rendered.detail(failing, row?.['observed'] ?? null),
    };
  }

  close(): Promise<void> {
    return this.ctx.client.close();
  }

  /** Stage, refuse out-of-partition rows, evolve, delete, insert, fingerprint: one transaction. */
  private async write(
    operation: string,
    table: string,
    selectSql: string,
    partition: { readonly predicate: string; readonly label: string } | null,
  ): Promise<WriteResult> {
    const d = this.ctx.dialect;
    const ref: TableRef = d.tableRef(table);
    const r = renderReplace(d, ref, partition?.predicate ?? null);
    return this.ctx.locks.run(d.table(ref), () =>
      this.ctx.client.transaction(async (tx) => {
        await tx.run(d.createSchema(ref.schema));
        await tx.run(r.stage(selectSql));
        await step(this.ctx, operation, 'staged');
        const outsideSql = r.countOutside();
        if (outsideSql && partition) {
          const [row] = await tx.query(outsideSql);
          const outside = asNumber(row?.['n']);
          if (outside > 0) throw new PartitionMismatchError(d.name, table, partition.label, outside);
        }
        const existing = await describe(tx, d, ref);
        let changes: SchemaChange[] = [];
        if (!existing) {
          await tx.run(r.createFromStage());
        } else {
          changes = await this.evolve(tx, table, existing);
          await step(this.ctx, operation, 'evolved');
          await tx.run(r.deleteOld());
          await step(this.ctx, operation, 'deleted');
          const staged = (await describe(tx, d, d.tempRef(STAGE_TABLE), true)) ?? [];
          await tx.run(r.insert(staged.map((c) => c.name)));
        }
        await step(this.ctx, operation, 'inserted');
        const [fp] = await tx.query(r.fingerprint());
        await tx.run(r.dropStage());
        return {
          table: `${ref.schema}.${ref.name}`,
          rowCount: asNumber(fp?.['rows']),
          dataVersion: String(fp?.['version'] ?? ''),
          schemaChanges: changes,
        };
      }),
    );
  }

  /** Applies the evolution from `existing` to the staged select's columns; DDL before any DML. */
  private async evolve(
    tx: SqlSession,
    table: string,
    existing: readonly ColumnInfo[],
  ): Promise<SchemaChange[]> {
    const d = this.ctx.dialect;
    const staged = (await describe(tx, d, d.tempRef(STAGE_TABLE), true)) ?? [];
    const plan = planSchemaEvolution(d, table, existing, staged);
    for (const s of plan.statements) await tx.run(s);
    return plan.changes;
  }
}
