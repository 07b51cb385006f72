/**
 * BookMyEvent's asset catalog, written with the Tessera DSL. May import src/dsl and src/experiments (declarations
 * and pure SQL/statistics, no I/O).
 * raw (landed by sources) → core (SCD2 history, snapshots, facts) → clickstream / marketing / experiments
 * → marts (published in groups) and ML features.
 */
import { defineDefinitions } from '../dsl/index.js';
import { clickstreamAssets } from './clickstream.js';
import { coreAssets } from './core.js';
import { experimentAssets } from './experiments.js';
import { marketingAssets } from './marketing.js';
import { mlAssets } from './ml.js';
import { rawAssets } from './raw.js';
import { reportingAssets } from './reporting.js';

export const bookMyEvent = defineDefinitions({
  assets: [
    ...rawAssets,
    ...coreAssets,
    ...clickstreamAssets,
    ...marketingAssets,
    ...experimentAssets,
    ...reportingAssets,
    ...mlAssets,
  ],
  publishGroups: [
    { name: 'finance', description: 'Revenue, vendor performance and LTV: read together by finance' },
    { name: 'marketing', description: 'Spend and ROAS' },
    { name: 'experiments', description: 'A/B test results' },
  ],
  schedules: [
    { name: 'clickstream_hourly', cron: '15 * * * *', selection: 'group:clickstream', timezone: 'UTC' },
    {
      name: 'daily',
      cron: '30 2 * * *',
      timezone: 'UTC',
      selection: 'not group:raw',
      publishGroups: ['finance', 'marketing', 'experiments'],
    },
  ],
  alertRoutes: [{ name: 'log', type: 'log' }],
});

export default bookMyEvent;
