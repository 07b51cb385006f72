import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCodeVersion, normalizeSql, type CodeVersionInput } from '../../src/dsl/code-version.js';
import { daily, hourly } from '../../src/dsl/partitions/index.js';

const base: CodeVersionInput = {
  kind: 'fact',
  sql: 'select a, b from raw.t where x = 1',
  deps: [{ key: 'raw.t' }],
};
const version = (over: Partial<CodeVersionInput>): string => computeCodeVersion({ ...base, ...over });

describe('normalizeSql', () => {
  it('drops comments and canonicalizes whitespace outside literals', () => {
    expect(normalizeSql('select  a ,b -- note\nfrom /* block */ t')).toBe('select a,b from t');
  });
  it('keeps literals and quoted identifiers verbatim, comments markers included', () => {
    expect(normalizeSql('select \'  -- not a comment /* */ \', "my  col" from t')).toBe(
      'select\'  -- not a comment /* */ \',"my  col"from t',
    );
  });
  it("handles doubled quotes inside literals ('it''s')", () => {
    expect(normalizeSql("select 'it''s  --x' -- real\n")).toBe("select'it''s  --x'");
  });
  it('keeps case', () => {
    expect(normalizeSql('SELECT A')).not.toBe(normalizeSql('select a'));
  });
  it('a comment between two words still separates them', () => {
    expect(normalizeSql('select/**/a')).toBe('select a');
  });
});

describe('computeCodeVersion', () => {
  it('is a 16-char hex string and deterministic', () => {
    expect(version({})).toMatch(/^[0-9a-f]{16}$/);
    expect(version({})).toBe(version({}));
  });
  it('ignores comments, whitespace and dep order', () => {
    const sql = 'select a,\n  b -- the b column\nfrom raw.t /* source */ where x=1';
    expect(version({ sql })).toBe(version({}));
    const two = [{ key: 'raw.a' }, { key: 'raw.b' }];
    expect(version({ deps: two })).toBe(version({ deps: [...two].reverse() }));
  });
  it('changes with whitespace inside a literal', () => {
    expect(version({ sql: "select 'a b'" })).not.toBe(version({ sql: "select 'a  b'" }));
  });
  it('changes with everything that changes output', () => {
    const v = version({});
    const changes: Partial<CodeVersionInput>[] = [
      { kind: 'mart' },
      { sql: 'select a from raw.t' },
      { partitions: daily({ start: '2026-01-01' }) },
      { deps: [{ key: 'raw.u' }] },
      { version: '2' },
      { engine: 'bigquery' },
      { primaryKey: ['a'] },
    ];
    for (const change of changes) expect(version(change), JSON.stringify(Object.keys(change))).not.toBe(v);
    expect(version({ partitions: daily({ start: '2026-01-01' }) })).not.toBe(
      version({ partitions: hourly({ start: '2026-01-01T00' }) }),
    );
  });
});

describe('normalization property', () => {
  const word = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/);
  const punct = fc.constantFrom(',', '(', ')', '=', '<', '>', '+', '-', '*', '/', '.', ';', '||');
  const literal = fc.stringMatching(/^[a-z \-*/]{0,8}$/).map((s) => `'${s}'`);
  const token = fc.oneof(word, word, punct, literal);
  const separator = fc.constantFrom(
    ' ',
    '  ',
    '\n',
    '\t \n',
    ' /* c */ ',
    ' /* -- */ ',
    ' -- c\n',
    '/* x */',
  );

  it('inserting comments and whitespace between tokens keeps the hash', () => {
    fc.assert(
      fc.property(
        fc.array(token, { minLength: 1, maxLength: 20 }),
        fc.infiniteStream(separator),
        (tokens, seps) => {
          const plain = tokens.join(' ');
          const noisy = tokens.map((t) => `${t}${seps.next().value as string}`).join('');
          expect(version({ sql: ` ${noisy}` })).toBe(version({ sql: plain }));
        },
      ),
      { numRuns: 300 },
    );
  });
});
