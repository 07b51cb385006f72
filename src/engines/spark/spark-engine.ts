import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CheckSpec } from '../../dsl/types.js';
import type { SqlSession } from '../core/client.js';
import type { EngineHooks } from '../core/context.js';
import { asNumber, describe } from '../core/context.js';
import { KeyedLock } from '../core/keyed-lock.js';
import { SqlEngine } from '../core/sql-engine.js';
import { renderReplace, STAGE_TABLE } from '../dialect/replace.js';
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
import { SparkClient } from './spark-client.js';
import { createMetaReady, evolve, type SparkContext } from './spark-context.js';
import { sparkDialect } from './spark-dialect.js';
import * as publish from './spark-publish.js';
import { renderSparkReplaceWrite } from './spark-replace.js';
import * as scd2 from './spark-scd2.js';

/**
 * Wiring: Spark = the Spark dialect rendering, our SQL server (scripts/spark/server.py) running.
 *
 * Spark SQL on Iceberg has no multi-statement transactions, so the transactional recipes of SqlEngine
 * (delete, then insert, roll back on failure) do not hold here. Every write is one statement, one Iceberg
 * commit, atomic for readers; a failure before it leaves the table as it was:
 * - replaces are one MERGE (spark-replace.ts); schema evolution runs first as its own commits (an added
 *   column stays if the write then fails: old rows read NULL, the replace can simply run again);
 * - SCD2 merges stage the versions, then apply them in one MERGE (spark-scd2.ts, as on Trino);
 * - publish groups follow the group's live version: a flip is one history INSERT (spark-publish.ts, as on
 *   Trino and BigQuery).
 * Each operation stages in a server-side session of its own. Reads, checks and describe go through SqlEngine.
 * docs/engines.md ("Spark over Iceberg") says what readers see.
 */

export const sparkConfigSchema = z.object({
  type: z.literal('spark'),
  /** The SQL server of scripts/services/spark.sh, e.g. http://127.0.0.1:58091 ($TESSERA_SPARK_URL). */
  url: z.string().url(),
  /** Iceberg catalog (default `iceberg`, the lakehouse shared with Trino). */
  catalog: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,62}$/)
    .optional(),
  /**
   * Tests: each engine created gets a fresh catalog of its own (`<catalog>_<random>`, same lakehouse
   * database, own warehouse folder), emptied on close, so tests never see each other's tables.
   */
  isolated: z.boolean().optional(),
});
export type SparkConfig = z.infer<typeof sparkConfigSchema>;

export class SparkEngine implements Engine {
  readonly name = 'spark';
  private readonly d = sparkDialect;
  private readonly sql: SqlEngine;
  private readonly locks = new KeyedLock();
  private readonly ctx: SparkContext;

  constructor(
    private readonly client: SparkClient,
    private readonly hooks: EngineHooks = {},
  ) {
    this.sql = new SqlEngine({ dialect: sparkDialect, client, hooks });
    this.ctx = {
      dialect: sparkDialect,
      client,
      hooks,
      locks: this.locks,
      metaReady: createMetaReady(sparkDialect, client),
    };
  }

  execute(sql: string): Promise<void> {
    return this.sql.execute(sql);
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.sql.query<T>(sql, params);
  }

  replacePartition(req: ReplacePartitionRequest): Promise<WriteResult> {
    return this.write('replacePartition', req.table, req.selectSql, {
      predicate: this.d.partitionPredicate(req.partition),
      onTarget: this.d.partitionPredicate(req.partition, 't'),
      label: this.d.describePartition(req.partition),
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
    return this.sql.snapshotAsOfSql(req);
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
    return this.sql.describeTable(table);
  }

  async evolveSchema(table: string, selectSql: string): Promise<SchemaChange[]> {
    const d = this.d;
    const ref = d.tableRef(table);
    return this.locks.run(d.table(ref), () =>
      this.client.transaction(async (tx) => {
        const existing = await describe(tx, d, ref);
        if (!existing) return [];
        await tx.run(d.createTempTableAs(STAGE_TABLE, `SELECT * FROM (${selectSql}) AS s LIMIT 0`));
        const staged = (await describe(tx, d, d.tempRef(STAGE_TABLE), true)) ?? [];
        return this.evolve(tx, table, existing, staged);
      }),
    );
  }

  runCheck(check: CheckSpec, table: string, options?: CheckRunOptions): Promise<CheckRunResult> {
    return this.sql.runCheck(check, table, options);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** Applies the evolution from `existing` to the staged columns (DDL: one Iceberg commit per change). */
  private evolve(
    tx: SqlSession,
    table: string,
    existing: readonly ColumnInfo[],
    staged: readonly ColumnInfo[],
  ): Promise<SchemaChange[]> {
    return evolve(tx, this.d, table, existing, staged);
  }

  /**
   * Stage (a runtime error in the select stops here), refuse rows outside the partition, create the table
   * on first run or evolve its schema, then write the partition in ONE statement; fingerprint.
   */
  private async write(
    operation: string,
    table: string,
    selectSql: string,
    partition: { readonly predicate: string; readonly onTarget: string; readonly label: string } | null,
  ): Promise<WriteResult> {
    const d = this.d;
    const ref = d.tableRef(table);
    const r = renderReplace(d, ref, partition?.predicate ?? null);
    const session = randomUUID();
    const tx = this.client.session(session);
    const step = async (name: string): Promise<void> => this.hooks.afterStep?.(operation, name);
    return this.locks.run(d.table(ref), async () => {
      try {
        await tx.run(d.createSchema(ref.schema));
        await tx.run(r.stage(selectSql));
        await step('staged');
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
          const staged = (await describe(tx, d, d.tempRef(STAGE_TABLE), true)) ?? [];
          changes = await this.evolve(tx, table, existing, staged);
          await step('evolved');
          // The delete and the insert are one MERGE, one commit: a failure at this step or before it
          // leaves the old partition (there is nothing to roll back).
          await step('deleted');
          await tx.run(
            renderSparkReplaceWrite(
              d,
              ref,
              STAGE_TABLE,
              staged.map((c) => c.name),
              partition?.onTarget ?? null,
            ),
          );
        }
        await step('inserted');
        const [fp] = await tx.query(r.fingerprint());
        return {
          table: `${ref.schema}.${ref.name}`,
          rowCount: asNumber(fp?.['rows']),
          dataVersion: String(fp?.['version'] ?? ''),
          schemaChanges: changes,
        };
      } finally {
        await this.client.closeSession(session).catch(() => undefined);
      }
    });
  }
}

export async function createSparkEngine(config: SparkConfig, hooks?: EngineHooks): Promise<SparkEngine> {
  const base = config.catalog ?? 'iceberg';
  const catalog = config.isolated ? `${base}_${randomUUID().replaceAll('-', '').slice(0, 12)}` : base;
  const client = new SparkClient(config.url.replace(/\/+$/, ''), catalog, config.isolated === true);
  return new SparkEngine(client, hooks);
}
