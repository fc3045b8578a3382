/**
 * How big the rows of a streamed result are, so that a stream's batches are bounded by bytes as
 * well as by rows: 4,096 rows of 512 KiB blobs would be 2 GiB held before the first row is seen.
 * Both drivers cut a batch at StreamOptions.batchBytes (default BATCH_BYTES), and say the sizes
 * they refuse (a statement over MySQL's max_allowed_packet, a bytea PostgreSQL cannot give back)
 * in MiB alike.
 */

/** Bytes per streamed batch unless the caller says otherwise. */
export const BATCH_BYTES = 16 * 2 ** 20;

/** About what a row's values hold: bytes of binary and text values, 8 for anything else. */
export function rowBytes(row: readonly unknown[]): number {
  let n = 0;
  for (const v of row) n += v instanceof Uint8Array ? v.byteLength : typeof v === 'string' ? v.length : 8;
  return n;
}

/** Bytes as MiB with one decimal, for messages about sizes (`20.0 MiB`). */
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
