/** The selection syntax (`+marts.daily_revenue`, `core.dim_users+2`, `tag:x and not kind:scd2`): lexer → parser → AST → evaluator. Pure; imports only ../errors and ../types. */
export * from './ast.js';
export { SelectionError } from './error.js';
export { tokenize, type Token } from './lexer.js';
export { parseSelection } from './parser.js';
export { evaluateSelection, selectKeys, type SelectableAsset, type SelectionUniverse } from './evaluate.js';
