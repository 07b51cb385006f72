/**
 * A Temporal dev server of a test's own (its port, its database file), for tests that restart or wipe the server:
 * doing that to the shared one would break every other file running beside them.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repo } from '../cli/helpers.js';

export interface PrivateTemporal {
  readonly address: string;
  /** Stops the server and starts it again on the same database: workflows survive. */
  restart(): Promise<void>;
  /** Stops the server, deletes its database and starts an empty one. */
  wipe(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPrivateTemporal(stateDir: string): Promise<PrivateTemporal> {
  const [port, uiPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    TESSERA_STATE_DIR: stateDir,
    TESSERA_TEMPORAL_PORT: String(port),
    TESSERA_TEMPORAL_UI_PORT: String(uiPort),
  };
  const script = join(repo, 'scripts', 'services', 'temporal.sh');
  const run = (...args: string[]) =>
    promisify(execFile)('bash', [script, ...args], { env, timeout: 180_000 }).then(() => undefined);
  await run('start', '--headless');
  return {
    address: `127.0.0.1:${port}`,
    async restart() {
      await run('stop');
      await run('start', '--headless');
    },
    async wipe() {
      await run('stop');
      for (const f of ['temporal.db', 'temporal.db-wal', 'temporal.db-shm'])
        rmSync(join(stateDir, f), { force: true });
      await run('start', '--headless');
    },
    stop: () => run('stop'),
  };
}
