import {
  SELECTION_ATTRIBUTES,
  type SelectionAttribute,
  type SelectionDepth,
  type SelectionNode,
} from './ast.js';
import { SelectionError } from './error.js';
import { tokenize, type Token } from './lexer.js';

/**
 * Recursive descent over the grammar (precedence not > and > or; `,` is a dbt-style `or`):
 *   or    := and (('or' | ',') and)*
 *   and   := unary ('and' unary)*
 *   unary := 'not' unary | [N]'+'? primary '+'[N]?
 *   primary := '(' or ')' | word
 */
export function parseSelection(selection: string): SelectionNode {
  const tokens = tokenize(selection);
  let i = 0;
  const peek = (): Token => tokens[i] ?? (tokens.at(-1) as Token);
  const fail = (token: Token, expected: string): never => {
    const found = token.type === 'end' ? 'end of input' : `'${token.type === 'plus' ? '+' : token.text}'`;
    throw new SelectionError(selection, token.position, `expected ${expected}, found ${found}`);
  };

  const parseOr = (): SelectionNode => {
    let left = parseAnd();
    while (peek().type === 'or' || peek().type === 'comma') {
      i += 1;
      left = { type: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): SelectionNode => {
    let left = parseUnary();
    while (peek().type === 'and') {
      i += 1;
      left = { type: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): SelectionNode => {
    const token = peek();
    if (token.type === 'not') {
      i += 1;
      return { type: 'not', operand: parseUnary() };
    }
    let upstream: SelectionDepth | undefined;
    if (token.type === 'plus') {
      upstream = token.depth ?? 'all';
      i += 1;
    }
    const of = parsePrimary();
    let downstream: SelectionDepth | undefined;
    const after = peek();
    if (after.type === 'plus') {
      downstream = after.depth ?? 'all';
      i += 1;
    }
    if (upstream === undefined && downstream === undefined) return of;
    return {
      type: 'graph',
      of,
      ...(upstream !== undefined ? { upstream } : {}),
      ...(downstream !== undefined ? { downstream } : {}),
    };
  };
  const parsePrimary = (): SelectionNode => {
    const token = peek();
    if (token.type === 'lparen') {
      i += 1;
      const inner = parseOr();
      if (peek().type !== 'rparen') fail(peek(), "')'");
      i += 1;
      return inner;
    }
    if (token.type !== 'word') return fail(token, 'a key, a glob or tag:/kind:/owner:/group:/schema:');
    i += 1;
    return wordToNode(selection, token.text, token.position);
  };

  const root = parseOr();
  if (peek().type !== 'end') fail(peek(), "'and', 'or', ',' or end of input");
  return root;
}

function wordToNode(selection: string, text: string, position: number): SelectionNode {
  const colon = text.indexOf(':');
  if (colon === -1) return { type: 'key', pattern: text, position };
  const attribute = text.slice(0, colon);
  const value = text.slice(colon + 1);
  if (!(SELECTION_ATTRIBUTES as readonly string[]).includes(attribute)) {
    throw new SelectionError(
      selection,
      position,
      `unknown selector "${attribute}:"; expected one of ${SELECTION_ATTRIBUTES.map((a) => `${a}:`).join(', ')}`,
    );
  }
  if (value === '') {
    throw new SelectionError(selection, position + colon + 1, `expected a value after "${attribute}:"`);
  }
  return { type: 'attribute', attribute: attribute as SelectionAttribute, value, position };
}
