/**
 * Python elements of the blob decoder (unpack.ts) that take more than a read or two: dicts
 * (objects when every key is a string, Maps otherwise), ints of any size (numbers when safe,
 * bigints beyond) and `datetime`/`date`/`time` values, checked to be valid dates and times.
 */
import { BlobError } from '../errors.js';
import { DateOnly, DateTime, TimeOfDay, setOwn, utcMs } from './types.js';
import { toSafe, type BlobReader } from './unpack-read.js';

/** Dict: LEN n, then n key ITEMs and value ITEMs in turn. */
export function readDict(r: BlobReader): unknown {
  const n = r.count('dict size', 2 * (r.lenSize + 1));
  const keys: unknown[] = [];
  const vals: unknown[] = [];
  let allStrings = true;
  for (let i = 0; i < n; i++) {
    const k = r.item();
    if (typeof k !== 'string') allStrings = false;
    keys.push(k);
    vals.push(r.item());
  }
  if (allStrings) {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) setOwn(o, keys[i] as string, vals[i]);
    return o;
  }
  const m = new Map<unknown, unknown>();
  for (let i = 0; i < n; i++) m.set(keys[i], vals[i]);
  return m;
}

/** Python int: u16 byte count, then little-endian two's complement. */
export function readInt(r: BlobReader): number | bigint {
  const n = r.u16();
  r.need(n, 'an integer');
  const b = r.u8;
  const p = r.pos;
  r.pos += n;
  if (n === 0) return 0;
  const negative = (b[p + n - 1]! & 0x80) !== 0;
  if (n <= 6) {
    // Fits a double exactly: no bigint needed.
    let x = 0;
    for (let i = n - 1; i >= 0; i--) x = x * 256 + b[p + i]!;
    return negative ? x - 2 ** (8 * n) : x;
  }
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += b[p + i]!.toString(16).padStart(2, '0');
  let x = BigInt('0x' + hex);
  if (negative) x -= 1n << BigInt(8 * n);
  return toSafe(x);
}

/** `t`: i32 YYYYMMDD date (-1: none), then i64 HHMMSSuuuuuu time (-1: none). */
export function readDatetime(r: BlobReader): Date | DateOnly | TimeOfDay | null {
  r.need(12, 'a datetime');
  const date = r.dv.getInt32(r.pos, true);
  const lo = r.dv.getUint32(r.pos + 4, true);
  const hi = r.dv.getInt32(r.pos + 8, true);
  r.pos += 12;
  const time = hi * 0x1_0000_0000 + lo;
  let y = 0,
    mo = 0,
    d = 0,
    h = 0,
    mi = 0,
    s = 0,
    us = 0;
  if (date >= 0) {
    y = Math.floor(date / 10000);
    mo = Math.floor(date / 100) % 100;
    d = date % 100;
    if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > new Date(utcMs(y, mo + 1, 0)).getUTCDate()) {
      throw new BlobError(`Blob is corrupt: invalid date ${date}`);
    }
  }
  if (time >= 0) {
    us = time % 1_000_000;
    const t = Math.floor(time / 1_000_000);
    s = t % 100;
    mi = Math.floor(t / 100) % 100;
    h = Math.floor(t / 10000);
    if (h > 23 || mi > 59 || s > 59) throw new BlobError(`Blob is corrupt: invalid time ${time}`);
  }
  if (date >= 0 && time >= 0) {
    const ms = utcMs(y, mo, d, h, mi, s, Math.floor(us / 1000));
    return us % 1000 ? new DateTime(ms, us % 1000) : new Date(ms);
  }
  if (date >= 0) return new DateOnly(y, mo, d);
  if (time >= 0) return new TimeOfDay(h, mi, s, us);
  return null;
}
