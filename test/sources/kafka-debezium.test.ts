/**
 * Debezium events from a real Kafka broker: exactly once across a crash between write and offset commit,
 * the held-back last transaction (offset committed only up to it), tombstones, one partition only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { SourceConfigError } from '../../src/sources/cdc/errors.js';
import { PgTypeRegistry } from '../../src/sources/cdc/pg-types.js';
import type { Wal2JsonChange, Wal2JsonTransaction } from '../../src/sources/cdc/wal2json.js';
import { DebeziumEncoder } from '../../src/sources/debezium/encode.js';
import { consumeDebeziumTopic } from '../../src/sources/kafka/debezium-consumer.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { createTopic, deleteTopic, ensureKafka, produce, uniqueTopic } from '../helpers/kafka.js';

let brokers: string[];
let engine: Engine;
let sink: EngineRawSink;
const topics: string[] = [];

beforeAll(async () => {
  brokers = await ensureKafka();
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  sink = new EngineRawSink(engine);
});
afterAll(async () => {
  for (const t of topics) await deleteTopic(t);
  await engine?.close();
});

const encoder = new DebeziumEncoder(new PgTypeRegistry(), { server: 'bme', db: 'inventory' });
let lsn = 0x3000000;
const hex = (n: number) => `0/${n.toString(16).toUpperCase()}`;

/** A wal2json-shaped transaction on purchases (what slot B would have captured). */
function tx(
  xid: number,
  rows: { id: number; status: string; amount: string }[],
  op: 'I' | 'U' = 'I',
): Wal2JsonTransaction {
  const time = `2026-11-25 10:00:${String(xid % 60).padStart(2, '0')}.123456+00`;
  const changes = rows.map((r): Wal2JsonChange => {
    lsn += 0x100;
    const columns = [
      { name: 'purchase_id', type: 'bigint', typeoid: 20, value: String(r.id) },
      { name: 'status', type: 'purchase_status', typeoid: 25, value: r.status },
      { name: 'amount', type: 'numeric(12,2)', typeoid: 1700, value: r.amount },
      { name: 'placed_at', type: 'timestamp with time zone', typeoid: 1184, value: time },
    ];
    return op === 'I'
      ? { action: 'I', xid, timestamp: time, lsn: hex(lsn), schema: 'public', table: 'purchases', columns }
      : {
          action: 'U',
          xid,
          timestamp: time,
          lsn: hex(lsn),
          schema: 'public',
          table: 'purchases',
          columns,
          identity: columns,
        };
  });
  lsn += 0x200;
  const commit = lsn;
  lsn += 0x30;
  return { xid, commitLsn: hex(commit), endLsn: hex(lsn), commitTime: time, changes, messages: [] };
}

function heartbeat(xid: number): Wal2JsonTransaction {
  lsn += 0x50;
  const at = lsn;
  lsn += 0x30;
  const time = '2026-11-25 10:05:00.000001+00';
  return {
    xid,
    commitLsn: hex(at),
    endLsn: hex(lsn),
    commitTime: time,
    changes: [],
    messages: [
      {
        action: 'M',
        xid,
        timestamp: time,
        lsn: hex(at),
        transactional: true,
        prefix: 'tessera_heartbeat',
        content: 'hb',
      },
    ],
  };
}

const values = (txs: Wal2JsonTransaction[]) =>
  txs.flatMap((t) => encoder.transaction(t).map((e) => JSON.stringify(e.value)));
const rows = () =>
  engine.query(
    `SELECT _lsn, _seq, _txid, _op, purchase_id, status, amount FROM raw.inventory_db_purchases_changes ORDER BY _lsn, _seq`,
  );

describe('consumeDebeziumTopic', () => {
  it('lands exactly once across a crash between write and commit, holding back the last transaction', async () => {
    const topic = uniqueTopic('bme.inventory');
    topics.push(topic);
    await createTopic(topic);
    const t1 = tx(1001, [
      { id: 1, status: 'pending', amount: '150.00' },
      { id: 2, status: 'pending', amount: '-0.01' },
    ]);
    const t2 = tx(1002, [{ id: 1, status: 'confirmed', amount: '150.00' }], 'U');
    const t3 = tx(1003, [{ id: 2, status: 'cancelled', amount: '-0.01' }], 'U');
    const [first, ...rest] = values([t1, t2, t3]);
    await produce(topic, [first ?? '', null, ...rest]); // a tombstone between events
    const opts = { source: 'inventory_db', brokers, groupId: `g-${topic}`, maxWaitMs: 20_000 };

    await expect(
      consumeDebeziumTopic(topic, sink, {
        ...opts,
        hooks: { beforeCommit: () => Promise.reject(new Error('injected crash before commit')) },
      }),
    ).rejects.toThrow('injected crash');
    const afterCrash = await rows();
    expect(afterCrash).toHaveLength(3); // t1 and t2 landed; t3 waits for the next event to learn its position

    const again = await consumeDebeziumTopic(topic, sink, opts);
    expect(again).toMatchObject({
      changes: 3,
      inserted: 0,
      tombstones: 1,
      pending: `${topic}/0/4`,
      committed: '4',
    });
    expect(await rows()).toEqual(afterCrash);
    expect(
      afterCrash.map((r) => [r['_lsn'], r['_seq'], r['_txid'], r['_op'], r['status'], r['amount']]),
    ).toEqual([
      [t1.endLsn.replace('0/', '').padStart(16, '0'), 0, 1001, 'c', 'pending', 150],
      [t1.endLsn.replace('0/', '').padStart(16, '0'), 1, 1001, 'c', 'pending', -0.01],
      [t2.endLsn.replace('0/', '').padStart(16, '0'), 0, 1002, 'u', 'confirmed', 150],
    ]);

    await produce(topic, values([heartbeat(1004)]));
    const next = await consumeDebeziumTopic(topic, sink, opts);
    expect(next).toMatchObject({ changes: 1, inserted: 1, committed: '6' }); // the heartbeat holds no rows: no need to re-read it
    expect(next.watermark?.watermark).toBe('2026-11-25T10:05:00.000000Z'); // just before the held-back heartbeat
    expect((await rows()).at(-1)).toMatchObject({ _txid: 1003, status: 'cancelled' });

    const idle = await consumeDebeziumTopic(topic, sink, opts); // nothing new: no group join at all
    expect(idle).toMatchObject({ messages: 0, changes: 0 });
  });

  it('refuses a topic with several partitions (no commit order across them)', async () => {
    const topic = uniqueTopic('bme.multi');
    topics.push(topic);
    await createTopic(topic, 3);
    await expect(
      consumeDebeziumTopic(topic, sink, { source: 'inventory_db', brokers, groupId: `g-${topic}` }),
    ).rejects.toBeInstanceOf(SourceConfigError);
  });
});
