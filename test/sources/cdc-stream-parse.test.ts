/**
 * parseWal2jsonLean (the stream source's parser): an update's old image is skipped only when the new image
 * has every column; otherwise (unchanged TOAST values) the result equals parseWal2json's.
 */
import { describe, expect, it } from 'vitest';
import { parseWal2json, parseWal2jsonLean } from '../../src/sources/cdc/wal2json.js';

const col = (name: string, value: string | number | null) =>
  `{"name":"${name}","typeoid":${typeof value === 'number' ? 1700 : 25},"value":${JSON.stringify(value)}}`;
const update = (columns: string[], identity: string[]) =>
  `{"action":"U","xid":7,"lsn":"0/1","timestamp":"2026-11-25 10:00:00+00","schema":"public","table":"t",` +
  `"columns":[${columns.join(',')}],"identity":[${identity.join(',')}]}`;

describe('parseWal2jsonLean', () => {
  it('drops a redundant old image and keeps exact numbers', () => {
    const data = update(
      [col('id', 1), col('note', 'say ,"identity":[ and {"name": here'), col('amount', 1.5)],
      [col('id', 1), col('note', 'old'), col('amount', 2)],
    ).replace('"value":1.5', '"value":1.50');
    const lean = parseWal2jsonLean(data);
    const full = parseWal2json(data);
    expect(lean).toEqual({ ...full, identity: undefined });
    expect(lean.action === 'U' && lean.columns.map((c) => c.value)).toEqual([
      '1',
      'say ,"identity":[ and {"name": here',
      '1.50',
    ]);
  });

  it('keeps the old image when the new one lacks columns (unchanged TOAST)', () => {
    const data = update([col('id', 1)], [col('id', 1), col('description', 'long text')]);
    expect(parseWal2jsonLean(data)).toEqual(parseWal2json(data));
  });

  it('parses other actions like parseWal2json', () => {
    const insert = `{"action":"I","xid":7,"lsn":"0/1","timestamp":"2026-11-25 10:00:00+00","schema":"public","table":"t","columns":[${col('id', 3)}]}`;
    expect(parseWal2jsonLean(insert)).toEqual(parseWal2json(insert));
  });
});
