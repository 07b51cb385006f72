/**
 * Live wiring without servers: config/live.yaml validates, `liveLoaders` builds a PostgresCdcLoader per
 * `postgres` source (replay clock as configured) beside the Kafka and landing loaders, and the replay horizon
 * raises a stream's watermark to the end of the replayed window, never lowers it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createDuckDbEngine } from '../../src/engines/index.js';
import { PostgresCdcLoader } from '../../src/sources/cdc/loader.js';
import { liveLoaders, withReplayHorizon } from '../../src/sources/live/live-loaders.js';
import type { IngestRequest, SourceLoader } from '../../src/sources/types.js';

const root = join(import.meta.dirname, '..', '..');

describe('live wiring', () => {
  it('config/live.yaml names the live sources, and liveLoaders builds them', async () => {
    const config = loadConfig({ file: join(root, 'config', 'live.yaml'), root, env: {} });
    expect(config.sources.user_db).toMatchObject({ type: 'postgres', replayClock: true });
    expect(config.sources.inventory_db).toMatchObject({ type: 'postgres', replayClock: true });
    expect(config.sources.snowplow).toMatchObject({ type: 'kafka', format: 'snowplow' });
    expect(config.sources.ads).toMatchObject({ type: 'ads_api' });
    const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
    try {
      const live = liveLoaders({
        engine,
        sources: config.sources,
        landingDir: '/nonexistent',
        piiKey: 'x'.repeat(16),
      });
      expect(live.loaders.user_db).toBeInstanceOf(PostgresCdcLoader);
      expect(live.loaders.inventory_db).toBeInstanceOf(PostgresCdcLoader);
      expect(live.loaders.snowplow).not.toBeInstanceOf(PostgresCdcLoader);
      // No live transport for FX; ads without endpoints stay on the landing loader (the demo swaps in the fakes).
      expect(Object.keys(live.loaders).sort()).toEqual(['ads', 'fx', 'inventory_db', 'snowplow', 'user_db']);
      await live.close();
    } finally {
      await engine.close();
    }
  });

  it('the replay horizon raises a watermark behind it and keeps one ahead of it', async () => {
    let watermark: string | undefined = '2026-11-03T23:58:00.000Z';
    const inner: SourceLoader = {
      ingest: async () => ({
        rowCount: 3,
        dataVersion: 'v',
        ...(watermark ? { watermark: { source: 'snowplow', watermark } } : {}),
      }),
      land: async () => ({ landed: 0, quarantined: 0 }),
    };
    const horizon = '2026-11-04T00:00:00.000Z';
    const l = withReplayHorizon(inner, 'snowplow', horizon);
    const req: IngestRequest = {
      assetKey: 'raw.snowplow_events',
      stream: 'enriched',
      partitionKey: 'p',
      heartbeat: () => undefined,
    };
    const r = await l.ingest(req);
    expect(r).toMatchObject({
      rowCount: 3,
      dataVersion: 'v',
      watermark: { source: 'snowplow', watermark: horizon },
    });
    watermark = '2026-11-05T01:00:00.000Z';
    expect((await l.ingest(req)).watermark?.watermark).toBe(watermark);
    expect((await l.land?.(() => undefined))?.watermark).toEqual({ source: 'snowplow', watermark: horizon });
  });
});
