/**
 * The Temporal runtime: connection config, client helpers, worker creation, workflow bundle, schedules,
 * ids, search attributes and UI links. ids.ts, ui.ts and search-attributes.ts are pure and may be imported by
 * workflow code; everything else is Node-side only.
 */
export * from './activities.js';
export * from './bundle.js';
export * from './client.js';
export * from './config.js';
export * from './ids.js';
export * from './logger.js';
export * from './schedules.js';
export * from './search-attributes.js';
export * from './ui.js';
export * from './worker.js';
export * from './worker-connect.js';
