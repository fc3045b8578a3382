/**
 * The identity of a primary key in populate's bookkeeping. The keys populate deals are fetched,
 * so decoded (a datetime is a Date, a uuid its text, a large int64 a bigint), while the queries
 * that find which keys are done or reserved read raw rows (datetime text, uuid bytes on MySQL,
 * int64 text). `String()` of either told equal keys apart (a Date's text is not the column's),
 * so a datetime- or uuid-keyed table was never found reserved nor done. Raw rows are decoded
 * here as fetch decodes them, and every value is turned into text that is the same for equal
 * values of its type.
 */
import type { Heading } from '../heading/heading.js';
import type { Row } from '../fetch/fetch.js';
import { columnDecoder, type Decoder } from '../fetch/columns.js';
import { utcDatetimeText } from '../connection/datetime.js';

/** A key value as text, the same for equal values (a Date to its last digit, bytes as hex). */
function canonical(v: unknown): string {
  if (v instanceof Date) return utcDatetimeText(v); // to the microsecond when it carries them
  if (typeof v === 'bigint') return v.toString();
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return String(v);
}

export interface KeyIdentity {
  /** Of a key as populate holds it (fetched, or cloned to a worker thread). */
  ofKey(key: Row): string;
  /** Of a raw row of the primary key's columns (from Connection.query). */
  ofRaw(row: Row): string;
}

export function keyIdentity(heading: Heading, pk: readonly string[] = heading.primaryKey): KeyIdentity {
  const decoders: Array<[string, Decoder | null]> = pk.map((k) => {
    const a = heading.get(k);
    return [k, a ? columnDecoder(a) : null];
  });
  // A number and the same integer as a bigint (one from a fetch, one decoded here) are one key.
  const ofKey = (key: Row) => JSON.stringify(pk.map((k) => canonical(key[k])));
  return {
    ofKey,
    ofRaw: (row) => JSON.stringify(decoders.map(([k, d]) => canonical(d ? d(row[k]) : row[k]))),
  };
}
