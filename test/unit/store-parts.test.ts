/** Cutting uploads into parts: exact sizes across chunk boundaries, lazy file reads. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { fileParts, partsOf, prepend, slices } from '../../src/stores/parts.js';

async function all<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

describe('parts', () => {
  test('slices are views of exact size', async () => {
    const parts = await all(slices(data, 300));
    expect(parts.map((p) => p.length)).toEqual([300, 300, 300, 100]);
    expect(parts[1]!.buffer).toBe(data.buffer); // no copy
  });

  test.each([[1], [7], [299], [300], [301], [1000]])('a stream in %d-byte chunks regroups into 300-byte parts', async (chunk) => {
    const src = Readable.from((function* () {
      for (let at = 0; at < data.length; at += chunk) yield data.subarray(at, at + chunk);
    })());
    const parts = await all(partsOf(src, 300));
    expect(parts.map((p) => p.length)).toEqual([300, 300, 300, 100]);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  test('an empty stream has no parts; an exact multiple has no empty tail', async () => {
    expect(await all(partsOf(Readable.from([]), 300))).toEqual([]);
    expect((await all(partsOf(Readable.from([data.subarray(0, 600)]), 300))).map((p) => p.length)).toEqual([300, 300]);
  });

  test('file parts are read on demand', async () => {
    const dir = mkdtempSync(join(tmpdir(), `djtest_parts_${process.pid}_`));
    try {
      const f = join(dir, 'f.bin');
      writeFileSync(f, data);
      const parts = await all(fileParts(f, data.length, 400));
      expect(parts.map((p) => p.length)).toEqual([400, 400, 200]);
      expect(Buffer.concat(parts).equals(data)).toBe(true);
      await expect(all(fileParts(f, data.length + 10, 400))).rejects.toThrow(/shrank/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('prepend puts read-ahead parts back in front', async () => {
    async function* rest() {
      yield 3;
      yield 4;
    }
    expect(await all(prepend([1, 2], rest()))).toEqual([1, 2, 3, 4]);
  });
});
