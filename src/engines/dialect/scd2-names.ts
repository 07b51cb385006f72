import type { Scd2ColumnNaming } from '../types.js';

/**
 * Physical names of the SCD2 bookkeeping columns, one row per naming convention.
 * dbt mode renames what dbt snapshots have (dbt_valid_from, dbt_valid_to, dbt_is_deleted) and adds
 * dbt_scd_id (md5 of key and valid_from) and dbt_updated_at (= valid_from: the change's commit time);
 * the columns dbt has no name for keep Tessera's (is_current, source_lsn, row_hash).
 */
export interface Scd2Columns {
  readonly validFrom: string;
  readonly validTo: string;
  readonly isCurrent: string;
  readonly isDeleted: string;
  /** The source ordering (LSN) of the change that started the version. */
  readonly sourceOrder: string;
  /** Hash of the tracked attributes. */
  readonly rowHash: string;
  readonly scdId: string | null;
  readonly updatedAt: string | null;
}

export const SCD2_COLUMNS: Readonly<Record<Scd2ColumnNaming, Scd2Columns>> = {
  tessera: {
    validFrom: 'valid_from',
    validTo: 'valid_to',
    isCurrent: 'is_current',
    isDeleted: 'is_deleted',
    sourceOrder: 'source_lsn',
    rowHash: 'row_hash',
    scdId: null,
    updatedAt: null,
  },
  dbt: {
    validFrom: 'dbt_valid_from',
    validTo: 'dbt_valid_to',
    isCurrent: 'is_current',
    isDeleted: 'dbt_is_deleted',
    sourceOrder: 'source_lsn',
    rowHash: 'row_hash',
    scdId: 'dbt_scd_id',
    updatedAt: 'dbt_updated_at',
  },
};

export function scd2Columns(naming: Scd2ColumnNaming | undefined): Scd2Columns {
  return SCD2_COLUMNS[naming ?? 'tessera'];
}
