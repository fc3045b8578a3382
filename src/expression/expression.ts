/**
 * QueryExpression: immutable, lazy relational expressions (API.md §3). Each operator returns a
 * new expression; nothing touches the database until a fetch compiles the expression's State.
 */
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { Not, compileCondition, type ConditionContext, isSubqueryOperand, type SubqueryOperand } from './condition.js';
import { asSubquery, columnSql, selectSql, type State } from './state.js';
import * as fetch from '../fetch/fetch.js';
import type { FetchOptions, Row, Column } from '../fetch/fetch.js';

export interface RestrictOptions {
  semanticCheck?: boolean;
}

/** Resolves table classes (static side) to expressions; set by the table module to avoid a cycle. */
export const operandResolver: { toExpression: (x: unknown) => QueryExpression | null } = {
  toExpression: (x) => (x instanceof QueryExpression ? x : null),
};

type Restriction = { condition: unknown; semanticCheck: boolean };

export abstract class QueryExpression implements SubqueryOperand, AsyncIterable<Row> {
  readonly isQueryExpression = true as const;
  protected _restrictions: Restriction[] = [];

  abstract get connection(): Connection;

  /** State of the expression before its own restrictions. */
  protected abstract baseState(): Promise<State>;

  /** Clone preserving the concrete class (a restricted table stays a table). */
  protected clone(): this {
    const c = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(c, this);
    c._restrictions = [...this._restrictions];
    return c;
  }

  async compileState(): Promise<State> {
    let state = await this.baseState();
    if (this._restrictions.length === 0) return state;
    // A restriction after a limit (Top) or a grouped query must apply to its result.
    if (state.top || state.groupBy) state = asSubquery(state, this.connection.dialect);
    const where = [...state.where];
    for (const r of this._restrictions) {
      const sql = await compileCondition(r.condition, this.conditionContext(state, r.semanticCheck));
      if (sql === 'TRUE') continue;
      where.push(sql);
    }
    return { ...state, where };
  }

  protected conditionContext(state: State, semanticCheck: boolean): ConditionContext {
    const dialect = this.connection.dialect;
    return {
      heading: state.heading,
      dialect,
      semanticCheck,
      toOperand: (x) => {
        const e = operandResolver.toExpression(x);
        return e ?? (isSubqueryOperand(x) ? x : null);
      },
      selectSql: (s, attrs) => selectSql(s, dialect, attrs),
      column: (name) => columnSql(state, name, dialect),
    };
  }

  async heading(): Promise<Heading> {
    return (await this.compileState()).heading;
  }

  /** SELECT statement text (for debugging and subqueries). */
  async sql(names?: string[]): Promise<string> {
    const s = await this.compileState();
    return selectSql(s, this.connection.dialect, names);
  }

  restrict(condition: unknown, opts: RestrictOptions = {}): this {
    const c = this.clone();
    c._restrictions.push({ condition, semanticCheck: opts.semanticCheck ?? true });
    return c;
  }

  /** `A - cond`: rows that do not match. */
  minus(condition: unknown, opts: RestrictOptions = {}): this {
    return this.restrict(new Not(condition), opts);
  }

  // ---- fetching (API.md §4) ----
  toDicts(opts: FetchOptions = {}): Promise<Row[]> {
    return fetch.toDicts(this, opts);
  }
  toArrays(...args: Array<string | FetchOptions>): Promise<Record<string, Column> | Column | Column[]> {
    return fetch.toArrays(this, args);
  }
  keys(opts: FetchOptions = {}): Promise<Row[]> {
    return fetch.keys(this, opts);
  }
  fetch1(): Promise<Row>;
  fetch1(attr: string): Promise<unknown>;
  fetch1(attr1: string, attr2: string, ...more: string[]): Promise<unknown[]>;
  fetch1(...attrs: string[]): Promise<unknown> {
    return fetch.fetch1(this, attrs);
  }
  count(): Promise<number> {
    return fetch.count(this);
  }
  async isEmpty(): Promise<boolean> {
    return (await this.count()) === 0;
  }
  [Symbol.asyncIterator](): AsyncIterator<Row> {
    return fetch.iterate(this, {})[Symbol.asyncIterator]();
  }
  iterate(opts: FetchOptions = {}): AsyncIterable<Row> {
    return fetch.iterate(this, opts);
  }
}


export function assertExpression(x: unknown, what: string): QueryExpression {
  const e = operandResolver.toExpression(x);
  if (!e) throw new DataJointError(`${what} must be a query expression or a table class`);
  return e;
}
