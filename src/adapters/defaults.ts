/**
 * Default values in their neutral form (the definition-language text a `ColumnSpec` and a
 * `ColumnInfo` carry): `5`, `-1.5e3`, `'text'` with `'` doubled, `TRUE`/`FALSE`,
 * `CURRENT_TIMESTAMP[(n)]`, `NULL`. Dialects parse this to render their own SQL, and their
 * introspectors produce it from what the catalog reports.
 */
export type ParsedDefault =
  | { kind: 'null' }
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'timestamp'; precision: number | null };

/** A number as a definition writes it: sign, digits, fraction, exponent. */
export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parse neutral default text (see module header). Unknown text is kept as an SQL expression string. */
export function parseDefault(text: string): ParsedDefault {
  const t = text.trim();
  const upper = t.toUpperCase();
  if (upper === 'NULL') return { kind: 'null' };
  if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'bool', value: upper === 'TRUE' };
  const ts = /^CURRENT_TIMESTAMP(?:\((\d*)\))?$/.exec(upper);
  if (ts) return { kind: 'timestamp', precision: ts[1] ? Number(ts[1]) : null };
  if (NUMBER.test(t)) return { kind: 'number', text: t };
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return { kind: 'string', value: t.slice(1, -1).replace(/''/g, "'") };
  return { kind: 'string', value: t };
}

/** A string as neutral default text: single quotes, `'` doubled. */
export function quoteDefault(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Neutral text of CURRENT_TIMESTAMP with an optional precision. */
export function timestampDefault(precision: number | null): string {
  return precision ? `CURRENT_TIMESTAMP(${precision})` : 'CURRENT_TIMESTAMP';
}
