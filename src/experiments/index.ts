/** Experiment metrics: declarations, the SQL/statistics contract, statistics and whole-experiment analysis. */
export * from './stats/index.js';
export * from './metrics.js';
export * from './sufficient-stats.js';
export * from './analysis.js';
