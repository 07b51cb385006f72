/** Environments (config/<env>.yaml) validated with zod; secrets only via ${env:NAME}. Imports nothing of ours. */
export * from './schema.js';
export * from './load.js';
export * from './asset-engines.js';
export * from './spark.js';
