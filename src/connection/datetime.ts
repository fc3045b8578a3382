/** UTC text of Date values for SQL DATE and DATETIME literals (millisecond precision, as Date has, or microseconds when the Date carries them). */
function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `YYYY-MM-DD` in UTC. */
export function utcDateText(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/**
 * The 0-999 µs beyond the millisecond that `d` carries, which a Date cannot (`extraMicros`, set
 * on datetime(6) values fetched with a sub-millisecond part: dj.blob.DateTime); 0 for a Date.
 */
export function extraMicros(d: Date): number {
  const extra = (d as { extraMicros?: unknown }).extraMicros;
  return typeof extra === 'number' && extra > 0 ? extra : 0;
}

/** The fraction of a second of `d` as text after the dot: milliseconds, or microseconds when it carries them. */
export function fractionText(d: Date): string {
  const extra = extraMicros(d);
  const ms = pad(d.getUTCMilliseconds(), 3);
  return extra ? `${ms}${pad(extra, 3)}` : ms;
}

/** `YYYY-MM-DD HH:MM:SS.mmm[uuu]` in UTC. */
export function utcDatetimeText(d: Date): string {
  return `${utcDateText(d)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${fractionText(d)}`;
}
