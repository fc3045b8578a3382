/**
 * Checks of a declared attribute that the servers do not all make at CREATE TABLE: MySQL and
 * MariaDB refuse a default that breaks its type and a decimal whose scale exceeds its
 * precision, while PostgreSQL declares the table (its CHECK constraints and lengths apply to
 * rows, not to defaults) and every insert relying on the default then fails. Checked here,
 * before anything is created, every backend refuses them alike.
 */
import { AttributeTypeError, DeclarationError } from '../errors.js';
import { NUMBER, parseDefault } from '../adapters/defaults.js';
import type { Attribute } from '../heading/heading.js';
import { encodeScalar } from '../fetch/convert.js';

const fail = (message: string, line: string): never => {
  throw new DeclarationError(`${message} in line: "${line}"`);
};

const INTEGER = /^[+-]?\d+$/;

/** `decimal(p,s)` as MySQL allows it (1 ≤ p ≤ 65, 0 ≤ s ≤ p); PostgreSQL would take a scale above the precision. */
export function checkDecimal(a: Pick<Attribute, 'type' | 'kind' | 'core' | 'name'>, line: string): void {
  const m = a.kind === 'decimal' && a.core ? /^decimal\((\d+),(\d+)\)$/.exec(a.type) : null;
  if (!m) return;
  const [p, s] = [Number(m[1]), Number(m[2])];
  if (p < 1 || p > 65 || s > p) fail(`Declaration error: ${a.type} of attribute \`${a.name}\` needs a precision of 1 to 65 and a scale of 0 to the precision`, line);
}

/**
 * The value insert would send for a literal default, or undefined when there is nothing to
 * check (NULL, CURRENT_TIMESTAMP, and forms the servers convert themselves, such as TRUE for a
 * number or a number for an enum's position). Numbers for integers are rounded, as the servers do.
 */
function defaultValue(a: Attribute, text: string): unknown {
  const d = parseDefault(text);
  if (d.kind !== 'number' && d.kind !== 'string') return undefined;
  const written = d.kind === 'number' ? d.text : d.value;
  switch (a.kind) {
    case 'int':
    case 'bigint': {
      const t = written.trim();
      if (!NUMBER.test(t)) return written; // refused as "expects an integer"
      if (INTEGER.test(t)) return BigInt(t);
      const n = Number(t);
      return Number.isFinite(n) ? BigInt(Math.round(n)) : written;
    }
    case 'float':
      return NUMBER.test(written.trim()) ? Number(written) : written;
    case 'decimal':
    case 'string':
      return written;
    case 'enum':
      return d.kind === 'string' ? written : undefined;
    default:
      return undefined; // dates, booleans: the servers check these literals themselves
  }
}

/** Integer digits a decimal(p,s) holds: p - s. */
function fitsDecimal(a: Attribute, value: string): boolean {
  const m = /^decimal\((\d+),(\d+)\)$/.exec(a.type);
  if (!m) return true;
  return Math.abs(Number(value)) < 10 ** (Number(m[1]) - Number(m[2]));
}

/** Refuse a literal default of a core type that insert would refuse as a value (range, length, enum member). */
export function checkDefault(a: Attribute, line: string): void {
  if (a.default === null || !a.core || a.codec) return;
  const value = defaultValue(a, a.default);
  if (value === undefined) return;
  // An int32 or smaller takes a number; its range is checked the same either way.
  const given = a.kind === 'int' && typeof value === 'bigint' ? Number(value) : value;
  try {
    encodeScalar(a, given);
  } catch (err) {
    if (!(err instanceof AttributeTypeError)) throw err;
    fail(`Declaration error: invalid default value for attribute \`${a.name}\`: ${err.message}`, line);
  }
  if (a.kind === 'decimal' && !fitsDecimal(a, String(value)))
    fail(`Declaration error: invalid default value for attribute \`${a.name}\`: ${String(value)} has more integer digits than ${a.type} holds`, line);
}
