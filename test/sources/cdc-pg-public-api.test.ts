/**
 * Issue 15 finding 12: capture uses node-postgres through its public API only. The replication stream runs
 * START_REPLICATION as a Submittable (pg hands it the connection and routes the stream's messages to it) instead of
 * casting a pg.Client to reach its private `connection` field, which a minor pg release may rename. The stream
 * itself is exercised against PostgreSQL by cdc-postgres, cdc-stream-equal and cdc-loader-live.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ReplicationQuery } from '../../src/sources/cdc/replication-query.js';

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('CDC and node-postgres', () => {
  it("no module reads a pg.Client's private connection", async () => {
    const offenders: string[] = [];
    for (const file of await sources('src')) {
      const text = await readFile(file, 'utf8');
      if (
        /\{\s*connection\s*:\s*\w+\s*\}\s*\)\s*\.connection|\._connection\b|client\.connection\b/.test(text)
      )
        offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });

  it('START_REPLICATION is a Submittable pg accepts, fed the stream through its handlers', () => {
    const frames: Buffer[] = [];
    const ended: (Error | undefined)[] = [];
    let started = 0;
    const q = new ReplicationQuery('START_REPLICATION SLOT "s" LOGICAL 0/0', {
      started: () => started++,
      frame: (c) => frames.push(c),
      ended: (e) => ended.push(e),
    });
    // What pg does with a Submittable: submit() with the connection, then the running query's messages.
    const sent: string[] = [];
    const chunks: Buffer[] = [];
    const listeners = new Map<string, () => void>();
    const connection = {
      once: (event: string, fn: () => void) => listeners.set(event, fn),
      removeListener: (event: string) => listeners.delete(event),
      query: (text: string) => sent.push(text),
      sendCopyFromChunk: (c: Buffer) => chunks.push(c),
      sendCopyFail: () => undefined,
      stream: { pause: () => undefined, resume: () => undefined },
    };
    const submittable: pg.Submittable = q;
    submittable.submit(connection as unknown as pg.Connection);
    expect(sent).toEqual(['START_REPLICATION SLOT "s" LOGICAL 0/0']);
    listeners.get('replicationStart')?.();
    q.handleCopyData({ chunk: Buffer.from('k') });
    expect(q.send(Buffer.from('r'))).toBe(true);
    q.handleError(new Error('terminated'));
    expect(started).toBe(1);
    expect(frames).toEqual([Buffer.from('k')]);
    expect(chunks).toEqual([Buffer.from('r')]);
    expect(ended.map((e) => e?.message)).toEqual(['terminated']);
    expect(q.send(Buffer.from('r'))).toBe(false); // ended: nothing is written to a finished query
    expect(listeners.has('replicationStart')).toBe(false);
  });
});
