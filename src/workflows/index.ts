/**
 * Tessera's Temporal workflows (the bundle entry: every exported function is registered as a workflow type).
 *
 * Workflow code only orchestrates: deterministic, no Node built-ins, no I/O; activities are imported as types
 * (src/activities/types.ts) and called through proxies (./activities.ts). It may import @temporalio/workflow,
 * @temporalio/common, types from src/planner, src/ledger and src/activities, and the pure helpers in
 * src/runtime/{ids,ui,search-attributes,lease-types}.ts — nothing else.
 */
export { stepWorkflow } from './step.js';
export { stepBatchWorkflow } from './batch.js';
export { materializeWorkflow } from './materialize.js';
export { backfillWorkflow } from './backfill.js';
export { publishWorkflow } from './publish.js';
export { scheduleTickWorkflow } from './tick.js';
export { freshnessAlertWorkflow } from './freshness.js';
export { alertWorkflow } from './alert.js';
export { queryWorkflow, rollbackGroupWorkflow } from './query.js';
export { ingestWorkflow } from './ingest.js';
