/**
 * PostgreSQL WAL positions. The server prints them as `X/Y` (two hex halves); raw tables store them as
 * 16 zero-padded hex digits so text order is numeric order; Debezium carries them as decimal numbers.
 */

export type Lsn = bigint;

export function parsePgLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatPgLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The raw-table spelling: 16 upper-case hex digits. */
export function lsnHex(lsn: Lsn): string {
  return lsn.toString(16).toUpperCase().padStart(16, '0');
}

export function pgLsnToHex(text: string): string {
  return lsnHex(parsePgLsn(text));
}

/** Debezium's `source.lsn` / `sequence` entries: a decimal number (or its string). */
export function decimalLsn(value: number | string): Lsn {
  const text = String(value);
  if (!/^\d+$/.test(text)) throw new Error(`not a decimal LSN: ${JSON.stringify(value)}`);
  return BigInt(text);
}
