/**
 * Projection (spec: query-algebra §3): select attributes, rename them (primary key ones
 * included), duplicate them with `'(attr)'`, compute new ones from SQL expressions, or take
 * all with `'*'` minus `'-attr'` exclusions. The primary key is always kept.
 */
import { DataJointError, UnknownAttributeError } from '../errors.js';
import type { Dialect } from '../adapters/adapter.js';
import type { Attribute, Heading } from '../heading/heading.js';
import { identifiers } from './condition.js';
import { jsonPathSql, parseJsonPath } from './json-path.js';
import { asSubquery, fromColumnsOf, isLimiting, type State } from './state.js';

/** Parsed arguments of proj (and of aggr, which projects the grouping expression). */
export interface ProjSpec {
  /** Names to include; `'*'` (or `'...'`) includes all; `'-name'` excludes. */
  attributes: string[];
  /** new name → old name, `'(old)'`, or an SQL expression. */
  named: Record<string, string>;
}

// SQL words that look like names but are values: `{ flag: 'NULL' }` computes, it does not rename.
const CONSTANTS = new Set(['null', 'true', 'false', 'current_timestamp', 'current_date', 'current_time', 'current_user', 'localtime', 'localtimestamp', 'unknown', 'default']);
const NAME = /^\s*`?([A-Za-z_][A-Za-z0-9_]*)`?\s*$/;
const DUPLICATE = /^\s*\(\s*`?([A-Za-z_][A-Za-z0-9_]*)`?\s*\)\s*$/;

export function parseProjArgs(args: readonly unknown[], what = 'proj'): ProjSpec {
  const attributes: string[] = [];
  let named: Record<string, string> | null = null;
  for (const arg of args) {
    if (typeof arg === 'string') attributes.push(arg.trim());
    else if (typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
      if (named) throw new DataJointError(`${what}: give renamed and computed attributes in one object`);
      named = {};
      for (const [k, v] of Object.entries(arg)) {
        if (typeof v !== 'string') throw new DataJointError(`${what}: the value for \`${k}\` must be a string (an attribute name or an SQL expression), got ${typeof v}`);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new DataJointError(`${what}: invalid attribute name \`${k}\``);
        named[k] = v;
      }
    } else throw new DataJointError(`${String(arg)} is not a valid argument of ${what}: use attribute names (strings) and one object of renamed or computed attributes`);
  }
  return { attributes, named: named ?? {} };
}

interface Classified {
  renames: Map<string, string>;
  duplicates: Map<string, string>;
  computed: Map<string, string>;
}

function classify(named: Record<string, string>, heading: Heading, dialect: Dialect, computedFrom: Heading): Classified {
  const out: Classified = { renames: new Map(), duplicates: new Map(), computed: new Map() };
  for (const [k, v] of Object.entries(named)) {
    // `car.length:float`: a value inside a json attribute (DataJoint Python's translate_attribute).
    const json = parseJsonPath(v);
    if (json && heading.has(json.attr)) {
      out.computed.set(k, jsonPathSql(json, heading, (n) => dialect.quoteId(n), dialect));
      continue;
    }
    const dup = DUPLICATE.exec(v);
    const ren = NAME.exec(v);
    if (dup && !CONSTANTS.has(dup[1]!.toLowerCase())) {
      if (!heading.has(dup[1]!) || heading.get(dup[1]!)!.isHidden) throw new UnknownAttributeError(`Attribute \`${dup[1]}\` not found (duplicating as \`${k}\`); the attributes are ${heading.names.join(', ')}`);
      out.duplicates.set(k, dup[1]!);
    }
    else if (ren && !CONSTANTS.has(ren[1]!.toLowerCase())) {
      if (!heading.has(ren[1]!) || heading.get(ren[1]!)!.isHidden) throw new UnknownAttributeError(`Attribute \`${ren[1]}\` not found (renaming to \`${k}\`); the attributes are ${heading.names.join(', ')}`);
      out.renames.set(k, ren[1]!);
    } else out.computed.set(k, dialect.userSql(v, computedFrom.booleanNames)); // bool attributes it may aggregate
  }
  return out;
}

/** Attribute of a computed expression; the type is known for a few aggregate forms. */
export function computedAttribute(name: string, expression: string, source: Heading): Attribute {
  const base: Attribute = {
    name,
    type: 'expression',
    kind: 'other',
    core: false,
    unsigned: false,
    inKey: false,
    nullable: true,
    default: null,
    comment: 'calculated attribute',
    codec: null,
    store: null,
    lineage: null,
    isHidden: false,
    autoIncrement: false,
    expression,
  };
  if (/^\s*count\s*\(/i.test(expression) && /\)\s*$/.test(expression) && balanced(expression)) return { ...base, type: 'int64', kind: 'bigint', core: true };
  const m = /^\s*(min|max|sum|avg)\s*\(\s*[`"]?([A-Za-z_][A-Za-z0-9_]*)[`"]?\s*\)\s*$/i.exec(expression);
  const a = m ? source.get(m[2]!) : undefined;
  if (!a || a.codec) return base;
  const fn = m![1]!.toLowerCase();
  if (fn === 'min' || fn === 'max') return { ...a, name, inKey: false, nullable: true, lineage: null, expression, autoIncrement: false, default: null, isHidden: false };
  // The sum or mean of a numeric or boolean attribute, a number on every backend: MySQL gives
  // SUM(int) and AVG as DECIMAL text ('7', '3.5000'), PostgreSQL SUM(int) as a number and AVG
  // as numeric text ('3.5000000000000000').
  if (!['int', 'bigint', 'bool', 'float'].includes(a.kind)) return base;
  return fn === 'sum' && a.kind !== 'float' ? { ...base, type: 'int64', kind: 'bigint', core: true } : { ...base, type: 'float64', kind: 'float', core: true };
}

function balanced(s: string): boolean {
  // `count(a) + count(b)` starts with count( and ends with ) but is not one call.
  let depth = 0;
  const body = s.trim();
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '(') depth++;
    else if (body[i] === ')' && --depth === 0 && i !== body.length - 1) return false;
  }
  return true;
}

/**
 * The attributes a projection selects from `heading`, in heading order (renames and
 * duplicates at their source's position), computed ones last; primary key first.
 * `selectable` limits plain selections (aggr selects only from the grouping expression).
 */
export function projectHeading(heading: Heading, spec: ProjSpec, dialect: Dialect, computedFrom: Heading = heading): { attrs: Attribute[]; classified: Classified } {
  const c = classify(spec.named, heading, dialect, computedFrom);
  const star = spec.attributes.some((a) => a === '*' || a === '...');
  const excluded = new Set(spec.attributes.filter((a) => a.startsWith('-')).map((a) => a.slice(1).trim()));
  const explicit = spec.attributes.filter((a) => a !== '*' && a !== '...' && !a.startsWith('-'));
  const visible = new Set(heading.names);
  for (const x of excluded) {
    if (!visible.has(x)) throw new UnknownAttributeError(`Cannot exclude attribute \`${x}\`: not found; the attributes are ${heading.names.join(', ')}`);
    if (heading.get(x)!.inKey) throw new DataJointError(`Cannot exclude primary key attribute \`${x}\``);
  }
  // Hidden attributes are projected only when named explicitly (spec: job metadata).
  for (const x of explicit) if (!heading.has(x)) throw new UnknownAttributeError(`Attribute \`${x}\` not found; the attributes are ${heading.names.join(', ')}`);
  const renamedFrom = new Set(c.renames.values());
  const selected = new Set<string>();
  for (const a of heading.visible) {
    if (a.inKey && !renamedFrom.has(a.name)) selected.add(a.name);
    else if (star && !a.inKey && !renamedFrom.has(a.name)) selected.add(a.name);
  }
  for (const x of explicit) selected.add(x);
  for (const x of excluded) selected.delete(x);
  const newNames = [...c.renames.keys(), ...c.duplicates.keys(), ...c.computed.keys()];
  for (const n of newNames) if (selected.has(n)) throw new DataJointError(`Attribute \`${n}\` already exists: it is selected as well as renamed or computed`);

  const out: Attribute[] = [];
  for (const a of heading.all) {
    if (a.isHidden) {
      if (selected.has(a.name)) out.push({ ...a, isHidden: false });
      continue;
    }
    if (selected.has(a.name)) out.push(a);
    for (const [n, old] of c.renames) if (old === a.name) out.push({ ...a, name: n, expression: a.expression ?? dialect.quoteId(old) });
    for (const [n, old] of c.duplicates) if (old === a.name) out.push({ ...a, name: n, inKey: false, expression: a.expression ?? dialect.quoteId(old) });
  }
  for (const [n, expr] of c.computed) out.push(computedAttribute(n, expr, computedFrom));
  return { attrs: [...out.filter((a) => a.inKey), ...out.filter((a) => !a.inKey)], classified: c };
}

/** Project a compiled state. */
export function projectState(state: State, spec: ProjSpec, dialect: Dialect, wrapped = false): State {
  const { attrs, classified } = projectHeading(state.heading, spec, dialect);
  // A computed expression can only name real columns: names that are themselves computed
  // (renamed, aggregated) exist only in a subquery's select list. A Top's ordering refers to
  // the old names, so a projection that renames or computes keeps the Top inside a subquery.
  const computedNames = new Set(state.heading.all.filter((a) => a.expression !== null).map((a) => a.name));
  const refersToComputed = [...classified.computed.values()].some((e) => [...identifiers(e, dialect)].some((id) => computedNames.has(id)));
  // A HAVING may name an aggregate the projection drops (MySQL refers to select-list aliases
  // there): the grouped query is selected whole in a subquery first.
  const grouped = state.groupBy !== null && (classified.computed.size > 0 || state.having.length > 0);
  const reshapes = classified.renames.size + classified.duplicates.size + classified.computed.size > 0;
  // An ordering-only Top stays outside unless a new attribute takes the name it orders by.
  const newNames = new Set([...classified.renames.keys(), ...classified.duplicates.keys(), ...classified.computed.keys()]);
  const orderClash = state.top !== null && state.top.orderBy.some((i) => newNames.has(i.trim().split(/\s+/)[0]!.replace(/`/g, '')));
  if (!wrapped && (refersToComputed || grouped || orderClash || (isLimiting(state.top) && reshapes))) {
    const sub = asSubquery(state, dialect);
    return projectState(orderClash ? { ...sub, top: null } : sub, spec, dialect, true);
  }
  return {
    ...state,
    heading: state.heading.with(attrs),
    table: undefined,
    fromColumns: fromColumnsOf(state),
  };
}
