/**
 * JSON paths in restrictions and projections, written as DataJoint Python writes them
 * (condition.translate_attribute): `attr.key.sub[0]` with an optional `:type`, as a dict key
 * (`{ 'car.length': 100 }`) or a projected value (`{ length: 'car.length:float' }`). The path
 * is parsed here; its SQL (JSON_VALUE on MySQL, jsonb_extract_path_text on PostgreSQL) is the
 * dialect's. DataJoint Python's `*` wildcards are refused: JSON_VALUE extracts one value.
 */
import { DataJointError } from '../errors.js';
import type { Dialect } from '../adapters/adapter.js';
import type { Heading } from '../heading/heading.js';

export interface JsonPath {
  attr: string;
  /** Object keys (strings) and array indexes (numbers), in order; never empty. */
  path: Array<string | number>;
  /** The type to cast the value to (`float`, `decimal(5,2)`, `signed`, …), or null for text. */
  type: string | null;
}

/** Python's JSON_PATTERN: `attr`, then `.path` of word characters, `.`, `[…]` and `*`, then `:type`. */
const PATTERN = /^(\w+)\.([\w.*[\]]+)(?::([\w(,\s)]+))?$/;

/** A JSON path reference, or null when `text` is not one (a plain name, an SQL expression). */
export function parseJsonPath(text: string): JsonPath | null {
  const m = PATTERN.exec(text.trim());
  if (!m) return null;
  const [, attr, rest, type] = m;
  if (rest!.includes('*')) throw new DataJointError(`JSON path "${text}": wildcards (*) select several values; a restriction or projection needs one`);
  const path: Array<string | number> = [];
  for (const part of rest!.split('.')) {
    const p = /^(\w*)((?:\[\d+\])*)$/.exec(part);
    if (!p || (!p[1] && !p[2])) throw new DataJointError(`JSON path "${text}" is malformed at "${part}"`);
    if (p[1]) path.push(p[1]);
    for (const idx of p[2]!.matchAll(/\[(\d+)\]/g)) path.push(Number(idx[1]));
  }
  return { attr: attr!, path, type: type ? type.trim().toLowerCase().replace(/\s+/g, '') : null };
}

/** SQL of a JSON path into an attribute of `heading`; the attribute must be a json attribute. */
export function jsonPathSql(p: JsonPath, heading: Heading, column: (name: string) => string, dialect: Dialect): string {
  return dialect.jsonValue(jsonColumn(p, heading, column), p.path, p.type);
}

/** SQL that a JSON path is missing or holds JSON null (`{ 'car.make': null }`). */
export function jsonIsNullSql(p: JsonPath, heading: Heading, column: (name: string) => string, dialect: Dialect): string {
  return dialect.jsonIsNull(jsonColumn(p, heading, column), p.path);
}

function jsonColumn(p: JsonPath, heading: Heading, column: (name: string) => string): string {
  const a = heading.get(p.attr);
  if (!a) throw new DataJointError(`JSON path ${p.attr}.${p.path.join('.')}: attribute \`${p.attr}\` is not in the query (${heading.names.join(', ')})`);
  if (a.kind !== 'json' || a.codec) throw new DataJointError(`JSON path ${p.attr}.${p.path.join('.')}: attribute \`${p.attr}\` is ${a.type}, not json`);
  return column(p.attr);
}
