import type { Scd2OrderPart } from '../types.js';

/**
 * A raw change log's ordering (src/sources/types.ts): `_pos` = `_lsn` (16 hex digits, zero-padded) followed by
 * `_seq` zero-padded to 20 digits, so text order is commit order, then order within the transaction.
 */
export const RAW_LOG_ORDER_PARTS: readonly Scd2OrderPart[] = [
  { column: '_lsn', width: 16 },
  { column: '_seq', width: 20, numeric: true },
];
