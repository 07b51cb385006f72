/**
 * Partition mappings: which upstream partitions each downstream partition reads. One mapping per
 * file; aligned.ts holds what identity/lookback/rollup/containing share (static and multi
 * shapes), shared.ts the wording and time bounds. Pure: imports only ../partitions and ../errors.
 */
export * from './types.js';
export { identity } from './identity.js';
export { lookback } from './lookback.js';
export { rollup, hourlyToDaily } from './rollup.js';
export { containing, dailyToHourly } from './containing.js';
export { allUpstream } from './all-upstream.js';
export { dimension } from './dimension.js';
