/**
 * Experiments: metric and experiment declarations, the SQL generator of per-variation sufficient statistics,
 * the SQL/statistics contract, the statistics, whole-experiment analysis and the results mart's rows.
 * No I/O: may import src/dsl (types), the SqlDialect type of src/engines, zod, @stdlib and node:crypto;
 * src/assets builds its assets from it.
 */
export * from './stats/index.js';
export * from './metrics.js';
export * from './sufficient-stats.js';
export * from './analysis.js';
export * from './sql.js';
export * from './experiment.js';
export * from './results.js';
