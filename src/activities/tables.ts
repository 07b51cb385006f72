import type { AssetDefinition } from '../dsl/index.js';

/**
 * Where an asset's rows live. Marts are built into a private table and reach analysts only through their
 * publish group's view at the asset key (the consistency barrier); every other asset is its key.
 */
export function buildTable(asset: Pick<AssetDefinition, 'kind' | 'schema' | 'name' | 'key'>): string {
  return asset.kind === 'mart' ? `${asset.schema}.${asset.name}__build` : asset.key;
}

/** The column every partitioned table carries: the partition key its row belongs to. */
export const PARTITION_COLUMN = '_partition_key';
