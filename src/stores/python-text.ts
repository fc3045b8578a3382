/**
 * Text exactly as DataJoint Python produces it, where paths or stored metadata depend on it:
 * `repr(float)`, `urllib.parse.quote(s, safe="")`, `json.dumps(...)` (ensure_ascii, default
 * separators, optional indent) and `datetime.isoformat()` of an aware UTC time. Matching byte for
 * byte keeps object paths identical and manifests/metadata indistinguishable from Python's.
 */
import { DataJointError } from '../errors.js';
import { extraMicros } from '../connection/datetime.js';

/** Python's `repr(x)` of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest digits that round-trip, as Python's repr.
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  let text: string;
  if (exp < 0) text = `0.${'0'.repeat(-exp - 1)}${digits}`;
  else if (digits.length > exp + 1) text = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  else text = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return sign + text;
}

/** `urllib.parse.quote(s, safe="")`: UTF-8 percent-encoding of all but `A-Z a-z 0-9 _ . - ~`. */
export function pythonQuote(s: string): string {
  // encodeURIComponent also leaves ! ' ( ) * alone; Python encodes them.
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A JSON string literal as Python's `json.dumps` (ensure_ascii=True) writes it. */
function pyString(s: string): string {
  // Every UTF-16 unit outside printable ASCII becomes \uXXXX (lowercase hex); astral characters
  // thereby become their surrogate pair, as in Python.
  return `"${s.replace(/[\\"]|[^\x20-\x7e]/g, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** A JSON-compatible value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

/**
 * `json.dumps(value)` (or `json.dumps(value, indent=n)`) as Python writes it: `", "` and `": "`
 * separators (`","` at line ends when indenting), non-ASCII escaped, floats as `repr`. Integral
 * numbers are written as integers: JSON numbers carry no int/float distinction once parsed.
 * Keys whose value is `undefined` are left out, as JSON.stringify does.
 */
export function pythonJsonDumps(value: JsonValue, indent?: number): string {
  const nl = indent === undefined ? '' : '\n';
  const pad = (depth: number) => (indent === undefined ? '' : ' '.repeat(indent * depth));
  const itemSep = indent === undefined ? ', ' : ',';
  const write = (v: JsonValue, depth: number): string => {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : pythonFloatRepr(v);
    }
    if (typeof v === 'string') return pyString(v);
    if (Array.isArray(v)) {
      if (!v.length) return '[]';
      return `[${nl}${v.map((x) => pad(depth + 1) + write(x, depth + 1)).join(itemSep + nl)}${nl}${pad(depth)}]`;
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined) as Array<[string, JsonValue]>;
      if (!entries.length) return '{}';
      return `{${nl}${entries.map(([k, x]) => `${pad(depth + 1)}${pyString(k)}: ${write(x, depth + 1)}`).join(itemSep + nl)}${nl}${pad(depth)}}`;
    }
    throw new DataJointError(`Cannot write ${typeof v} as JSON`);
  };
  return write(value, 0);
}

/**
 * `datetime.isoformat()` of an aware UTC datetime: `2025-01-15T10:30:00.123000+00:00`, the
 * fraction (microseconds) left out when zero, as Python does.
 */
export function pythonIsoformat(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new DataJointError('Invalid Date');
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const us = d.getUTCMilliseconds() * 1000 + extraMicros(d);
  return `${iso.slice(0, 19)}${us ? `.${String(us).padStart(6, '0')}` : ''}+00:00`;
}
