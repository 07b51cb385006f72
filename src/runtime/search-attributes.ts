/**
 * Typed search attributes set on Tessera workflows. Registered by scripts/services/temporal.sh (keep the two
 * lists in step). Imported by workflow code: depends on @temporalio/common only.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Asset of a step (or freshness alert) workflow. */
export const ASSET_KEY = defineSearchAttributeKey('AssetKey', SearchAttributeType.KEYWORD);
/** Partition of a step or publish workflow ('' for unpartitioned). */
export const PARTITION_KEY = defineSearchAttributeKey('PartitionKey', SearchAttributeType.KEYWORD);
/**
 * Every partition a step or step batch workflow builds, and the days they fall in (`2026-11-03T05` also lists
 * `2026-11-03`; `2026-11-03|google` also `2026-11-03`), so `PartitionKeys = "2026-11-03"` finds the ISO-week
 * batch `raw.snowplow_events/2026-W44` as well as the day's step. See `partitionSearchKeys`.
 */
export const PARTITION_KEYS = defineSearchAttributeKey('PartitionKeys', SearchAttributeType.KEYWORD_LIST);
/** Every asset a materialize/backfill/tick run touches. */
export const ASSET_KEYS = defineSearchAttributeKey('AssetKeys', SearchAttributeType.KEYWORD_LIST);
/** step | materialize | backfill | publish | tick | freshness | alert */
export const RUN_KIND = defineSearchAttributeKey('TesseraRunKind', SearchAttributeType.KEYWORD);

export type RunKind = 'step' | 'materialize' | 'backfill' | 'publish' | 'tick' | 'freshness' | 'alert';

/**
 * Temporal refuses a search attribute value over 2 KB (`limit.searchAttributeSize`); the list stays under this
 * many characters: days first (always), then each key while it fits.
 */
export const PARTITION_KEYS_BUDGET = 1_500;

/** The `PartitionKeys` of a workflow building `keys`: the days they fall in, then the keys themselves. */
export function partitionSearchKeys(keys: readonly string[]): string[] {
  const days = [
    ...new Set(keys.map((k) => /^\d{4}-\d{2}-\d{2}/.exec(k)?.[0]).filter((d) => d !== undefined)),
  ];
  const out = new Set<string>(days);
  let size = days.reduce((n, d) => n + d.length + 3, 0);
  for (const k of keys) {
    if (out.has(k)) continue;
    if (size + k.length + 3 > PARTITION_KEYS_BUDGET) break;
    out.add(k);
    size += k.length + 3;
  }
  return [...out];
}

/** Name → type, as `temporal operator search-attribute create` wants them. */
export const SEARCH_ATTRIBUTES = {
  AssetKey: 'Keyword',
  PartitionKey: 'Keyword',
  PartitionKeys: 'KeywordList',
  AssetKeys: 'KeywordList',
  TesseraRunKind: 'Keyword',
} as const;
