/**
 * SQL naming of tables: tier prefixes and class name ↔ table name, derived exactly as
 * DataJoint Python derives them (utils.from_camel_case / to_camel_case and the tiers'
 * `tier_regexp`), so that one class finds one table from either language: every capital
 * letter after the first starts a new word (`ProcessedEMG` → `processed_e_m_g`, `IJ` → `i_j`).
 * (The 2.0 docs' "CamelCase → snake_case" reads as if runs of capitals stayed together; a
 * database shared with Python sees Python's names, so they win.)
 */
import { DeclarationError } from '../errors.js';

export type TierName = 'manual' | 'lookup' | 'imported' | 'computed' | 'part';

export const TIER_PREFIX: Record<Exclude<TierName, 'part'>, string> = {
  manual: '',
  lookup: '#',
  imported: '_',
  computed: '__',
};

export function isCamelCase(name: string): boolean {
  return /^[A-Z][A-Za-z0-9]*$/.test(name);
}

/** `SessionTrial` → `session_trial`, `ProcessedEMG` → `processed_e_m_g`, `Table2A` → `table2_a`. */
export function toSnakeCase(name: string): string {
  if (!isCamelCase(name)) throw new DeclarationError(`Invalid table name "${name}": class names must be CamelCase (^[A-Z][A-Za-z0-9]*$)`);
  // The first character is the only capital at a word boundary (the name is one word).
  return name[0]!.toLowerCase() + name.slice(1).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `session_trial` → `SessionTrial`, `processed_e_m_g` → `ProcessedEMG` (a letter after `_` is capitalized). */
export function toCamelCase(snake: string): string {
  return snake.replace(/(?:^|[_\W])+[a-zA-Z]/g, (m) => m[m.length - 1]!.toUpperCase());
}

/** One word of a table name (Python's `_base_regexp`): no leading digit, no double underscore. */
const BASE = '[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*';
const TABLE_NAME = new RegExp(`^(#|__|_)?(${BASE})(?:__(${BASE}))?$`);

/** Tier and class names of an SQL table name (`__analysis` → computed Analysis; `a__b` → part). */
export function parseTableName(sqlName: string): { tier: TierName; master: string | null; className: string } | null {
  const m = TABLE_NAME.exec(sqlName);
  if (!m) return null;
  const tier: TierName = m[1] === '#' ? 'lookup' : m[1] === '__' ? 'computed' : m[1] === '_' ? 'imported' : 'manual';
  if (m[3]) return { tier: 'part', master: `${m[1] ?? ''}${m[2]}`, className: toCamelCase(m[3]) };
  return { tier, master: null, className: toCamelCase(m[2]!) };
}
