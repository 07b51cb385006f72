import { DateTime } from 'luxon';
import { canonicalTimestamp } from '../cdc/canonical.js';
import { parsePgLsn } from '../cdc/lsn.js';
import { parsePgArray, type PgTypeRegistry } from '../cdc/pg-types.js';
import type { Wal2JsonColumn, Wal2JsonTransaction } from '../cdc/wal2json.js';
import type { ConnectSchema } from './connect.js';

/**
 * Writes captured PostgreSQL changes (wal2json transactions, snapshot rows) as the Debezium PostgreSQL
 * connector (pgoutput, schemas.enable=true, provide.transaction.metadata=true) would: the envelope, or
 * the ExtractNewRecordState flattening. Fills landing folders and Kafka topics for the demo and tests.
 * Like pgoutput on PostgreSQL 15, transactions without captured changes or messages are not emitted
 * and do not move `sequence[0]`.
 */

export interface EncoderOptions {
  /** Debezium `topic.prefix` (source.name). */
  readonly server: string;
  /** Physical database name (source.db). */
  readonly db: string;
  readonly variant?: 'envelope' | 'flattened';
}

export interface EncodedEvent {
  readonly topic: string;
  /** The JSON value (`{schema, payload}`). */
  readonly value: Record<string, unknown>;
}

export interface SnapshotColumn {
  readonly name: string;
  readonly type: string;
  readonly typeoid: number;
}

const micros = (iso: string): bigint => {
  const c = canonicalTimestamp(iso);
  const ms = DateTime.fromISO(c, { zone: 'utc' }).toMillis();
  return BigInt(ms) * 1000n + BigInt(Number(c.slice(23, 26)));
};

function base64Unscaled(text: string, scale: number): string {
  const [int = '0', frac = ''] = text.replace(/^-/, '').split('.');
  let n = BigInt(int + frac.padEnd(scale, '0').slice(0, scale));
  if (text.startsWith('-')) n = -n;
  // Minimal big-endian two's complement, as java.math.BigInteger.toByteArray() writes it.
  let bytes = 1;
  while (n >= 1n << BigInt(bytes * 8 - 1) || n < -(1n << BigInt(bytes * 8 - 1))) bytes++;
  const unsigned = n < 0n ? (1n << BigInt(bytes * 8)) + n : n;
  return Buffer.from(unsigned.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}

/** Debezium's ZonedTimestamp text: ISO_OFFSET_DATE_TIME in UTC, fraction without trailing zeros. */
function zoned(iso: string): string {
  const c = canonicalTimestamp(iso);
  const frac = c.slice(20, 26).replace(/0+$/, '');
  return `${c.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

export class DebeziumEncoder {
  private lastCommit: bigint | undefined;

  constructor(
    private readonly types: PgTypeRegistry,
    private readonly opts: EncoderOptions,
  ) {}

  /** A snapshot read of one row (`values` as `col::text`); `position` first/last marks the snapshot's ends. */
  snapshotRow(
    table: { schema: string; name: string },
    columns: readonly SnapshotColumn[],
    values: readonly (string | null)[],
    at: { lsn: string; time: string },
    position: 'first' | 'true' | 'last' = 'true',
  ): EncodedEvent {
    const cols = columns.map((c, i) => ({ ...c, value: values[i] ?? null }));
    return this.event(table, 'r', cols, undefined, {
      lsn: parsePgLsn(at.lsn),
      txId: null,
      time: at.time,
      snapshot: position,
      order: undefined,
    });
  }

  transaction(tx: Wal2JsonTransaction): EncodedEvent[] {
    if (tx.changes.length === 0 && tx.messages.length === 0) return [];
    const out: EncodedEvent[] = [];
    const perTable = new Map<string, number>();
    tx.messages.forEach((m) => {
      out.push({
        topic: `${this.opts.server}.message`,
        value: {
          schema: null,
          payload: {
            op: 'm',
            ts_ms: Number(micros(tx.commitTime) / 1000n),
            source: this.source(
              { schema: '', name: '' },
              m.lsn ? parsePgLsn(m.lsn) : 0n,
              tx.xid,
              tx.commitTime,
              'false',
            ),
            message: { prefix: m.prefix, content: Buffer.from(m.content).toString('base64') },
          },
        },
      });
    });
    tx.changes.forEach((c, i) => {
      const n = (perTable.get(c.table) ?? 0) + 1;
      perTable.set(c.table, n);
      const table = { schema: c.schema, name: c.table };
      const after = c.action === 'I' || c.action === 'U' ? c.columns : undefined;
      const before = c.action === 'D' ? c.identity : c.action === 'U' ? c.identity : undefined;
      const op = ({ I: 'c', U: 'u', D: 'd', T: 't' } as const)[c.action];
      out.push(
        this.event(table, op, after, before, {
          lsn: parsePgLsn(c.lsn),
          txId: tx.xid,
          time: tx.commitTime,
          snapshot: 'false',
          order: { id: String(tx.xid), total_order: i + 1, data_collection_order: n },
        }),
      );
    });
    this.lastCommit = parsePgLsn(tx.endLsn);
    return out;
  }

  private source(
    table: { schema: string; name: string },
    lsn: bigint,
    txId: number | null,
    time: string,
    snapshot: string,
  ) {
    const us = micros(time);
    return {
      version: '2.7.3.Final',
      connector: 'postgresql',
      name: this.opts.server,
      ts_ms: Number(us / 1000n),
      ts_us: Number(us),
      ts_ns: Number(us) * 1000,
      snapshot,
      db: this.opts.db,
      sequence: JSON.stringify([
        this.lastCommit === undefined ? null : this.lastCommit.toString(),
        lsn.toString(),
      ]),
      schema: table.schema,
      table: table.name,
      txId,
      lsn: Number(lsn),
      xmin: null,
    };
  }

  private event(
    table: { schema: string; name: string },
    op: 'c' | 'u' | 'd' | 'r' | 't',
    after: readonly Wal2JsonColumn[] | undefined,
    before: readonly Wal2JsonColumn[] | undefined,
    meta: {
      lsn: bigint;
      txId: number | null;
      time: string;
      snapshot: string;
      order: Record<string, unknown> | undefined;
    },
  ): EncodedEvent {
    const topic = `${this.opts.server}.${table.schema}.${table.name}`;
    const image = after ?? before ?? [];
    const fields = image.map((c) => this.fieldSchema(c));
    const encode = (cols: readonly Wal2JsonColumn[] | undefined) =>
      cols ? Object.fromEntries(cols.map((c) => [c.name, this.value(c)])) : null;
    const source = this.source(table, meta.lsn, meta.txId, meta.time, meta.snapshot);
    if (this.opts.variant === 'flattened') {
      const row = op === 't' ? {} : (encode(op === 'd' ? before : after) ?? {});
      const metaFields: [string, string, unknown][] = [
        ['__op', 'string', op],
        ['__table', 'string', table.name],
        ['__lsn', 'int64', source.lsn],
        ['__txId', 'int64', meta.txId],
        ['__source_ts_us', 'int64', source.ts_us],
        ['__sequence', 'string', source.sequence],
        ['__snapshot', 'string', meta.snapshot],
        ['__deleted', 'string', String(op === 'd')],
      ];
      return {
        topic,
        value: {
          schema: {
            type: 'struct',
            name: `${topic}.Value`,
            optional: false,
            fields: [...fields, ...metaFields.map(([f, t]) => ({ type: t, optional: true, field: f }))],
          },
          payload: { ...row, ...Object.fromEntries(metaFields.map(([f, , v]) => [f, v])) },
        },
      };
    }
    const valueSchema = (field: string): ConnectSchema => ({
      type: 'struct',
      optional: true,
      name: `${topic}.Value`,
      field,
      fields,
    });
    return {
      topic,
      value: {
        schema: {
          type: 'struct',
          optional: false,
          name: `${topic}.Envelope`,
          version: 2,
          fields: [
            valueSchema('before'),
            valueSchema('after'),
            {
              type: 'struct',
              optional: false,
              name: 'io.debezium.connector.postgresql.Source',
              field: 'source',
              fields: [],
            },
            { type: 'string', optional: false, field: 'op' },
            { type: 'int64', optional: true, field: 'ts_ms' },
          ],
        },
        payload: {
          before: op === 'c' || op === 'r' ? null : encode(before),
          after: op === 'd' || op === 't' ? null : encode(after),
          source,
          op,
          ts_ms: source.ts_ms,
          transaction: meta.order ?? null,
        },
      },
    };
  }

  /** Needs type names (PEEK_SQL_TYPED): numeric(p,s) and timestamp(p) pick Debezium's encoding. */
  private fieldSchema(c: Wal2JsonColumn): ConnectSchema {
    const base = this.schemaOf(c.type ?? '', c.typeoid);
    return { ...base, optional: true, field: c.name };
  }

  private schemaOf(typeName: string, oid: number): ConnectSchema {
    const t = this.types.get(oid);
    if (t?.kind === 'array')
      return { type: 'array', items: this.schemaOf(typeName.replace(/\[\]$/, ''), t.elem?.oid ?? 25) };
    switch (oid) {
      case 21:
        return { type: 'int16' };
      case 23:
        return { type: 'int32' };
      case 20:
      case 26:
        return { type: 'int64' };
      case 700:
        return { type: 'float32' };
      case 701:
        return { type: 'float64' };
      case 16:
        return { type: 'boolean' };
      case 1082:
        return { type: 'int32', name: 'io.debezium.time.Date', version: 1 };
      case 1083:
        return { type: 'int64', name: 'io.debezium.time.MicroTime', version: 1 };
      case 1114: {
        const p = Number(/\((\d)\)/.exec(typeName)?.[1] ?? 6);
        return p <= 3
          ? { type: 'int64', name: 'io.debezium.time.Timestamp', version: 1 }
          : { type: 'int64', name: 'io.debezium.time.MicroTimestamp', version: 1 };
      }
      case 1184:
        return { type: 'string', name: 'io.debezium.time.ZonedTimestamp', version: 1 };
      case 114:
      case 3802:
        return { type: 'string', name: 'io.debezium.data.Json', version: 1 };
      case 17:
        return { type: 'bytes' };
      case 1700: {
        const m = /numeric\((\d+),(\d+)\)/.exec(typeName);
        if (!m)
          return { type: 'struct', name: 'io.debezium.data.VariableScaleDecimal', version: 1, fields: [] };
        return {
          type: 'bytes',
          name: 'org.apache.kafka.connect.data.Decimal',
          version: 1,
          parameters: { scale: m[2] ?? '0', 'connect.decimal.precision': m[1] ?? '38' },
        };
      }
      default:
        return { type: 'string' };
    }
  }

  private value(c: Wal2JsonColumn): unknown {
    return this.encodeValue(this.schemaOf(c.type ?? '', c.typeoid), c.value ?? null, c.typeoid);
  }

  private encodeValue(s: ConnectSchema, v: unknown, oid: number): unknown {
    if (v === null || v === undefined) return null;
    const text = String(v);
    switch (s.name) {
      case 'io.debezium.time.Date':
        return Math.round(DateTime.fromISO(text, { zone: 'utc' }).toMillis() / 86_400_000);
      case 'io.debezium.time.MicroTime': {
        const [h = 0, m = 0, sec = 0] = text.split(':').map(Number);
        return Math.round((h * 3600 + m * 60 + sec) * 1e6);
      }
      case 'io.debezium.time.Timestamp':
        return Number(micros(text) / 1000n);
      case 'io.debezium.time.MicroTimestamp':
        return Number(micros(text));
      case 'io.debezium.time.ZonedTimestamp':
        return zoned(text);
      case 'org.apache.kafka.connect.data.Decimal':
        return base64Unscaled(text, Number(s.parameters?.['scale'] ?? 0));
      case 'io.debezium.data.VariableScaleDecimal': {
        const scale = text.includes('.') ? (text.split('.')[1] ?? '').length : 0;
        return { scale, value: base64Unscaled(text, scale) };
      }
      default:
        break;
    }
    switch (s.type) {
      case 'int16':
      case 'int32':
      case 'int64':
      case 'float32':
      case 'float64':
        return Number(text);
      case 'boolean':
        return v === true || text === 't' || text === 'true';
      case 'bytes':
        return Buffer.from(text.replace(/^\\x/, ''), 'hex').toString('base64');
      case 'array': {
        const t = this.types.get(oid);
        return parsePgArray(text, t?.elem ?? { oid: 25, kind: 'text' });
      }
      default:
        return text;
    }
  }
}
