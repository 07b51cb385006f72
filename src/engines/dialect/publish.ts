import { EngineError } from '../errors.js';
import type { SqlDialect, TableRef } from './dialect.js';
import { HISTORY_TABLE, META_SCHEMA } from './meta.js';

/**
 * Published partitions and publish groups (pure rendering).
 *
 * A published asset `schema.name` is a view analysts query. Its rows live in one append-only store per asset,
 * `schema.__p_name`: every publication appends only the partitions it changes, tagged with the partition key
 * (`__tessera_pk`, '' for an unpartitioned asset) and the slice that wrote them (`__tessera_slice`, the
 * publication's version). `tessera_meta.publish_slices` says, per publication, which slice holds each partition
 * it covers (an earlier slice when the content did not change). `tessera_meta.publish_manifest` lists, per group
 * version (`seq`), the (partition, slice) pairs each asset serves; the view joins the store with the manifest of
 * one seq. A flip appends a manifest and a history row and re-points the views in one transaction, so readers see
 * all old or all new; a rollback re-points to an earlier manifest.
 */

export const PK_COLUMN = '__tessera_pk';
export const SLICE_COLUMN = '__tessera_slice';
export const SLICES_TABLE: TableRef = { schema: META_SCHEMA, name: 'publish_slices' };
export const MANIFEST_TABLE: TableRef = { schema: META_SCHEMA, name: 'publish_manifest' };
/** The partition key of every row of an unpartitioned asset (a publication of it replaces the whole asset). */
export const WHOLE = '';

export interface HistoryRow {
  readonly group_name: string;
  readonly seq: number;
  readonly version: string;
  readonly tables_json: string;
  readonly run_id: string | null;
  readonly published_at: string;
  readonly rolled_back: boolean;
}

export interface SliceRow {
  readonly assetKey: string;
  readonly publication: string;
  readonly partitionKey: string;
  /** The publication whose store rows hold this partition (itself, or an earlier one with equal content). */
  readonly slice: string;
  readonly rowCount: number;
  readonly fingerprint: string;
}

/** A version reduced to [a-z0-9_] (it is stored as text and, in older releases, named tables). */
export function sanitizeVersion(engine: string, version: string): string {
  const v = version
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (v.length === 0) throw new EngineError(engine, `version '${version}' has no [a-z0-9_] characters`);
  return v;
}

/** The append-only store of an asset's published partitions. */
export function storeRef(d: SqlDialect, assetKey: string): TableRef {
  const ref = d.tableRef(assetKey);
  return { schema: ref.schema, name: `__p_${ref.name}` };
}

/** `<assetKey>@<version>`: what createVersionedTable returns and a flip names. */
export function publicationId(assetKey: string, version: string): string {
  return `${assetKey}@${version}`;
}

export function parsePublicationId(
  engine: string,
  id: string,
): { readonly assetKey: string; readonly version: string } {
  const at = id.lastIndexOf('@');
  if (at <= 0 || at === id.length - 1)
    throw new EngineError(engine, `'${id}' is not a publication id (<asset>@<version>)`);
  return { assetKey: id.slice(0, at), version: id.slice(at + 1) };
}

export function renderPublishMetaDdl(d: SqlDialect): string[] {
  const q = (c: string): string => d.quote(c);
  const text = d.spell.textType;
  return [
    d.createSchema(META_SCHEMA),
    `CREATE TABLE IF NOT EXISTS ${d.table(SLICES_TABLE)} (${q('asset_key')} ${text} NOT NULL, ` +
      `${q('publication')} ${text} NOT NULL, ${q('partition_key')} ${text} NOT NULL, ${q('slice')} ${text} NOT NULL, ` +
      `${q('row_count')} BIGINT NOT NULL, ${q('fingerprint')} ${text} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${d.table(MANIFEST_TABLE)} (${q('group_name')} ${text} NOT NULL, ` +
      `${q('seq')} INTEGER NOT NULL, ${q('asset_key')} ${text} NOT NULL, ${q('partition_key')} ${text} NOT NULL, ` +
      `${q('slice')} ${text} NOT NULL)`,
  ];
}

export function renderPublish(d: SqlDialect) {
  const q = (c: string): string => d.quote(c);
  const text = d.spell.textType;
  const history = d.table(HISTORY_TABLE);
  const slices = d.table(SLICES_TABLE);
  const manifest = d.table(MANIFEST_TABLE);
  const pkOf = (column: string | null): string =>
    column === null ? d.literal(WHOLE) : `CAST(${q(column)} AS ${text})`;
  const keyPredicate = (column: string | null, keys: readonly string[]): string =>
    column === null ? 'TRUE' : `${pkOf(column)} IN (${keys.map((k) => d.literal(k)).join(', ')})`;
  return {
    /** Rows of the staged publication outside its declared partitions (NULL keys count as outside). */
    countOutside: (stage: string, column: string, keys: readonly string[]): string =>
      `SELECT count(*) AS ${q('n')} FROM ${stage} WHERE NOT coalesce(${keyPredicate(column, keys)}, FALSE)`,
    /** Row count and content fingerprint of one partition of the stage (equal to replacePartition's). */
    fingerprintKey: (stage: string, column: string | null, key: string): string =>
      `SELECT count(*) AS ${q('rows')}, ${d.fingerprint(['__tessera_row'])} AS ${q('version')} ` +
      `FROM ${stage} AS __tessera_row WHERE ${keyPredicate(column, [key])}`,
    /** An empty store with the stage's columns plus the partition and slice tags. */
    createStore: (store: TableRef, stage: string): string =>
      `CREATE TABLE ${d.table(store)} AS SELECT s.*, CAST(NULL AS ${text}) AS ${q(PK_COLUMN)}, ` +
      `CAST(NULL AS ${text}) AS ${q(SLICE_COLUMN)} FROM ${stage} AS s WHERE 1 = 0`,
    appendToStore: (
      store: TableRef,
      stage: string,
      columns: readonly string[],
      column: string | null,
      keys: readonly string[],
      slice: string,
    ): string => {
      const cols = columns.map(q).join(', ');
      return (
        `INSERT INTO ${d.table(store)} (${cols}, ${q(PK_COLUMN)}, ${q(SLICE_COLUMN)}) ` +
        `SELECT ${cols}, ${pkOf(column)}, ${d.literal(slice)} FROM ${stage} WHERE ${keyPredicate(column, keys)}`
      );
    },
    /** Slices of a publication (or, with `fingerprint`, any slice of that content for the partition). */
    selectSlices: (assetKey: string, publication: string): string =>
      `SELECT ${q('partition_key')}, ${q('slice')}, ${q('row_count')}, ${q('fingerprint')} FROM ${slices} ` +
      `WHERE ${q('asset_key')} = ${d.literal(assetKey)} AND ${q('publication')} = ${d.literal(publication)} ` +
      `ORDER BY ${q('partition_key')}`,
    findEqualSlice: (assetKey: string, partitionKey: string, rowCount: number, fingerprint: string): string =>
      `SELECT min(${q('slice')}) AS ${q('slice')} FROM ${slices} WHERE ${q('asset_key')} = ${d.literal(assetKey)} ` +
      `AND ${q('partition_key')} = ${d.literal(partitionKey)} AND ${q('row_count')} = ${rowCount} ` +
      `AND ${q('fingerprint')} = ${d.literal(fingerprint)} AND ${q('slice')} = ${q('publication')}`,
    insertSlices: (rows: readonly SliceRow[]): string =>
      `INSERT INTO ${slices} VALUES ${rows
        .map(
          (r) =>
            `(${d.literal(r.assetKey)}, ${d.literal(r.publication)}, ${d.literal(r.partitionKey)}, ` +
            `${d.literal(r.slice)}, ${r.rowCount}, ${d.literal(r.fingerprint)})`,
        )
        .join(', ')}`,
    /** (partition, slice) pairs an asset serves at a group version. */
    selectManifest: (group: string, seq: number, assetKey: string): string =>
      `SELECT ${q('partition_key')}, ${q('slice')} FROM ${manifest} WHERE ${q('group_name')} = ${d.literal(group)} ` +
      `AND ${q('seq')} = ${seq} AND ${q('asset_key')} = ${d.literal(assetKey)}`,
    /** Carries an asset's manifest from `fromSeq` to `toSeq`, minus the partitions a publication replaces. */
    carryManifest: (
      group: string,
      fromSeq: number,
      toSeq: number,
      assetKey: string,
      replaced: readonly string[],
    ): string =>
      `INSERT INTO ${manifest} SELECT ${q('group_name')}, ${toSeq}, ${q('asset_key')}, ${q('partition_key')}, ` +
      `${q('slice')} FROM ${manifest} WHERE ${q('group_name')} = ${d.literal(group)} AND ${q('seq')} = ${fromSeq} ` +
      `AND ${q('asset_key')} = ${d.literal(assetKey)}` +
      (replaced.length > 0
        ? ` AND ${q('partition_key')} NOT IN (${replaced.map((k) => d.literal(k)).join(', ')})`
        : ''),
    insertManifest: (
      group: string,
      seq: number,
      assetKey: string,
      entries: readonly (readonly [string, string])[],
    ): string =>
      `INSERT INTO ${manifest} VALUES ${entries
        .map(
          ([pk, slice]) =>
            `(${d.literal(group)}, ${seq}, ${d.literal(assetKey)}, ${d.literal(pk)}, ${d.literal(slice)})`,
        )
        .join(', ')}`,
    /** The stable view: the store's rows whose (partition, slice) the manifest of `seq` lists. */
    pointView: (
      assetKey: string,
      store: TableRef,
      columns: readonly string[],
      group: string,
      seq: number,
    ): string => {
      d.require('supportsTransactionalDdl', 'an atomic publish-group flip');
      const cols = columns.map((c) => `s.${q(c)}`).join(', ');
      return (
        `CREATE OR REPLACE VIEW ${d.table(assetKey)} AS SELECT ${cols} FROM ${d.table(store)} AS s ` +
        `INNER JOIN ${manifest} AS m ON m.${q('partition_key')} = s.${q(PK_COLUMN)} AND m.${q('slice')} = s.${q(SLICE_COLUMN)} ` +
        `WHERE m.${q('group_name')} = ${d.literal(group)} AND m.${q('seq')} = ${seq} ` +
        `AND m.${q('asset_key')} = ${d.literal(assetKey)}`
      );
    },
    /** The group's history, oldest first, `published_at` as text. */
    selectHistory: (group: string): string =>
      `SELECT ${q('group_name')}, ${q('seq')}, ${q('version')}, ${q('tables_json')}, ${q('run_id')}, ` +
      `${q('published_at')}, ${q('rolled_back')} FROM ${history} WHERE ${q('group_name')} = ${d.literal(group)} ` +
      `ORDER BY ${q('seq')}`,
    insertHistory: (row: HistoryRow): string =>
      `INSERT INTO ${history} VALUES (${d.literal(row.group_name)}, ${row.seq}, ${d.literal(row.version)}, ` +
      `${d.literal(row.tables_json)}, ${d.literal(row.run_id)}, ${d.timestampLiteral(row.published_at)}, ` +
      `${d.literal(row.rolled_back)})`,
    markRolledBack: (group: string, seq: number): string =>
      `UPDATE ${history} SET ${q('rolled_back')} = TRUE WHERE ${q('group_name')} = ${d.literal(group)} AND ${q('seq')} = ${seq}`,
  };
}
