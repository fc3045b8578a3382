/**
 * Parser for the table definition language (spec: table declaration).
 * Produces a structured definition; compile.ts turns it into SQL once references resolve.
 */
import { DeclarationError } from '../errors.js';
import { parseJsonPath } from '../expression/json-path.js';

export interface AttributeLine {
  kind: 'attribute';
  line: string;
  inKey: boolean;
  name: string;
  /** Default text as written (null if absent). */
  default: string | null;
  type: string;
  comment: string;
}

export interface ForeignKeyLine {
  kind: 'foreignKey';
  line: string;
  inKey: boolean;
  nullable: boolean;
  unique: boolean;
  /** Reference as written before any `.proj(...)`: `Subject`, `lab.Subject`, `master`. */
  ref: string;
  /** new name → parent attribute name, from `.proj(new='old')`. */
  renames: Record<string, string>;
}

export interface IndexLine {
  kind: 'index';
  line: string;
  unique: boolean;
  /** Attribute names or parenthesized SQL expressions. */
  columns: string[];
}

export type DefinitionLine = AttributeLine | ForeignKeyLine | IndexLine;

export interface ParsedDefinition {
  comment: string;
  lines: DefinitionLine[];
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** Index of the first `ch` outside quotes and parentheses, or -1. */
function findUnquoted(s: string, ch: string, from = 0, respectParens = false): number {
  let quote: string | null = null;
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ch && (!respectParens || depth === 0)) return i;
  }
  return -1;
}

/** Split on commas outside quotes and parentheses. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const i = findUnquoted(s, ',', start, true);
    if (i < 0) break;
    out.push(s.slice(start, i).trim());
    start = i + 1;
  }
  out.push(s.slice(start).trim());
  return out.filter((x) => x.length > 0);
}

function fail(message: string, line: string): never {
  throw new DeclarationError(`${message} in line: "${line}"`);
}

export function parseAttribute(line: string, inKey: boolean): AttributeLine {
  const colon = findUnquoted(line, ':');
  if (colon < 0) fail('Declaration error: expected `name [= default] : type [# comment]`', line);
  const left = line.slice(0, colon).trim();
  let right = line.slice(colon + 1);
  const hash = findUnquoted(right, '#');
  let comment = '';
  if (hash >= 0) {
    comment = right.slice(hash + 1).trim();
    right = right.slice(0, hash);
  }
  const type = right.trim();
  if (!type) fail('Declaration error: missing type', line);
  const eq = findUnquoted(left, '=');
  const name = (eq >= 0 ? left.slice(0, eq) : left).trim();
  const dflt = eq >= 0 ? left.slice(eq + 1).trim() : null;
  if (!NAME.test(name)) fail(`Declaration error: invalid attribute name "${name}" (use lowercase letters, digits and underscores, starting with a letter)`, line);
  if (dflt !== null && dflt === '') fail('Declaration error: empty default value', line);
  if (comment.startsWith(':')) fail('Declaration error: comment must not start with colon', line);
  return { kind: 'attribute', line, inKey, name, default: dflt, type, comment };
}

export function parseForeignKey(line: string, inKey: boolean): ForeignKeyLine {
  let rest = line.replace(/^->\s*/, '');
  // A trailing comment, as the docs write them (`-> Subject  # who`): a foreign key's attributes
  // keep their parent's comments, so it is dropped, as DataJoint Python does.
  const hash = findUnquoted(rest, '#');
  if (hash >= 0) rest = rest.slice(0, hash).trimEnd();
  let nullable = false;
  let unique = false;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) fail('Declaration error: unclosed option list', line);
    for (const opt of rest.slice(1, close).split(',').map((o) => o.trim().toLowerCase()).filter(Boolean)) {
      if (opt === 'nullable') nullable = true;
      else if (opt === 'unique') unique = true;
      else fail(`Declaration error: invalid foreign key option "${opt}" (allowed: nullable, unique)`, line);
    }
    rest = rest.slice(close + 1).trim();
  }
  const renames: Record<string, string> = {};
  const projAt = rest.search(/\.proj\s*\(/);
  let ref = rest;
  if (projAt >= 0) {
    ref = rest.slice(0, projAt).trim();
    const args = rest.slice(rest.indexOf('(', projAt) + 1);
    if (!args.trimEnd().endsWith(')')) fail('Declaration error: malformed .proj(...) in foreign key', line);
    for (const part of splitTopLevel(args.trimEnd().slice(0, -1))) {
      const m = /^([a-z][a-z0-9_]*)\s*=\s*(['"])([a-z][a-z0-9_]*)\2$/.exec(part);
      if (!m) fail(`Declaration error: foreign key projection must rename attributes as new='old', got "${part}"`, line);
      renames[m[1]!] = m[3]!;
    }
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(ref)) fail(`Declaration error: invalid foreign key reference "${ref}"`, line);
  if (nullable && inKey) fail('Primary key attributes cannot be nullable: a nullable foreign key must come after ---', line);
  return { kind: 'foreignKey', line, inKey, nullable, unique, ref, renames };
}

export function parseIndex(line: string): IndexLine | null {
  // A trailing comment, as the docs write them (`unique index(label)  # why`): an index has no
  // comment of its own, so it is dropped, as DataJoint Python does.
  const hash = findUnquoted(line, '#', 0, true);
  const text = hash >= 0 ? line.slice(0, hash).trimEnd() : line;
  const m = /^(unique\s+)?index\s*\((.*)\)\s*$/i.exec(text);
  if (!m) return null;
  const columns = splitTopLevel(m[2]!);
  if (columns.length === 0) fail('Declaration error: index needs at least one attribute', line);
  // An attribute, an SQL expression in parentheses, or a JSON path (`car.length:decimal(4,1)`).
  for (const c of columns) if (!NAME.test(c) && !/^\(.*\)$/s.test(c) && !parseJsonPath(c)) fail(`Declaration error: invalid index attribute "${c}"`, line);
  return { kind: 'index', line, unique: !!m[1], columns };
}

export function parseDefinition(definition: string): ParsedDefinition {
  const rawLines = definition.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  let comment = '';
  let start = 0;
  if (rawLines[0]?.startsWith('#')) {
    comment = rawLines[0].slice(1).trim();
    if (comment.startsWith(':')) fail('Declaration error: table comment must not start with colon', rawLines[0]);
    start = 1;
  }
  let inKey = true;
  let sawSeparator = false;
  const lines: DefinitionLine[] = [];
  for (const line of rawLines.slice(start)) {
    if (line.startsWith('#')) continue; // a comment line
    if (/^(---+|___+)$/.test(line)) {
      if (sawSeparator) fail('Declaration error: more than one primary key separator', line);
      sawSeparator = true;
      inKey = false;
      continue;
    }
    if (line.startsWith('->')) {
      lines.push(parseForeignKey(line, inKey));
      continue;
    }
    const idx = parseIndex(line);
    if (idx) {
      lines.push(idx);
      continue;
    }
    lines.push(parseAttribute(line, inKey));
  }
  return { comment, lines };
}
