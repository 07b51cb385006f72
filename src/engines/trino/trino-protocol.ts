/**
 * Pure helpers for Trino's HTTP protocol (no I/O): splitting scripts into statements, binding `?`
 * parameters as literals, and parsing response JSON without losing BIGINT precision.
 */

/** Splits a script on `;` outside quotes and comments; empty statements are dropped. */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < script.length) {
    const ch = script[i] ?? '';
    const next = script[i + 1] ?? '';
    if (ch === "'" || ch === '"') {
      const end = closingQuote(script, i, ch);
      current += script.slice(i, end);
      i = end;
    } else if (ch === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end;
    } else if (ch === '/' && next === '*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? script.length : end + 2;
    } else if (ch === ';') {
      if (current.trim()) out.push(current.trim());
      current = '';
      i++;
    } else {
      current += ch;
      i++;
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** Index just past the quote closing the one at `start` (doubled quotes are escapes). */
function closingQuote(s: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < s.length) {
    if (s[i] === quote) {
      if (s[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return s.length;
}

/** Replaces each `?` outside quotes with the next rendered literal; the counts must match. */
export function bindParameters(sql: string, literals: readonly string[]): string {
  let out = '';
  let used = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] ?? '';
    if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '?') {
      const lit = literals[used++];
      if (lit === undefined)
        throw new Error(`more ? placeholders than the ${literals.length} parameter(s) given`);
      out += lit;
      i++;
    } else {
      out += ch;
      i++;
    }
  }
  if (used !== literals.length) {
    throw new Error(`${literals.length} parameter(s) given for ${used} ? placeholder(s)`);
  }
  return out;
}

/**
 * JSON.parse, except that integers too large for a double arrive as strings (Trino sends BIGINT as a
 * JSON number; 9007199254740993 would silently become ...992). Numbers inside strings are untouched.
 */
export function parseJsonKeepingBigInts(text: string): unknown {
  const guarded = text.replace(/"(?:[^"\\]|\\.)*"|(?<![.\deE+-])-?\d{16,}(?![.eE\d])/g, (m) => {
    if (m.startsWith('"')) return m;
    const big = BigInt(m);
    return big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER) ? `"${m}"` : m;
  });
  return JSON.parse(guarded);
}
