/** The planner: (selection × partition range × ledger view) → an immutable plan. Pure: no I/O, no clock. */
export * from './types.js';
export * from './plan.js';
export * from './partition-scope.js';
export * from './batch.js';
export * from './windows.js';
