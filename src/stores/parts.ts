/**
 * Cutting bytes into the parts of a multipart upload, lazily, so that at most the parts in
 * flight are held in memory: views of a buffer, a stream regrouped into fixed-size parts, or
 * ranges of a local file read when the uploader asks for them.
 */
import { open as openFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DataJointError } from '../errors.js';

/** Consecutive `size`-byte views of a buffer (no copies). */
export function* slices(buf: Buffer, size: number): Iterable<Buffer> {
  for (let at = 0; at < buf.length; at += size) yield buf.subarray(at, at + size);
}

/** Regroup a byte stream into parts of exactly `size` bytes (the last may be shorter; none empty). */
export async function* partsOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let have = 0;
  for await (const chunk of stream) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    while (have + buf.length >= size) {
      const take = size - have;
      pending.push(buf.subarray(0, take));
      yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
      buf = buf.subarray(take);
      pending = [];
      have = 0;
    }
    if (buf.length) {
      pending.push(buf);
      have += buf.length;
    }
  }
  if (have) yield Buffer.concat(pending, have);
}

/** The parts of a local file, each read when the uploader asks for it. */
export async function* fileParts(localPath: string, size: number, partSize: number): AsyncGenerator<Buffer> {
  const fh = await openFile(localPath, 'r');
  try {
    for (let at = 0; at < size; at += partSize) {
      const n = Math.min(partSize, size - at);
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, at + got);
        if (bytesRead === 0) throw new DataJointError(`Local file ${localPath} shrank while being uploaded`);
        got += bytesRead;
      }
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

export async function* prepend<T>(head: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* head;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}
