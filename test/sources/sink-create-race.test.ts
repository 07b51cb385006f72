/**
 * Two first batches creating one raw table at once (two Kafka partitions of `raw.snowplow_events`): DuckDB fails
 * the later transaction with "Catalog write-write conflict on create". ensureTable must treat the table the
 * other writer created as its own. Many sinks at once make the overlap certain on every machine.
 */
import { afterEach, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import type { RawColumn } from '../../src/sources/types.js';

let engine: Engine | undefined;
afterEach(async () => engine?.close());

it('creates a table many writers ask for at once, once', async () => {
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
  const columns: RawColumn[] = [
    { name: 'event_id', type: 'varchar' },
    { name: 'n', type: 'bigint' },
  ];
  const e = engine;
  const sinks = Array.from({ length: 16 }, () => new EngineRawSink(e));
  await Promise.all(sinks.map((s, i) => s.ensureTable(`raw.events_${i % 2}`, columns, ['event_id'])));
  for (const t of ['raw.events_0', 'raw.events_1']) {
    expect((await e.describeTable(t))?.map((c) => c.name)).toEqual(['event_id', 'n']);
  }
});
