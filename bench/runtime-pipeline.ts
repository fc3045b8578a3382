/**
 * Tables for bench/runtime.bench.ts (a module, so populate's worker threads can import it):
 * the compute runtime's cases: a trivial make, a CPU-bound make, an I/O-bound make (1 MB blob in,
 * 1 MB blob out) and a three-part make moving 16 MB per key through fetch → compute → insert.
 */
import * as dj from '../src/index.js';
import { useDefaultHost } from './common.js';
import { BUSY_ITERATIONS, BUSY_MS, work } from './busy-work.js';

export { BUSY_ITERATIONS, BUSY_MS, work };

if (!process.env.DJ_BACKEND) useDefaultHost();
export const schema = dj.schema(process.env.DJ_BENCH_DB ?? 'djbench_runtime', { module: import.meta.url });
export const IO_BYTES = 1 << 20;
export const BIG_BYTES = 16 << 20;

type Key = Record<string, unknown>;

export class Src extends dj.Manual {
  static definition = `src_id : int32\n---\nx : float64`;
}
schema.add(Src);

export class Trivial extends dj.Computed {
  static definition = `-> Src\n---\ny : float64`;
  async make(key: Key) {
    const x = (await Src.restrict(key).fetch1('x')) as number;
    await this.insert1({ ...key, y: x * 2 });
  }
}
schema.add(Trivial);


/** Records the time its arithmetic took, so the bench can subtract exactly that from the wall time. */
export class Busy extends dj.Computed {
  static definition = `-> Src\n---\nacc : float64\nwork_ms : float64`;
  async make(key: Key) {
    const x = (await Src.restrict(key).fetch1('x')) as number;
    const t0 = performance.now();
    const acc = work(x, BUSY_ITERATIONS);
    await this.insert1({ ...key, acc, work_ms: performance.now() - t0 });
  }
}
schema.add(Busy);

/** 1 MB of float64 per key. */
export class Signal extends dj.Manual {
  static definition = `sig_id : int32\n---\nsamples : <blob>`;
}
schema.add(Signal);

/** I/O-bound: reads its 1 MB blob, writes 1 MB back (a cheap transform in between). */
export class Filtered extends dj.Computed {
  static definition = `-> Signal\n---\nfiltered : <blob>`;
  async make(key: Key) {
    const x = (await Signal.restrict(key).fetch1('samples')) as dj.NDArray;
    const d = x.data as Float64Array;
    const out = new Float64Array(d.length);
    for (let i = 1; i < d.length; i++) out[i] = 0.5 * (d[i]! + d[i - 1]!);
    await this.insert1({ ...key, filtered: new dj.NDArray({ dtype: 'float64', shape: x.shape, data: out }) });
  }
}
schema.add(Filtered);

/** The raw-driver baseline's output (bench/runtime-io-raw.ts): the same bytes, written without populate. */
export class RawOut extends dj.Manual {
  static definition = `sig_id : int32\n---\nfiltered : bytes`;
}
schema.add(RawOut);

/** 16 MB of float64 per key, as four 4 MB slabs (a row over MariaDB's default 16 MB max_allowed_packet is refused). */
export const SLABS = 4;
export class Volume extends dj.Manual {
  static definition = `vol_id : int32`;
  static Slab = class extends dj.Part {
    static definition = `-> master\nslab : uint8\n---\nvoxels : <blob>`;
  };
}
schema.add(Volume);

/** Three-part: 16 MB fetched, moved to a worker, a 16 MB result moved back and inserted. */
export class Scaled extends dj.Computed {
  static definition = `-> Volume\n---\ntotal : float64`;
  static Slab = class extends dj.Part {
    static definition = `-> master\nslab : uint8\n---\nscaled : <blob>`;
  };
  async makeFetch(key: Key): Promise<dj.NDArray[]> {
    return (await Volume.Slab.restrict(key).toArrays('voxels', { orderBy: 'slab' })) as dj.NDArray[];
  }
  makeCompute(_key: Key, slabs: dj.NDArray[]) {
    let total = 0;
    const scaled = slabs.map((a) => {
      const d = a.data as Float64Array;
      const out = new Float64Array(d.length);
      for (let i = 0; i < d.length; i++) total += out[i] = 2 * d[i]!;
      return new dj.NDArray({ dtype: 'float64', shape: a.shape, data: out });
    });
    return { scaled, total };
  }
  async makeInsert(key: Key, c: { scaled: dj.NDArray[]; total: number }) {
    await this.insert1({ ...key, total: c.total });
    await Scaled.Slab.insert(c.scaled.map((scaled, slab) => ({ ...key, slab, scaled })));
  }
}
schema.add(Scaled);
