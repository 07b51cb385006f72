/**
 * GDPR erasure: a declared policy per table (policy.ts), the erasure itself (erase.ts: raw tables, SCD2
 * histories, snapshots, facts, marts and their published stores, the ledger's data versions, an audit entry
 * without the identifier), and the ingest guard that re-applies the erasure list after every landing (guard.ts).
 * SQL is rendered over the engine's dialect (sql.ts). May import src/dsl, src/engines, src/ledger, src/sources
 * (types and the PII key's name) and src/activities/tables.ts (where an asset's rows live). Not: workflows.
 */
export * from './policy.js';
export { ErasureKey, ErasureKeyError } from './keys.js';
export { eraseSubject, readAudit, ErasureError } from './erase.js';
export type { EraseDeps, EraseRequest, EraseResult, TableErasure } from './erase.js';
export { ErasureGuard, guardLoader, guardLoaders } from './guard.js';
export { ERASURE_LIST, AUDIT } from './sql.js';
