/**
 * Typed search attributes set on Tessera workflows. Registered by scripts/services/temporal.sh (keep the two
 * lists in step). Imported by workflow code: depends on @temporalio/common only.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Asset of a step (or freshness alert) workflow. */
export const ASSET_KEY = defineSearchAttributeKey('AssetKey', SearchAttributeType.KEYWORD);
/** Partition of a step or publish workflow ('' for unpartitioned). */
export const PARTITION_KEY = defineSearchAttributeKey('PartitionKey', SearchAttributeType.KEYWORD);
/** Every asset a materialize/backfill/tick run touches. */
export const ASSET_KEYS = defineSearchAttributeKey('AssetKeys', SearchAttributeType.KEYWORD_LIST);
/** step | materialize | backfill | publish | tick | freshness */
export const RUN_KIND = defineSearchAttributeKey('TesseraRunKind', SearchAttributeType.KEYWORD);

export type RunKind = 'step' | 'materialize' | 'backfill' | 'publish' | 'tick' | 'freshness';

/** Name → type, as `temporal operator search-attribute create` wants them. */
export const SEARCH_ATTRIBUTES = {
  AssetKey: 'Keyword',
  PartitionKey: 'Keyword',
  AssetKeys: 'KeywordList',
  TesseraRunKind: 'Keyword',
} as const;
