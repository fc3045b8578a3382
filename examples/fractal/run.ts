/**
 * The fractal demo: run the fractal pipeline end to end.
 *   npm run demo:fractal             (DJ_HOST etc. as usual; nothing set: the embedded server)
 * Inserts fractal parameters, populates the images and all denoised versions — once with
 * processes: 1 and again with processes: N (N = the machine's cores) to show the speedup —
 * and writes one result as a PNG to examples/out/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as dj from '../../src/index.js';
import { schema, JuliaSpec, JuliaImage, DenoiseMethod, Denoised, SIZE } from './pipeline.js';
import { toPng } from './png.js';

const N = Math.max(2, availableParallelism());

async function timed<T>(label: string, fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`${label}: ${s.toFixed(2)} s`);
  return [r, s];
}

async function main() {
  await schema.drop({ prompt: false });
  await JuliaSpec.insert([
    { spec_id: 0, c_real: -0.4, c_imag: 0.6 },
    { spec_id: 1, c_real: -0.74543, c_imag: 0.11301 },
    { spec_id: 2, c_real: -0.1, c_imag: 0.651 },
    { spec_id: 3, c_real: -0.835, c_imag: -0.2321 },
    { spec_id: 4, c_real: 0.285, c_imag: 0.01 },
    { spec_id: 5, c_real: -0.70176, c_imag: -0.3842 },
  ]);
  await schema.declare();
  console.log(`schema ${schema.database}: ${(await schema.listTables()).join(', ')}`);
  console.log(`methods: ${(await DenoiseMethod.toDicts()).map((m) => m.method_name).join(', ')}\n`);

  await JuliaImage.populate({ displayProgress: true });
  console.log(`JuliaImage: ${await JuliaImage.count()} images of ${SIZE}×${SIZE}\n`);

  console.log(`Denoised with processes: 1`);
  const [r1, t1] = await timed('  took', () => Denoised.populate({ processes: 1, displayProgress: true }));
  const one = await Denoised.toDicts({ orderBy: 'KEY' });
  await Denoised.delete({ prompt: false });
  console.log(`Denoised with processes: ${N} (worker threads; the first call also starts them)`);
  const [rN, tN] = await timed('  took', () => Denoised.populate({ processes: N, displayProgress: true }));
  const many = await Denoised.toDicts({ orderBy: 'KEY' });
  const bytes = (a: unknown) => {
    const d = (a as dj.NDArray).data as Float32Array;
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  };
  const same = one.length === many.length && one.every((row, i) => bytes(row.denoised).equals(bytes(many[i]!.denoised)));
  console.log(`\n${r1.success} + ${rN.success} makes; identical results: ${same}; speedup ×${(t1 / tN).toFixed(2)} with ${N} processes`);
  console.log(await Denoised.progress());

  const row = (await Denoised.restrict({ spec_id: 0, method_id: 2 }).fetch1()) as { denoised: dj.NDArray };
  const noisy = (await JuliaImage.restrict({ spec_id: 0 }).fetch1('image')) as dj.NDArray;
  const outDir = fileURLToPath(new URL('../out/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${outDir}julia-noisy.png`, toPng(noisy.data as Float32Array, SIZE, SIZE));
  writeFileSync(`${outDir}julia-denoised-tv.png`, toPng(row.denoised.data as Float32Array, SIZE, SIZE));
  console.log(`wrote ${outDir}julia-noisy.png and ${outDir}julia-denoised-tv.png`);
  await dj.closeAll();
}

main().catch(async (err) => {
  console.error(err);
  await dj.closeAll();
  process.exit(1);
});
