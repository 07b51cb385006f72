/**
 * The deterministic BookMyEvent simulator: users, vendors, listings and bookings (Debezium change events),
 * browsing sessions with a running A/B test (Snowplow enriched TSV), ad spend per platform and FX rates,
 * written as the embedded default's landing folder, plus the ground truth to reconcile the pipeline against.
 * See docs/simulator.md. May import: ../sources (encoders, types), luxon, zod, faker, node built-ins.
 * Live mode (replaying into PostgreSQL, Kafka and the ads API fakes) is in ./live/, imported from there so
 * that simulating alone loads no database or broker client.
 */
export { simulate, simulateOptionsSchema, DEBEZIUM_SERVER, OLTP_DATABASES } from './simulate.js';
export type { SimulateOptions } from './simulate.js';
export { groundTruthSchema, dayTruthSchema, adDayTruthSchema } from './truth.js';
export type { GroundTruth, DayTruth } from './truth.js';
export type { CampaignDailyRow } from './ads.js';
export { EXPERIMENT, SCALES, type SimScale } from './config.js';
export { readGroundTruth, readCampaignDaily } from './read.js';
