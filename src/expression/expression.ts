/**
 * QueryExpression: immutable, lazy relational expressions (API.md §3). Each operator returns a
 * new expression; nothing touches the database until a fetch compiles the expression's State.
 * Operators are pure functions on States (join.ts, proj.ts, aggr.ts, union.ts, top.ts,
 * restrict.ts); this module only wires them to the expression objects.
 */
import { inspect } from 'node:util';
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { Not, isSubqueryOperand, isUniversalSet } from './condition.js';
import { selectSql, type State } from './state.js';
import { restrictState, type Restriction, type RestrictEnv } from './restrict.js';
import { joinStates, type JoinOptions } from './join.js';
import { parseProjArgs, projectState } from './proj.js';
import { aggrStates, type AggrOptions } from './aggr.js';
import { unionStates } from './union.js';
import * as fetch from '../fetch/fetch.js';
import { freshRead, freshStream } from './fresh-read.js';
import type { ArraysOptions, Fetch1Options, FetchOptions, Row, Column } from '../fetch/fetch.js';
import type { ArrowOptions } from '../fetch/arrow.js';
import { previewSync, previewError } from '../fetch/preview-sync.js';
import type { RecordBatch, Table as ArrowTable } from 'apache-arrow';

export interface RestrictOptions {
  semanticCheck?: boolean;
}
export type { JoinOptions } from './join.js';
export type { AggrOptions } from './aggr.js';

/** A query expression or a table class (whose instances are expressions). */
export type Operand = QueryExpression | (abstract new () => QueryExpression);

/** Arguments of proj: attribute names, `'*'`, `'-name'`, and one object of renamed/computed attributes. */
export type ProjArg = string | Record<string, string>;
/** Arguments of aggr: as proj, then optionally an options object. */
export type AggrArg = ProjArg | AggrOptions;

/**
 * An expression for an operand: an expression itself, or a new instance of a table class (any
 * class whose instances are expressions, recognized by its prototype), else null.
 */
export function toExpression(x: unknown): QueryExpression | null {
  if (x instanceof QueryExpression) return x;
  if (typeof x === 'function' && (x as { prototype?: unknown }).prototype instanceof QueryExpression) return new (x as new () => QueryExpression)();
  return null;
}

export abstract class QueryExpression implements AsyncIterable<Row> {
  readonly isQueryExpression = true as const;
  /** @internal */
  _restrictions: Restriction[] = [];

  abstract get connection(): Connection;

  /** State of the expression before its own restrictions. */
  /** @internal */
  abstract baseState(): Promise<State>;

  /** Clone preserving the concrete class (a restricted table stays a table). */
  /** @internal */
  clone(): this {
    const c = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(c, this);
    c._restrictions = [...this._restrictions];
    return c;
  }

  async compileState(): Promise<State> {
    let state = await this.baseState();
    const env: RestrictEnv = {
      dialect: this.connection.dialect,
      toOperand: (x) => {
        const e = toExpression(x);
        return e ?? (isSubqueryOperand(x) ? x : null);
      },
    };
    for (const r of this._restrictions) state = await restrictState(state, r, env);
    return state;
  }

  /** The restrictions applied to this expression, in order (read-only view, for describe()). */
  get appliedRestrictions(): ReadonlyArray<Readonly<Restriction>> {
    return this._restrictions;
  }

  async heading(): Promise<Heading> {
    return (await this.compileState()).heading;
  }

  /** SELECT statement text (for debugging and subqueries). */
  async sql(names?: string[]): Promise<string> {
    const s = await this.compileState();
    return selectSql(s, this.connection.dialect, names);
  }

  // ---- restriction (query-algebra §2, §12) ----
  restrict(condition: unknown, opts: RestrictOptions = {}): this {
    const c = this.clone();
    c._restrictions.push({ condition, semanticCheck: opts.semanticCheck ?? true });
    return c;
  }

  /** `A - cond`: rows that do not match. */
  minus(condition: unknown, opts: RestrictOptions = {}): this {
    return this.restrict(new Not(condition), opts);
  }

  // ---- operators producing new expressions ----
  /** `A * B`; `{ left: true }` keeps every row of A (requires A → B). */
  join(other: Operand, opts: JoinOptions = {}): QueryExpression {
    const b = this.operand(other, 'join');
    const a = this;
    return derive(this, 'join', [a, b], opts, async () => joinStates(await a.compileState(), await b.compileState(), opts, a.connection.dialect));
  }

  /** `A.extend(B)`: A's rows with B's attributes where they match (left join; requires A → B). */
  extend(other: Operand, opts: RestrictOptions = {}): QueryExpression {
    const b = this.operand(other, 'extend');
    const a = this;
    return derive(this, 'extend', [a, b], opts, async () =>
      joinStates(await a.compileState(), await b.compileState(), { left: true, semanticCheck: opts.semanticCheck ?? true }, a.connection.dialect, 'extend'),
    );
  }

  /** Select, rename, duplicate (`'(attr)'`) and compute attributes; the primary key is kept. */
  proj(...args: ProjArg[]): QueryExpression {
    const spec = parseProjArgs(args);
    const a = this;
    return derive(this, 'proj', [a], args, async () => projectState(await a.compileState(), spec, a.connection.dialect));
  }

  /**
   * Group `group` by this expression's primary key: `A.aggr(B, { n: 'count(*)' })`,
   * `A.aggr(B, '*', { n: '...' }, { excludeNonmatching: true })`.
   */
  aggr(group: Operand, ...args: AggrArg[]): QueryExpression {
    const b = this.operand(group, 'aggr');
    const { spec, options } = splitAggrArgs(args);
    const a = this;
    return derive(this, 'aggr', [a, b], args, async () => aggrStates(await a.compileState(), await b.compileState(), spec, options, a.connection.dialect));
  }

  /** `A + B`: entities of either (same primary key, no common secondary attributes). */
  union(other: Operand): QueryExpression {
    const b = this.operand(other, 'union');
    const a = this;
    return derive(this, 'union', [a, b], null, async () => unionStates(await a.compileState(), await b.compileState(), a.connection.dialect));
  }

  /** @internal */

  operand(x: unknown, op: string): QueryExpression {
    if (isUniversalSet(x)) {
      if (op === 'join') throw new DataJointError('table * dj.U(...) is not supported in DataJoint 2.0. Use dj.U(...).restrict(table) instead.');
      throw new DataJointError(`dj.U(...) cannot be an operand of ${op}`);
    }
    const e = toExpression(x);
    if (!e) throw new DataJointError(`The argument of ${op} must be a query expression or a table class`);
    if (e.connection !== this.connection) throw new DataJointError(`Cannot ${op} query expressions from different database connections`);
    return e;
  }

  // ---- fetching (API.md §4) ----
  toDicts(opts: FetchOptions = {}): Promise<Row[]> {
    return freshRead(this, () => fetch.toDicts(this, opts));
  }
  toArrays(opts?: ArraysOptions): Promise<Record<string, Column>>;
  toArrays(attr: string, opts: ArraysOptions & { includeKey: true }): Promise<[Row[], Column]>;
  toArrays(attr: string, opts?: ArraysOptions): Promise<Column>;
  toArrays(attr1: string, attr2: string, ...more: Array<string | ArraysOptions>): Promise<Column[]>;
  toArrays(...args: Array<string | ArraysOptions>): Promise<Record<string, Column> | Column | Column[]>;
  toArrays(...args: Array<string | ArraysOptions | undefined>): Promise<Record<string, Column> | Column | Column[]> {
    const given = args.filter((x): x is string | ArraysOptions => x !== undefined);
    return freshRead(this, () => fetch.toArrays(this, given));
  }
  /** The first `n` rows (default 25) in primary-key order. */
  head(n = 25, opts: FetchOptions = {}): Promise<Row[]> {
    return freshRead(this, () => fetch.head(this, n, opts));
  }
  /** The last `n` rows (default 25), in primary-key order. */
  tail(n = 25, opts: FetchOptions = {}): Promise<Row[]> {
    return freshRead(this, () => fetch.tail(this, n, opts));
  }
  /** The rows as an apache-arrow Table (apache-arrow is loaded on first use). */
  async toArrow(opts: ArrowOptions = {}): Promise<ArrowTable> {
    const { toArrow } = await import('../fetch/arrow.js');
    return freshRead(this, () => toArrow(this, opts));
  }
  /** Arrow record batches from one cursor. */
  arrowBatches(opts: ArrowOptions = {}): AsyncIterable<RecordBatch> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const { arrowBatches } = await import('../fetch/arrow.js');
        yield* freshStream(self, () => arrowBatches(self, opts));
      },
    };
  }
  keys(opts: FetchOptions = {}): Promise<Row[]> {
    return freshRead(this, () => fetch.keys(this, opts));
  }
  fetch1(opts?: Fetch1Options): Promise<Row>;
  fetch1(attr: string, opts?: Fetch1Options): Promise<unknown>;
  fetch1(attr1: string, attr2: string, ...more: Array<string | Fetch1Options>): Promise<unknown[]>;
  fetch1(...args: Array<string | Fetch1Options | undefined>): Promise<unknown> {
    return freshRead(this, async () => {
      const { attrs, opts } = fetch.fetch1Arguments(args);
      return fetch.fetch1(this, attrs, opts);
    });
  }
  count(): Promise<number> {
    return freshRead(this, () => fetch.count(this));
  }
  async isEmpty(): Promise<boolean> {
    return (await this.count()) === 0;
  }
  [Symbol.asyncIterator](): AsyncIterator<Row> {
    return this.iterate()[Symbol.asyncIterator]();
  }
  iterate(opts: FetchOptions = {}): AsyncIterable<Row> {
    return freshStream(this, () => fetch.iterate(this, opts));
  }

  /**
   * Table display like DataJoint's: the first `display.limit` rows, `*` marking primary-key
   * columns, and the total count.
   */
  preview(opts: { limit?: number; width?: number } = {}): Promise<string> {
    return freshRead(this, () => fetch.preview(this, opts));
  }

  /**
   * The same display, synchronously (for String(expr), console.log and the REPL): the
   * query runs on a helper thread while this one waits. Falls back to a one-line summary.
   */
  previewSync(opts: { limit?: number; width?: number } = {}): string {
    const text = previewSync(this, toExpression, opts);
    if (text !== null) return text;
    const name = this instanceof DerivedExpression ? `QueryExpression (${this.operator})` : this.constructor.name;
    return `${name}: preview unavailable (${previewError()}); use await expr.preview()`;
  }

  toString(): string {
    return this.previewSync();
  }

  // A registered (not unique) symbol key keeps this out of user declaration files.
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.previewSync();
  }
}

/** An expression computed by an operator from other expressions. */
export class DerivedExpression extends QueryExpression {
  readonly #connection: Connection;
  readonly #build: () => Promise<State>;
  /** Operator name (`join`, `proj`, `U.aggr`...), its operands and arguments, for describe(). */
  readonly operator: string;
  readonly operands: readonly QueryExpression[];
  readonly params: unknown;
  constructor(connection: Connection, operator: string, operands: readonly QueryExpression[], params: unknown, build: () => Promise<State>) {
    super();
    this.#connection = connection;
    this.#build = build;
    this.operator = operator;
    this.operands = operands;
    this.params = params;
  }
  get connection(): Connection {
    return this.#connection;
  }
  /** @internal */
  baseState(): Promise<State> {
    return this.#build();
  }
  /** @internal */
  override clone(): this {
    const c = new DerivedExpression(this.#connection, this.operator, this.operands, this.params, this.#build) as this;
    c._restrictions = [...this._restrictions];
    return c;
  }
}

function derive(from: QueryExpression, operator: string, operands: readonly QueryExpression[], params: unknown, build: () => Promise<State>): QueryExpression {
  return new DerivedExpression(from.connection, operator, operands, params, build);
}

/** Split aggr arguments: strings and the first object are the projection, a second object the options. */
export function splitAggrArgs(args: readonly AggrArg[]): { spec: ReturnType<typeof parseProjArgs>; options: AggrOptions } {
  const proj: unknown[] = [];
  let options: AggrOptions = {};
  let objects = 0;
  for (const arg of args) {
    if (typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
      objects++;
      const isOptions = objects === 2 || (Object.keys(arg).length > 0 && Object.entries(arg).every(([k, v]) => (k === 'excludeNonmatching' || k === 'semanticCheck') && typeof v === 'boolean'));
      if (isOptions) {
        for (const k of Object.keys(arg)) if (k !== 'excludeNonmatching' && k !== 'semanticCheck') throw new DataJointError(`aggr: unknown option \`${k}\` (options are excludeNonmatching, semanticCheck)`);
        options = arg as AggrOptions;
        continue;
      }
    }
    proj.push(arg);
  }
  return { spec: parseProjArgs(proj, 'aggr'), options };
}

export function assertExpression(x: unknown, what: string): QueryExpression {
  const e = toExpression(x);
  if (!e) throw new DataJointError(`${what} must be a query expression or a table class`);
  return e;
}
