/** ArrayBuffers inside a value (typed arrays, NDArray data…), to transfer instead of copy. */
export function collectTransferables(value: unknown, out: Set<ArrayBuffer> = new Set(), seen: Set<object> = new Set()): ArrayBuffer[] {
  if (value === null || typeof value !== 'object') return [...out];
  if (seen.has(value)) return [...out];
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    // Only whole, non-shared buffers can move; a view into a pool-allocated Buffer must be copied.
    const b = value.buffer;
    if (b instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === b.byteLength && b.byteLength > 0) out.add(b);
  } else if (value instanceof ArrayBuffer) {
    if (value.byteLength > 0) out.add(value);
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      collectTransferables(k, out, seen);
      collectTransferables(v, out, seen);
    }
  } else if (value instanceof Set || Array.isArray(value)) {
    for (const v of value) collectTransferables(v, out, seen);
  } else {
    for (const v of Object.values(value)) collectTransferables(v, out, seen);
  }
  return [...out];
}
