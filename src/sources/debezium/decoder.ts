import { isoFromMicros, snapshotSeq } from '../cdc/canonical.js';
import type { ChangeRecord } from '../cdc/change.js';
import { SourceConfigError } from '../cdc/errors.js';
import { lsnHex } from '../cdc/lsn.js';
import type { PiiPolicy } from '../pii.js';
import type { ChangeOp, QuarantinedRecord, RawColumn, RawValue } from '../types.js';
import {
  DECLARED_TYPE_NAMES,
  declaredSchema,
  decodeConnectValue,
  inferRawType,
  rawTypeOfSchema,
  UNAVAILABLE_VALUE,
  type ConnectSchema,
  type DeclaredColumnTypes,
} from './connect.js';
import { normaliseEvent, type DebeziumEvent } from './events.js';

/**
 * Debezium events → ChangeRecords identical to logical decoding's for the same changes.
 *
 * The one thing a Debezium PostgreSQL event lacks is its transaction's commit position: `source.lsn` is
 * the change's own LSN, which is not in commit order across concurrent transactions (a long transaction's
 * early change has a lower LSN than a short one committed before it). But every event carries
 * `sequence[0]`, the end LSN of the last commit Debezium processed before it. So a transaction's `_lsn`
 * (end of its commit record, as logical decoding reports it) is the `sequence[0]` of the first event
 * after it. The decoder therefore holds the newest transaction back until the next event arrives (the
 * next transaction or a heartbeat message); `pendingOrigin` says where it starts, so a consumer commits
 * its offset only up to there and re-reads it next time.
 *
 * Requires one ordered stream per database (one file series, or a single-partition topic with every
 * table routed into it), which is also what keeps cross-table transactions in order.
 */

export interface DebeziumInput {
  /** The parsed message value; null for a tombstone. */
  readonly value: unknown;
  /** `file:line` or `topic/partition/offset`. */
  readonly origin: string;
  /** The message text as received (quarantined, redacted, when it cannot be decoded). */
  readonly text: string;
  /** Kafka topic, to name the table when the event does not (`prefix.schema.table`). */
  readonly topic?: string;
  /** Set when the text was not JSON: the input is quarantined with this reason. */
  readonly parseError?: string;
}

export interface DecoderStats {
  tombstones: number;
  metadata: number;
  messages: number;
  skipped: number;
  quarantined: number;
}

interface Image {
  readonly columns: RawColumn[];
  readonly values: Record<string, RawValue>;
}

type ChangeEvent = Extract<DebeziumEvent, { kind: 'change' }>;

interface Pending {
  readonly txid: number;
  readonly commitMicros: bigint;
  readonly origin: string;
  readonly build: ((lsn: string) => ChangeRecord)[];
  maxLsn: bigint;
  data: number;
}

export class DebeziumDecoder {
  readonly stats: DecoderStats = { tombstones: 0, metadata: 0, messages: 0, skipped: 0, quarantined: 0 };
  private pending: Pending | undefined;
  private resolvedUpTo: string | undefined;
  private readonly quarantined: QuarantinedRecord[] = [];
  private readonly tables: ReadonlySet<string> | undefined;
  private readonly columnCache = new Map<string, RawColumn[]>();
  private readonly declared: ReadonlyMap<string, ConnectSchema>;

  /**
   * `columnTypes` types the columns of events without schemas (`table.column` or `column`, as PII rules):
   * see `DeclaredColumnTypes`. A spelling that is not a declared type fails here, at start-up.
   */
  constructor(
    readonly source: string,
    private readonly pii: PiiPolicy,
    opts: { tables?: readonly string[]; columnTypes?: DeclaredColumnTypes } = {},
  ) {
    this.tables = opts.tables ? new Set(opts.tables.map((t) => t.split('.').pop() ?? t)) : undefined;
    const declared = new Map<string, ConnectSchema>();
    for (const [column, spec] of Object.entries(opts.columnTypes ?? {})) {
      const schema = declaredSchema(spec);
      if (!schema) {
        throw new SourceConfigError(
          source,
          `column type of ${column} must be one of ${DECLARED_TYPE_NAMES.join(', ')}; got ${JSON.stringify(spec)}`,
        );
      }
      declared.set(column, schema);
    }
    this.declared = declared;
  }

  /** Where the held-back transaction starts (undefined when nothing is held back). */
  get pendingOrigin(): string | undefined {
    return this.pending?.origin;
  }

  /** Changes decoded into the held-back transaction, waiting for its commit position. */
  get pendingChanges(): number {
    return this.pending?.build.length ?? 0;
  }

  /** True when the held-back transaction has rows (not only messages). */
  get pendingHasRows(): boolean {
    return (this.pending?.data ?? 0) > 0;
  }

  /**
   * Commit time (ISO) up to which the stream is complete: the newest resolved transaction, or just
   * before the held-back one (everything committed before it has arrived).
   */
  get completeUpTo(): string | undefined {
    const held = this.pending ? isoFromMicros(this.pending.commitMicros - 1n) : undefined;
    if (!held) return this.resolvedUpTo;
    return !this.resolvedUpTo || held > this.resolvedUpTo ? held : this.resolvedUpTo;
  }

  /** Records made complete by this input (snapshot rows at once, a transaction when the next one starts). */
  push(input: DebeziumInput): ChangeRecord[] {
    if (input.parseError !== undefined) {
      this.quarantine(input, `not JSON: ${input.parseError}`);
      return [];
    }
    let event: DebeziumEvent;
    try {
      event = normaliseEvent(input.value);
    } catch (e) {
      this.quarantine(input, `undecodable Debezium event: ${e instanceof Error ? e.message : String(e)}`);
      return [];
    }
    if (event.kind === 'tombstone') {
      this.stats.tombstones++;
      return [];
    }
    if (event.kind === 'metadata') {
      this.stats.metadata++;
      return [];
    }
    const table = event.table ?? input.topic?.split('.').pop();
    if (event.op !== 'm' && (!table || (this.tables && !this.tables.has(table)))) {
      if (!table) this.quarantine(input, 'event names no table (source.table, __table or topic)');
      else this.stats.skipped++;
      return [];
    }
    if (event.commitMicros === undefined) {
      this.quarantine(input, 'event has no commit time (source.ts_us / ts_ms, or __source_ts_ms)');
      return [];
    }
    const commitMicros = event.commitMicros;
    if (event.snapshot && event.op !== 'm') {
      if (event.lsn === undefined) {
        this.quarantine(input, 'snapshot event without source.lsn');
        return [];
      }
      const image = this.decodeImage(table ?? '', event, input);
      if (event.lastSnapshot) this.advance(isoFromMicros(commitMicros));
      if (!image) return [];
      return [this.record(event, table ?? '', 'r', lsnHex(event.lsn), null, commitMicros, input, image)];
    }
    const out: ChangeRecord[] = [];
    const continues = this.pending !== undefined && event.txid !== null && this.pending.txid === event.txid;
    if (this.pending && !continues) out.push(...this.resolve(event.lastCommitLsn));
    if (event.op === 'm') {
      this.stats.messages++;
      if (event.txid !== null && !this.pending)
        this.pending = this.open(event.txid, commitMicros, input.origin);
      return out;
    }
    if (event.txid === null) {
      this.quarantine(input, 'change event without source.txId (or __txId)');
      return out;
    }
    this.pending ??= this.open(event.txid, commitMicros, input.origin);
    const pending = this.pending;
    // The position is taken even when the event is quarantined: after a fix, its replay lands on the key it
    // would have had, and its neighbours' keys do not depend on it.
    const seq = pending.data++;
    if (event.lsn !== undefined && event.lsn > pending.maxLsn) pending.maxLsn = event.lsn;
    const image = this.decodeImage(table ?? '', event, input);
    if (!image) return out;
    pending.build.push((lsn) =>
      this.record(event, table ?? '', event.op as ChangeOp, lsn, seq, commitMicros, input, image),
    );
    return out;
  }

  /** Quarantine records produced since the last call. */
  drainQuarantine(): QuarantinedRecord[] {
    return this.quarantined.splice(0);
  }

  private open(txid: number, commitMicros: bigint, origin: string): Pending {
    return { txid, commitMicros, origin, build: [], maxLsn: 0n, data: 0 };
  }

  private resolve(endLsn: bigint | undefined): ChangeRecord[] {
    const p = this.pending;
    if (!p) return [];
    this.pending = undefined;
    if (endLsn === undefined || endLsn < p.maxLsn) {
      // The next event's sequence cannot place this transaction (older Debezium, or a filtered stream).
      const reason = `cannot place transaction ${p.txid}: next event's sequence[0] ${String(endLsn)} is not past its changes`;
      for (const b of p.build) {
        const r = b('0000000000000000');
        this.quarantined.push({ source: this.source, origin: r.origin, reason, raw: r.redactedInput() });
      }
      this.stats.quarantined += p.build.length;
      return [];
    }
    this.advance(isoFromMicros(p.commitMicros));
    const lsn = lsnHex(endLsn);
    return p.build.map((b) => b(lsn));
  }

  private advance(iso: string): void {
    if (!this.resolvedUpTo || iso > this.resolvedUpTo) this.resolvedUpTo = iso;
  }

  /** The event's row decoded now, so a value that cannot be read quarantines this event alone. */
  private decodeImage(table: string, e: ChangeEvent, input: DebeziumInput): Image | undefined {
    try {
      return this.image(table, e);
    } catch (err) {
      this.quarantine(input, `undecodable value: ${err instanceof Error ? err.message : String(err)}`, table);
      return undefined;
    }
  }

  private record(
    e: ChangeEvent,
    table: string,
    op: ChangeOp,
    lsn: string,
    seq: number | null,
    commitMicros: bigint,
    input: DebeziumInput,
    { columns, values }: Image,
  ): ChangeRecord {
    const finalSeq = seq ?? snapshotSeq(this.pii.values(table, values));
    return {
      table,
      op,
      lsn,
      seq: finalSeq,
      txid: op === 'r' ? null : e.txid,
      commitTime: isoFromMicros(commitMicros),
      columns,
      values,
      fullImage: op === 'c' || op === 'r',
      origin: input.origin,
      redactedInput: () => this.redact(table, input),
    };
  }

  /** Throws `<table>.<column>: <what was wrong>` for a value its schema (or declared type) cannot read. */
  private image(table: string, e: ChangeEvent): Image {
    const values: Record<string, RawValue> = {};
    if (!e.row) return { columns: [], values };
    if (e.columns) {
      for (const f of e.columns) {
        const name = f.field ?? '';
        let v = e.row[name];
        if (isUnavailable(v) && e.before && e.before[name] !== undefined) v = e.before[name]; // unchanged TOAST
        values[name] = isUnavailable(v) ? null : this.decodeColumn(table, name, f, v);
      }
      return { columns: this.columns(table, e.columns), values };
    }
    const columns: RawColumn[] = [];
    for (const [name, v] of Object.entries(e.row)) {
      const declared = this.declared.get(`${table}.${name}`) ?? this.declared.get(name);
      if (declared) {
        columns.push({ name, type: rawTypeOfSchema(declared) });
        values[name] = isUnavailable(v) ? null : this.decodeColumn(table, name, declared, v);
        continue;
      }
      const type = inferRawType(v);
      if (!type) continue; // a null without a schema: untyped, and NULL anyway
      columns.push({ name, type });
      values[name] = decodeConnectValue(undefined, v);
    }
    return { columns, values };
  }

  private decodeColumn(table: string, column: string, schema: ConnectSchema, v: unknown): RawValue {
    try {
      return decodeConnectValue(schema, v);
    } catch (e) {
      // The reason quotes the bad value, unless the column is PII (the reason is stored in quarantine).
      const detail = this.pii.action(table, column)
        ? `not a valid ${schema.name ?? schema.type} (value withheld: PII column)`
        : e instanceof Error
          ? e.message
          : String(e);
      throw new Error(`${table}.${column}: ${detail}`, { cause: e });
    }
  }

  private columns(table: string, fields: readonly ConnectSchema[]): RawColumn[] {
    let key = table;
    for (const f of fields) key += `|${f.field ?? ''}:${f.type}:${f.name ?? ''}`;
    let out = this.columnCache.get(key);
    if (!out) {
      out = fields.map((f) => ({ name: f.field ?? '', type: rawTypeOfSchema(f) }));
      this.columnCache.set(key, out);
    }
    return out;
  }

  private redact(table: string, input: DebeziumInput): string {
    if (!this.pii.active) return input.text;
    const walk = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(walk);
      if (v === null || typeof v !== 'object') return v;
      const obj = this.pii.redactObject(table, v as Record<string, unknown>);
      for (const k of Object.keys(obj)) obj[k] = walk(obj[k]);
      return obj;
    };
    return JSON.stringify(walk(input.value));
  }

  private quarantine(input: DebeziumInput, reason: string, table = '*'): void {
    this.stats.quarantined++;
    // An input we could not read may hold PII in clear; with PII rules on, keep only its fingerprint.
    const raw =
      this.pii.active && input.parseError !== undefined
        ? `<unparsed, ${input.text.length} bytes>`
        : this.redact(table, input);
    this.quarantined.push({ source: this.source, origin: input.origin, reason, raw });
  }
}

function isUnavailable(v: unknown): boolean {
  return v === UNAVAILABLE_VALUE;
}
