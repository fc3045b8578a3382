/** Public names of the query algebra that index.ts re-exports. */

export { U, UniversalSet } from './universal.js';
export { Top, top } from './top.js';
export { DerivedExpression } from './expression.js';
export type { JoinOptions, AggrOptions, RestrictOptions, Operand, ProjArg, AggrArg } from './expression.js';
export type { ArrowOptions } from '../fetch/arrow.js';
