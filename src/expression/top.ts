/**
 * dj.top(limit, orderBy, offset): restriction to the first rows in an order
 * (spec: query-algebra §12). Chained Tops merge when the second inherits or repeats the
 * ordering; otherwise the first becomes a subquery.
 */
import { DataJointError } from '../errors.js';
import type { Dialect } from '../adapters/adapter.js';
import type { Heading } from '../heading/heading.js';
import { asSubquery, isLimiting, orderAttribute, type State } from './state.js';

export class Top {
  /** Maximum number of rows; null for no limit. */
  readonly limit: number | null;
  /** Ordering items as given (`'KEY'`, `'score DESC'`); null inherits a previous Top's order. */
  readonly orderBy: readonly string[] | null;
  readonly offset: number;

  constructor(limit: number | null = 1, orderBy: string | readonly string[] | null = 'KEY', offset = 0) {
    if (limit !== null && (typeof limit !== 'number' || !Number.isInteger(limit)))
      throw new TypeError(`dj.top: limit must be an integer or null, got ${describe(limit)}`);
    if (typeof offset !== 'number' || !Number.isInteger(offset)) throw new TypeError(`dj.top: offset must be an integer, got ${describe(offset)}`);
    if (orderBy !== null && typeof orderBy !== 'string' && !(Array.isArray(orderBy) && orderBy.every((x) => typeof x === 'string')))
      throw new TypeError(`dj.top: orderBy must be a string, an array of strings, or null, got ${describe(orderBy)}`);
    if (limit !== null && limit < 0) throw new DataJointError(`dj.top: limit cannot be negative (${limit})`);
    if (offset < 0) throw new DataJointError(`dj.top: offset cannot be negative (${offset})`);
    this.limit = limit;
    this.orderBy = orderBy === null ? null : typeof orderBy === 'string' ? [orderBy] : [...orderBy];
    this.offset = offset;
  }

  toString(): string {
    return `Top(${this.limit}, ${this.orderBy === null ? 'null' : JSON.stringify(this.orderBy)}, ${this.offset})`;
  }
}

/** `dj.top(limit = 1, orderBy = 'KEY', offset = 0)`; undefined arguments take the defaults. */
export function top(limit?: number | null, orderBy?: string | readonly string[] | null, offset?: number): Top {
  return new Top(limit === undefined ? 1 : limit, orderBy === undefined ? 'KEY' : orderBy, offset ?? 0);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array with non-string items';
  return typeof x === 'object' ? (x.constructor?.name ?? 'object') : `${typeof x} ${String(x)}`;
}

/** Split on commas outside parentheses and quotes: "f(a, b) DESC, c" → ["f(a, b) DESC", "c"]. */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}

/**
 * Ordering items with `KEY` expanded to the primary key (keeping its direction). Only `KEY` in
 * capitals means the primary key, as in DataJoint Python: `key` (or any other spelling) is an
 * attribute of that name.
 */
export function normalizeOrder(orderBy: readonly string[], heading: Heading): string[] {
  const out: string[] = [];
  for (const item of orderBy.flatMap(splitTopLevel)) {
    const m = /^KEY(?:\s+([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc]))?$/.exec(item);
    if (m) out.push(...heading.primaryKey.map((k) => (m[1] ? `${k} ${m[1].toUpperCase()}` : k)));
    else out.push(item.replace(/\s+(asc|desc)$/i, (_s, d: string) => ` ${d.toUpperCase()}`));
  }
  return out;
}

/**
 * Apply a Top to a state. Same or inherited ordering merges (offsets add; the limit is what
 * remains of the first window); a different ordering of a limiting Top needs a subquery.
 */
export function applyTop(state: State, t: Pick<Top, 'limit' | 'orderBy' | 'offset'>, dialect: Dialect): State {
  const items = t.orderBy === null ? null : normalizeOrder(t.orderBy, state.heading);
  const prev = state.top;
  if (prev) {
    if (items === null || sameItems(items, prev.orderBy)) {
      const remaining = prev.limit === null ? null : Math.max(0, prev.limit - t.offset);
      return { ...state, top: { ...prev, limit: minLimit(t.limit, remaining), offset: prev.offset + t.offset } };
    }
    if (!isLimiting(prev)) return { ...state, top: { limit: t.limit, offset: t.offset, orderBy: items, nullable: nullableOf(items, state.heading) } };
    const sub = asSubquery(state, dialect);
    return { ...sub, top: { limit: t.limit, offset: t.offset, orderBy: items, nullable: nullableOf(items, sub.heading) } };
  }
  // Without an order to inherit, a window is taken in primary-key order, so it is deterministic.
  const limiting = t.limit !== null || t.offset > 0;
  const orderBy = items ?? (limiting ? normalizeOrder(['KEY'], state.heading) : []);
  return { ...state, top: { limit: t.limit, offset: t.offset, orderBy, nullable: nullableOf(orderBy, state.heading) } };
}

/** The attributes named by ordering items that may hold NULL (kept with the order: see TopSpec). */
function nullableOf(items: readonly string[], heading: Heading): string[] {
  return items.map(orderAttribute).filter((name): name is string => name !== null && heading.get(name)?.nullable === true);
}

function minLimit(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  const norm = (s: string) => s.replace(/`/g, '').replace(/\s+ASC$/i, '').replace(/\s+/g, ' ').trim().toLowerCase();
  return a.length === b.length && a.every((x, i) => norm(x) === norm(b[i]!));
}
