/**
 * The Tessera DSL: everything a project writes its assets with. Pure TypeScript, no I/O (hashing aside):
 * types, asset(), check builders, partitions, mappings, the selection syntax, the asset graph, validation,
 * code versions and defineDefinitions(). May import only luxon, zod and node:crypto.
 *
 *   const dimUsers = asset({ key: 'core.dim_users', kind: 'scd2',
 *     scd2: { source: 'raw.users_changes', businessKey: ['user_id'], tracked: ['email', 'city'] } });
 *   export default defineDefinitions({ assets: [usersChanges, dimUsers, dailyRevenue] });
 */
export * from './types.js';
export * from './compute.js';
export { DslError, PartitionError, nearest } from './errors.js';
export * from './partitions/index.js';
export * from './mappings/index.js';
export { asset, sparkJob, ASSET_KEY_PATTERN } from './asset.js';
export * from './checks.js';
export { computeCodeVersion, normalizeSql, normalizeSource, type CodeVersionInput } from './code-version.js';
export { buildGraph, type AssetGraph, type GraphNode } from './graph.js';
export * from './selection/index.js';
export {
  ValidationError,
  validateDefinitions,
  formatIssues,
  alertRouteSchema,
  type ProblemCode,
  type ValidationInput,
  type ValidationProblem,
} from './validate.js';
export { defineDefinitions, defaultMapping, type Definitions, type DefinitionsSpec } from './definitions.js';
