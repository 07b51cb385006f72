import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';

/** An in-memory DuckDB warehouse and the raw sink that lands into it. */
export interface MemoryWarehouse {
  engine: Engine;
  sink: EngineRawSink;
}

/**
 * Opens in-memory DuckDB warehouses for one test file and closes them all at once, so a test can compare what
 * two landing paths wrote without keeping its own list of engines.
 */
export function memoryWarehouses(): { open(): Promise<MemoryWarehouse>; closeAll(): Promise<void> } {
  const opened: Engine[] = [];
  return {
    async open() {
      const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
      opened.push(engine);
      return { engine, sink: new EngineRawSink(engine) };
    },
    async closeAll() {
      for (const e of opened.splice(0)) await e.close();
    },
  };
}
