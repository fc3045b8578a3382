/**
 * Streaming: `for await (const row of expr)` and arrowBatches read one server-side cursor with
 * bounded memory. A 1,000,000-row result (a cross join computed by the server) is iterated
 * while the heap is sampled; materializing it would need several hundred MB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { dj, freshSchema, cleanup } from './helpers.js';

// A collection before each sample measures live memory, not garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** Live JS heap plus ArrayBuffer memory (Arrow buffers live outside the JS heap). */
function live(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

let schema: dj.SchemaDecorator;

class Num extends dj.Manual {
  static definition = `n : int32`;
}

class Wide extends dj.Manual {
  static definition = `wide_id : int32\n---\npayload : bytes`;
}
class WideCopy extends dj.Manual {
  static definition = `wide_id : int32\n---\npayload : bytes`;
}
const WIDE_ROWS = 160; // of 1 MiB each

beforeAll(async () => {
  schema = await freshSchema('fstream');
  schema.add(Num);
  schema.add(Wide);
  schema.add(WideCopy);
  await Num.insert(Array.from({ length: 1000 }, (_, i) => [i]));
});
afterAll(() => cleanup(schema));

function million(): dj.QueryExpression {
  return Num.proj({ a: 'n' })
    .join(Num.proj({ b: 'n' }))
    .proj({ label: "CONCAT('row-', a, '-', b, '-with-some-padding-text')" });
}

const MB = 1024 * 1024;
// Generous: the rows themselves (1e6 objects with a ~40-character string) would be ~150 MB+.
const BOUND = 48 * MB;

describe('streaming', () => {
  it('iterates 1,000,000 rows with for await while the heap stays bounded', async () => {
    const expr = million();
    expect(await expr.count()).toBe(1_000_000);
    const base = live();
    let peak = base;
    let n = 0;
    let sum = 0;
    let labelChars = 0;
    for await (const row of expr) {
      n++;
      sum += (row.a as number) + (row.b as number);
      labelChars += (row.label as string).length;
      if (n % 100_000 === 0) peak = Math.max(peak, live());
    }
    expect(n).toBe(1_000_000);
    expect(sum).toBe(2 * 1000 * (999 * 1000) / 2);
    expect(labelChars).toBeGreaterThan(30_000_000);
    const growth = peak - base;
    console.log(`for await over 1e6 rows: heap growth ${(growth / MB).toFixed(1)} MB (bound ${BOUND / MB} MB)`);
    expect(growth).toBeLessThan(BOUND);
    expect(await Num.count()).toBe(1000); // the connection is usable afterwards
  }, 120_000);

  it('streams Arrow record batches from one cursor with bounded memory', async () => {
    const base = live();
    let peak = base;
    let rows = 0;
    let batches = 0;
    for await (const batch of million().arrowBatches({ batchSize: 50_000 })) {
      rows += batch.numRows;
      batches++;
      expect(batch.schema.fields.map((f) => f.name)).toEqual(['a', 'b', 'label']);
      if (batches % 4 === 0) peak = Math.max(peak, live());
    }
    expect(rows).toBe(1_000_000);
    expect(batches).toBe(20);
    const growth = peak - base;
    console.log(`arrowBatches over 1e6 rows: heap growth ${(growth / MB).toFixed(1)} MB (bound ${BOUND / MB} MB)`);
    expect(growth).toBeLessThan(BOUND);
  }, 120_000);

  it('reads wide rows a few MiB at a time: the first row comes before the whole result is held', async () => {
    for (let i = 0; i < WIDE_ROWS; i += 16) await Wide.insert(Array.from({ length: 16 }, (_, j) => ({ wide_id: i + j, payload: Buffer.alloc(MB, i + j) })));
    const base = live();
    let atFirst = 0;
    let peak = base;
    let n = 0;
    for await (const row of Wide) {
      // A batch was 4,096 rows whatever their size: all 160 MiB were read before the first row.
      if (n === 0) atFirst = live() - base;
      expect((row.payload as Buffer)[0]).toBe(n++ % 256);
      if (n % 16 === 0) peak = Math.max(peak, live());
    }
    expect(n).toBe(WIDE_ROWS);
    console.log(`for await over ${WIDE_ROWS} × 1 MiB: ${(atFirst / MB).toFixed(1)} MB held at the first row, peak growth ${((peak - base) / MB).toFixed(1)} MB`);
    expect(atFirst).toBeLessThan(80 * MB);
    expect(peak - base).toBeLessThan(80 * MB);
  }, 120_000);

  it('inserts wide rows from an async iterable a few MiB at a time, in one transaction', async () => {
    const base = live();
    let peak = base;
    async function* rows(failAt = Infinity) {
      for (let i = 0; i < WIDE_ROWS; i++) {
        if (i === failAt) throw new Error('source failed');
        if (i % 16 === 0) peak = Math.max(peak, live());
        yield { wide_id: i, payload: Buffer.alloc(MB, i) };
      }
    }
    // Batches were 10,000 rows whatever their size: all 160 MiB were held before the first INSERT.
    expect(await WideCopy.insert(rows())).toBe(WIDE_ROWS);
    console.log(`insert of ${WIDE_ROWS} × 1 MiB from an async iterable: peak growth ${((peak - base) / MB).toFixed(1)} MB`);
    expect(peak - base).toBeLessThan(80 * MB);
    expect(await WideCopy.count()).toBe(WIDE_ROWS);
    // Still one transaction: a source failing near the end leaves nothing.
    await WideCopy.deleteQuick();
    await expect(WideCopy.insert(rows(WIDE_ROWS - 1))).rejects.toThrow('source failed');
    expect(await WideCopy.count()).toBe(0);
  }, 120_000);

  it('stops early without reading the rest', async () => {
    let n = 0;
    const t0 = Date.now();
    for await (const _row of million()) if (++n === 10) break;
    expect(n).toBe(10);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await Num.count()).toBe(1000);
  });
});
