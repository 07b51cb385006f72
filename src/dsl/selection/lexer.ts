import { SelectionError } from './error.js';

/**
 * Tokens of the selection syntax. `+` carries its optional depth: `2+` before an atom, `+2` after one.
 * Words are keys, globs and `attr:value`; `and`/`or`/`not` are keywords (any case).
 */
export type Token =
  | { readonly type: 'word'; readonly text: string; readonly position: number }
  | {
      readonly type: 'plus';
      readonly depth: number | undefined;
      readonly position: number;
      readonly end: number;
    }
  | {
      readonly type: 'and' | 'or' | 'not' | 'comma' | 'lparen' | 'rparen' | 'end';
      readonly text: string;
      readonly position: number;
    };

const WORD = /[A-Za-z_*][A-Za-z0-9_.*:\-/]*/y;
const PREFIX_PLUS = /(\d+)\+/y;
const SUFFIX_PLUS = /\+(\d+)?/y;
const SPACE = /\s+/y;
const PUNCT = { ',': 'comma', '(': 'lparen', ')': 'rparen' } as const;

export function tokenize(selection: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const match = (re: RegExp): RegExpExecArray | null => {
    re.lastIndex = i;
    return re.exec(selection);
  };
  while (i < selection.length) {
    const c = selection[i] ?? '';
    let m: RegExpExecArray | null;
    if ((m = match(SPACE))) {
      i += m[0].length;
    } else if (c in PUNCT) {
      tokens.push({ type: PUNCT[c as keyof typeof PUNCT], text: c, position: i });
      i += 1;
    } else if ((m = match(PREFIX_PLUS))) {
      tokens.push({ type: 'plus', depth: Number(m[1]), position: i, end: i + m[0].length });
      i += m[0].length;
    } else if ((m = match(SUFFIX_PLUS))) {
      // `+2` only means a depth right after a word; `+` before a word never carries trailing digits.
      const last = tokens.at(-1);
      const afterWord = last?.type === 'word' && last.position + last.text.length === i;
      const text = afterWord ? m[0] : '+';
      tokens.push({
        type: 'plus',
        depth: afterWord && m[1] !== undefined ? Number(m[1]) : undefined,
        position: i,
        end: i + text.length,
      });
      i += text.length;
    } else if ((m = match(WORD))) {
      const text = m[0];
      const lower = text.toLowerCase();
      if (lower === 'and' || lower === 'or' || lower === 'not')
        tokens.push({ type: lower, text, position: i });
      else tokens.push({ type: 'word', text, position: i });
      i += text.length;
    } else {
      throw new SelectionError(
        selection,
        i,
        `unexpected character '${c}'; expected a key, tag:/kind:/owner:/group:/schema:, '+', 'and', 'or', 'not' or '('`,
      );
    }
  }
  tokens.push({ type: 'end', text: '', position: selection.length });
  return tokens;
}
