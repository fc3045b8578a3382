/**
 * The fractal pipeline of DataJoint's tutorial, in TypeScript: Julia-set images computed per
 * parameter set, then denoised by every method. The schema names this module so that
 * populate({ processes: N }) can load it in worker threads.
 */
import * as dj from '../../src/index.js';
import { rng } from '../random.js';

export const schema = dj.schema(process.env.DJ_FRACTAL_SCHEMA ?? 'dj_fractal', { module: import.meta.url });

export const SIZE = 256;


/** Escape-time image of the Julia set for c, column-major (Fortran order) like MATLAB/numpy F. */
export function julia(cRe: number, cIm: number, size = SIZE, iters = 256): Float32Array {
  const img = new Float32Array(size * size);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let x = (2 * j) / (size - 1) - 1;
      let y = (2 * i) / (size - 1) - 1;
      let n = 0;
      while (n < iters && x * x + y * y < 4) {
        const xt = x * x - y * y + cRe;
        y = 2 * x * y + cIm;
        x = xt;
        n++;
      }
      img[i + j * size] = n;
    }
  }
  return img;
}

export function gaussian(img: Float32Array, size: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ksum = k.reduce((a, b) => a + b, 0);
  const pass = (src: Float32Array, di: number, dj: number) => {
    const out = new Float32Array(src.length);
    for (let j = 0; j < size; j++)
      for (let i = 0; i < size; i++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) {
          const ii = Math.min(size - 1, Math.max(0, i + t * di));
          const jj = Math.min(size - 1, Math.max(0, j + t * dj));
          acc += k[t + r]! * src[ii + jj * size]!;
        }
        out[i + j * size] = acc / ksum;
      }
    return out;
  };
  return pass(pass(img, 1, 0), 0, 1);
}

export function median(img: Float32Array, size: number, radius: number): Float32Array {
  const out = new Float32Array(img.length);
  const win: number[] = [];
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++) {
      win.length = 0;
      for (let dj = -radius; dj <= radius; dj++)
        for (let di = -radius; di <= radius; di++) {
          if (di * di + dj * dj > radius * radius) continue; // disk footprint
          const ii = Math.min(size - 1, Math.max(0, i + di));
          const jj = Math.min(size - 1, Math.max(0, j + dj));
          win.push(img[ii + jj * size]!);
        }
      win.sort((a, b) => a - b);
      out[i + j * size] = win[win.length >> 1]!;
    }
  return out;
}

/** Total-variation denoising by gradient descent on the ROF energy. */
export function tv(img: Float32Array, size: number, weight: number, steps = 60): Float32Array {
  const u = Float32Array.from(img);
  const lambda = 1 / weight;
  const dt = 0.2;
  const eps = 1;
  for (let s = 0; s < steps; s++) {
    const next = new Float32Array(u.length);
    for (let j = 0; j < size; j++)
      for (let i = 0; i < size; i++) {
        const at = (a: number, b: number) => u[Math.min(size - 1, Math.max(0, a)) + Math.min(size - 1, Math.max(0, b)) * size]!;
        const c = at(i, j);
        const dx = at(i + 1, j) - c;
        const dy = at(i, j + 1) - c;
        const dxm = c - at(i - 1, j);
        const dym = c - at(i, j - 1);
        const n1 = Math.sqrt(dx * dx + dy * dy + eps);
        const n2 = Math.sqrt(dxm * dxm + (at(i - 1, j + 1) - at(i - 1, j)) ** 2 + eps);
        const n3 = Math.sqrt((at(i + 1, j - 1) - at(i, j - 1)) ** 2 + dym * dym + eps);
        const div = dx / n1 - dxm / n2 + dy / n1 - dym / n3;
        next[i + j * size] = c + dt * (div - lambda * (c - img[i + j * size]!));
      }
    u.set(next);
  }
  return u;
}

const image = (data: Float32Array) => new dj.NDArray({ dtype: 'float32', shape: [SIZE, SIZE], data, order: 'F' });

export class JuliaSpec extends dj.Manual {
  static definition = `
  # parameters of a Julia fractal
  spec_id : uint8
  ---
  c_real : float64           # real part of c
  c_imag : float64           # imaginary part of c
  noise_level = 50 : float64
  `;
}
schema.add(JuliaSpec);

export class JuliaImage extends dj.Computed {
  static definition = `
  # a generated fractal image with noise
  -> JuliaSpec
  ---
  image : <blob>
  `;
  async make(key: Record<string, unknown>) {
    const spec = (await JuliaSpec.restrict(key).fetch1()) as { spec_id: number; c_real: number; c_imag: number; noise_level: number };
    const img = julia(spec.c_real, spec.c_imag);
    const rand = rng(spec.spec_id + 1);
    for (let i = 0; i < img.length; i++) img[i]! += (rand() + rand() + rand() - 1.5) * spec.noise_level;
    await this.insert1({ ...key, image: image(img) });
  }
}
schema.add(JuliaImage);

export class DenoiseMethod extends dj.Lookup {
  static definition = `
  method_id : uint8
  ---
  method_name : varchar(20)
  params : <blob>
  `;
  static contents = [
    [0, 'gaussian', { sigma: 1.8 }],
    [1, 'median', { radius: 3 }],
    [2, 'tv', { weight: 20.0 }],
  ];
}
schema.add(DenoiseMethod);

interface Fetched {
  image: Float32Array;
  method: string;
  params: Record<string, number>;
}

/** Three-part make: the compute step runs on a worker thread; the pixels move there by transfer. */
export class Denoised extends dj.Computed {
  static definition = `
  # each image denoised by each method
  -> JuliaImage
  -> DenoiseMethod
  ---
  denoised : <blob>
  `;
  async makeFetch(key: Record<string, unknown>): Promise<Fetched> {
    const img = (await JuliaImage.restrict(key).fetch1('image')) as dj.NDArray;
    const [method, params] = (await DenoiseMethod.restrict(key).fetch1('method_name', 'params')) as [string, Record<string, number>];
    return { image: Float32Array.from(img.data as Float32Array), method, params };
  }
  makeCompute(_key: Record<string, unknown>, f: Fetched): Float32Array {
    switch (f.method) {
      case 'gaussian':
        return gaussian(f.image, SIZE, f.params.sigma!);
      case 'median':
        return median(f.image, SIZE, f.params.radius!);
      case 'tv':
        return tv(f.image, SIZE, f.params.weight!);
      default:
        throw new Error(`Unknown method: ${f.method}`);
    }
  }
  async makeInsert(key: Record<string, unknown>, result: Float32Array) {
    await this.insert1({ ...key, denoised: image(result) });
  }
}
schema.add(Denoised);
