/**
 * Dates and times in blobs: Python `date`, `datetime`, `time` and numpy `datetime64` values and
 * arrays, kept lossless (see docs/blob-mapping.md).
 */
import { DataJointError } from '../errors.js';
import { NDArray, type NumericDtype, type Order } from './ndarray.js';

/** numpy datetime64 units, in the order of their blob class ids (65536 + index). */
export const DATETIME64_UNITS = ['Y', 'M', 'W', 'D', 'h', 'm', 's', 'ms', 'us', 'ns', 'ps', 'fs', 'as'] as const;
export type Datetime64Unit = (typeof DATETIME64_UNITS)[number];
export type Datetime64Dtype = `datetime64[${Datetime64Unit}]`;
export type ScalarDtype = NumericDtype | Datetime64Dtype;

export function parseDatetime64Dtype(d: string): Datetime64Unit | undefined {
  const m = /^datetime64\[(\w+)\]$/.exec(d);
  return m && (DATETIME64_UNITS as readonly string[]).includes(m[1]!) ? (m[1] as Datetime64Unit) : undefined;
}


/** Milliseconds since the epoch of a UTC calendar time (years 0-99 are taken literally). */
export function utcMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

function checkCalendar(y: number, mo: number, d: number): void {
  const ok =
    Number.isInteger(y) && Number.isInteger(mo) && Number.isInteger(d) && y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1;
  if (!ok || d > new Date(utcMs(y, mo + 1, 0)).getUTCDate()) {
    throw new DataJointError(`Invalid date ${y}-${mo}-${d}`);
  }
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** A Python `datetime.date`: a Date at UTC midnight that packs as a date (not a datetime). */
export class DateOnly extends Date {
  constructor(year: number, month: number, day: number) {
    checkCalendar(year, month, day);
    super(utcMs(year, month, day));
  }
  /** The UTC calendar date of `d`. */
  static fromDate(d: Date): DateOnly {
    return new DateOnly(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  }
  get year(): number {
    return this.getUTCFullYear();
  }
  get month(): number {
    return this.getUTCMonth() + 1;
  }
  get day(): number {
    return this.getUTCDate();
  }
  /** `YYYY-MM-DD`. */
  override toString(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }
  override toJSON(): string {
    return this.toString();
  }
}

/**
 * A Python `datetime.datetime` with sub-millisecond precision. A JS Date stops at
 * milliseconds, so the remaining 0-999 microseconds are kept in `extraMicros`. unpack returns a
 * plain Date when there are none.
 */
export class DateTime extends Date {
  readonly extraMicros: number;
  constructor(time: number | Date, extraMicros = 0) {
    super(typeof time === 'number' ? time : time.getTime());
    if (!Number.isInteger(extraMicros) || extraMicros < 0 || extraMicros > 999) {
      throw new DataJointError('DateTime extraMicros must be an integer in 0..999');
    }
    this.extraMicros = extraMicros;
  }
  static fromParts(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, us = 0): DateTime {
    checkCalendar(y, mo, d);
    return new DateTime(utcMs(y, mo, d, h, mi, s, Math.floor(us / 1000)), us % 1000);
  }
  /** Microsecond of the second, 0..999999 (Python's `datetime.microsecond`). */
  get microsecond(): number {
    return this.getUTCMilliseconds() * 1000 + this.extraMicros;
  }
  /** ISO 8601 with six fractional digits, e.g. `2024-01-02T03:04:05.000006Z`. */
  toISOStringUs(): string {
    return `${this.toISOString().slice(0, 19)}.${pad(this.microsecond, 6)}Z`;
  }
}

/** A Python `datetime.time` (time of day without a date; tzinfo is not stored in blobs). */
export class TimeOfDay {
  constructor(
    readonly hour: number,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
  ) {
    const ok =
      [hour, minute, second, microsecond].every(Number.isInteger) &&
      hour >= 0 &&
      hour < 24 &&
      minute >= 0 &&
      minute < 60 &&
      second >= 0 &&
      second < 60 &&
      microsecond >= 0 &&
      microsecond < 1_000_000;
    if (!ok) throw new DataJointError(`Invalid time ${hour}:${minute}:${second}.${microsecond}`);
  }
  /** Parse `HH:MM[:SS[.ffffff]]`. */
  static parse(s: string): TimeOfDay {
    const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(s.trim());
    if (!m) throw new DataJointError(`Invalid time "${s}"`);
    return new TimeOfDay(+m[1]!, +m[2]!, m[3] ? +m[3] : 0, m[4] ? +m[4].padEnd(6, '0') : 0);
  }
  /** `HH:MM:SS` or `HH:MM:SS.ffffff`, like Python's `time.isoformat()`. */
  toString(): string {
    const base = `${pad(this.hour, 2)}:${pad(this.minute, 2)}:${pad(this.second, 2)}`;
    return this.microsecond ? `${base}.${pad(this.microsecond, 6)}` : base;
  }
  toJSON(): string {
    return this.toString();
  }
}

const NAT = -(2n ** 63n);
const US_PER: Partial<Record<Datetime64Unit, bigint>> = { h: 3_600_000_000n, m: 60_000_000n, s: 1_000_000n, ms: 1000n, us: 1n };
// Python datetime range, in microseconds since the epoch.
const MIN_US = BigInt(utcMs(1, 1, 1)) * 1000n;
const MAX_US = BigInt(utcMs(9999, 12, 31, 23, 59, 59, 999)) * 1000n + 999n;

/**
 * What numpy's `.item()` gives for a datetime64 value: a date for Y/M/W/D units, a datetime for
 * h..us, an integer count for ns and finer (or when outside Python's year range 1..9999), null for NaT.
 */
export function datetime64Item(count: bigint, unit: Datetime64Unit): DateOnly | Date | number | bigint | null {
  if (count === NAT) return null;
  const asInt = (): number | bigint => (count >= -(2n ** 53n) + 1n && count <= 2n ** 53n - 1n ? Number(count) : count);
  if (unit === 'Y' || unit === 'M') {
    const months = unit === 'Y' ? count * 12n : count;
    const y = 1970n + (months >= 0n ? months / 12n : -((-months + 11n) / 12n));
    const mo = Number(months - (y - 1970n) * 12n) + 1;
    return y >= 1n && y <= 9999n ? new DateOnly(Number(y), mo, 1) : asInt();
  }
  if (unit === 'W' || unit === 'D') {
    const days = unit === 'W' ? count * 7n : count;
    const us = days * 86_400_000_000n;
    if (us < MIN_US || us > MAX_US) return asInt();
    return DateOnly.fromDate(new Date(Number(days) * 86_400_000));
  }
  const per = US_PER[unit];
  if (per === undefined) return asInt();
  const us = count * per;
  if (us < MIN_US || us > MAX_US) return asInt();
  const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n);
  const extra = Number(us - ms * 1000n);
  return extra ? new DateTime(Number(ms), extra) : new Date(Number(ms));
}

/**
 * A numpy datetime64 array: an int64 NDArray of counts since 1970-01-01 in `unit`. It is an
 * NDArray (dtype int64), so numeric code can use it; packing writes the datetime64 class id.
 */
export class Datetime64Array extends NDArray<'int64'> {
  readonly unit: Datetime64Unit;
  constructor(init: { unit: Datetime64Unit; shape: readonly number[]; data: BigInt64Array | ArrayLike<bigint | number>; order?: Order }) {
    super({ dtype: 'int64', shape: init.shape, data: init.data, order: init.order });
    if (!(DATETIME64_UNITS as readonly string[]).includes(init.unit)) {
      throw new DataJointError(`Unknown datetime64 unit "${String(init.unit)}"`);
    }
    this.unit = init.unit;
  }
  /** Element values as numpy's `.item()` would give them (Date / DateOnly / count / null). */
  items(): Array<DateOnly | Date | number | bigint | null> {
    return Array.from(this.data, (c) => datetime64Item(c, this.unit));
  }
}

// ---------------------------------------------------------------------------------------------
// MATLAB types

