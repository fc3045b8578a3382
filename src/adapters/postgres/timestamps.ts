/**
 * Date values as PostgreSQL input text, in UTC. The year is padded to four digits (PostgreSQL
 * reads `50-01-01` as 2050, `0050-01-01` as year 50), and years before 1 AD carry the `BC`
 * suffix PostgreSQL expects (JavaScript's year 0 is 1 BC).
 */
import { fractionText } from '../../connection/datetime.js';

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function yearText(d: Date): { year: string; era: string } {
  const y = d.getUTCFullYear();
  return y > 0 ? { year: pad(y, 4), era: '' } : { year: pad(1 - y, 4), era: ' BC' };
}

/** `YYYY-MM-DD` in UTC. */
export function pgDateText(d: Date): string {
  const { year, era } = yearText(d);
  return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}${era}`;
}

/** `YYYY-MM-DD HH:MM:SS.mmm[uuu]` in UTC. */
export function pgDatetimeText(d: Date): string {
  const { year, era } = yearText(d);
  return (
    `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${fractionText(d)}${era}`
  );
}
