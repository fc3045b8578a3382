/**
 * Applying restrictions to a compiled state (spec: query-algebra §2, §5.6, §11, §12):
 * - dj.top sets or merges the state's Top;
 * - after a limiting Top, the limited rows become a subquery first;
 * - on an aggregation, conditions go to HAVING (or, where HAVING cannot name aliases, the
 *   aggregation becomes a subquery first);
 * - a condition on a computed attribute (renamed, calculated) needs a subquery, because
 *   WHERE cannot see select-list aliases;
 * - otherwise conditions are ANDed into WHERE.
 */
import type { Dialect } from '../adapters/adapter.js';
import { compileCondition, type ConditionContext, type SubqueryOperand } from './condition.js';
import { asSubquery, columnSql, fromColumnsOf, isLimiting, selectSql, type State } from './state.js';
import { Top, applyTop } from './top.js';

export interface Restriction {
  condition: unknown;
  semanticCheck: boolean;
}

export interface RestrictEnv {
  dialect: Dialect;
  toOperand(x: unknown): SubqueryOperand | null;
}

function context(state: State, semanticCheck: boolean, env: RestrictEnv): ConditionContext {
  const dialect = env.dialect;
  return {
    heading: state.heading,
    dialect,
    semanticCheck,
    toOperand: env.toOperand,
    selectSql: (s, attrs) => selectSql(s, dialect, attrs),
    column: (name) => columnSql(state, name, dialect),
    used: new Set(),
    // Asked only of names a string condition uses that the heading lacks: nothing to build per restriction.
    projectedAway: (name) => !state.heading.has(name) && fromColumnsOf(state).includes(name),
  };
}

export async function restrictState(state: State, r: Restriction, env: RestrictEnv): Promise<State> {
  const dialect = env.dialect;
  if (r.condition instanceof Top) return applyTop(state, r.condition, dialect);
  if (isLimiting(state.top)) state = asSubquery(state, dialect);
  // Where HAVING cannot name select-list aliases (PostgreSQL), restrict the grouped rows as a
  // derived table instead.
  if (state.groupBy && !dialect.capabilities.havingAliases) state = asSubquery(state, dialect);
  if (state.groupBy) {
    const sql = await compileCondition(r.condition, context(state, r.semanticCheck, env));
    return sql === 'TRUE' ? state : { ...state, having: [...state.having, sql] };
  }
  let ctx = context(state, r.semanticCheck, env);
  let sql = await compileCondition(r.condition, ctx);
  if (sql === 'TRUE') return state;
  if ([...ctx.used].some((n) => state.heading.get(n)?.expression)) {
    state = asSubquery(state, dialect);
    ctx = context(state, r.semanticCheck, env);
    sql = await compileCondition(r.condition, ctx);
  }
  return { ...state, where: [...state.where, sql] };
}
