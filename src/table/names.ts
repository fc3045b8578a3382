/** SQL naming of tables (spec: table-declaration §1): tier prefixes and CamelCase → snake_case. */
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

/** `SessionTrial` → `session_trial`, `ProcessedEMG` → `processed_emg`. */
export function toSnakeCase(name: string): string {
  if (!isCamelCase(name)) throw new DeclarationError(`Invalid table name "${name}": class names must be CamelCase (^[A-Z][A-Za-z0-9]*$)`);
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** `session_trial` → `SessionTrial`. */
export function toCamelCase(snake: string): string {
  return snake
    .split('_')
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

/** Tier and class names of an SQL table name (`__analysis` → computed Analysis; `a__b` → part). */
export function parseTableName(sqlName: string): { tier: TierName; master: string | null; className: string } | null {
  const m = /^(#|__|_)?([a-z][a-z0-9_]*?)(?:__([a-z][a-z0-9_]*))?$/.exec(sqlName);
  if (!m) return null;
  const tier: TierName = m[1] === '#' ? 'lookup' : m[1] === '__' ? 'computed' : m[1] === '_' ? 'imported' : 'manual';
  if (m[3]) return { tier: 'part', master: `${m[1] ?? ''}${m[2]}`, className: toCamelCase(m[3]) };
  return { tier, master: null, className: toCamelCase(m[2]!) };
}
