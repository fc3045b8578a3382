/**
 * Synthetic two-photon calcium-imaging recordings, so the main job needs no data download and
 * knows the truth its analysis should find. A field of view has a textured background crossed
 * by dark blood vessels, a faint flickering neuropil haze, and cells: soft rings (the nucleus is
 * dark in GCaMP) whose brightness follows a calcium trace (spikes convolved with a rise and a
 * decay). The brain moves: each frame is the scene shifted by a few pixels (a random walk with
 * jumps). Photon shot noise and read noise are added and the frames rounded to uint16.
 *
 * Everything is deterministic in the seed, so every run writes the same recordings.
 */
import { rng, rng32 } from '../random.js';

export { rng };

/**
 * Standard normal deviates for pixel noise, drawn from a fixed table of 2^16 Box–Muller values
 * by a random index: millions of pixels per second, and plenty of randomness for noise.
 */
let normals: Float32Array | undefined;
function noiseSource(seed: number): () => number {
  if (!normals) {
    const rand = rng(0x9e3779b9);
    normals = new Float32Array(1 << 16);
    for (let i = 0; i < normals.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12)));
      const th = 2 * Math.PI * rand();
      normals[i] = r * Math.cos(th);
      normals[i + 1] = r * Math.sin(th);
    }
  }
  const table = normals;
  const next = rng32(seed);
  return () => table[next() >>> 16]!;
}

export interface RecordingSpec {
  frames: number;
  height: number;
  width: number;
  /** Frames per second. */
  fps: number;
  /** Number of cells planted. */
  cells: number;
  /** Largest displacement of the brain, in pixels. */
  maxShift: number;
  seed: number;
}

/** What the simulation planted: the answer the analysis is checked against. */
export interface GroundTruth {
  /** Cell centres (pixels, in the coordinates of the motion-free scene = frame at shift 0). */
  y: Float64Array;
  x: Float64Array;
  radius: Float64Array;
  /** Spike counts per cell (cells with none are silent: nothing to detect). */
  spikes: Uint32Array;
  /** Every spike as (cell, frame), in order of cells then frames. */
  spikeCell: Uint16Array;
  spikeFrame: Uint32Array;
  /** Calcium signal per cell (ΔF/F of the cell body), cells × frames, row-major. */
  calcium: Float32Array;
  /** Displacement of the scene in each frame: frame(y, x) = scene(y + dy, x + dx). */
  dy: Int16Array;
  dx: Int16Array;
}

/** Cell layout, activity and motion: cheap, computed up front. */
export function plantCells(spec: RecordingSpec): GroundTruth {
  const rand = rng(spec.seed);
  const { frames: T, height: H, width: W, fps } = spec;
  const y: number[] = [];
  const x: number[] = [];
  const radius: number[] = [];
  for (let tries = 0; y.length < spec.cells && tries < spec.cells * 200; tries++) {
    const r = 3.5 + 2 * rand();
    const cy = r + 3 + rand() * (H - 2 * r - 6);
    const cx = r + 3 + rand() * (W - 2 * r - 6);
    // Cells may touch but not overlap much, as in cortex.
    if (y.some((yy, i) => Math.hypot(yy - cy, x[i]! - cx) < 1.9 * Math.max(r, radius[i]!))) continue;
    y.push(cy);
    x.push(cx);
    radius.push(r);
  }
  const n = y.length;
  const calcium = new Float32Array(n * T);
  const spikes = new Uint32Array(n);
  const spikeCell: number[] = [];
  const spikeFrame: number[] = [];
  const tauRise = 0.07 * fps;
  for (let c = 0; c < n; c++) {
    // A few cells are silent; the others fire at 0.05–0.5 Hz.
    const rate = rand() < 0.12 ? 0 : 0.05 + 0.45 * rand() ** 2;
    const tauDecay = (0.5 + 0.7 * rand()) * fps;
    const trace = calcium.subarray(c * T, (c + 1) * T);
    for (let t = 0; t < T; t++) {
      if (rand() >= rate / fps) continue;
      spikes[c]!++;
      spikeCell.push(c);
      spikeFrame.push(t);
      const amp = 0.5 + rand();
      for (let u = t; u < T; u++) {
        const s = u - t;
        if (s > 8 * tauDecay) break;
        trace[u]! += amp * (Math.exp(-s / tauDecay) - Math.exp(-s / tauRise));
      }
    }
  }
  // Motion: a slow random walk with an occasional jump (the animal shifts its posture).
  const dy = new Int16Array(T);
  const dx = new Int16Array(T);
  let py = 0;
  let px = 0;
  const m = spec.maxShift;
  for (let t = 0; t < T; t++) {
    if (rand() < 0.01) {
      py = Math.round((rand() * 2 - 1) * m);
      px = Math.round((rand() * 2 - 1) * m);
    } else if (rand() < 0.15) {
      py = Math.max(-m, Math.min(m, py + (rand() < 0.5 ? -1 : 1)));
      px = Math.max(-m, Math.min(m, px + (rand() < 0.5 ? -1 : 1)));
    }
    dy[t] = py;
    dx[t] = px;
  }
  return { y: Float64Array.from(y), x: Float64Array.from(x), radius: Float64Array.from(radius), spikes, spikeCell: Uint16Array.from(spikeCell), spikeFrame: Uint32Array.from(spikeFrame), calcium, dy, dx };
}

/** The static scene on a canvas `margin` pixels larger than the frame on every side. */
interface Scene {
  margin: number;
  ch: number;
  cw: number;
  background: Float32Array;
  /** Per cell: canvas pixel indices of its footprint and their weights. */
  footprints: Array<{ idx: Uint32Array; weight: Float32Array; brightness: number }>;
  neuropil: Float32Array;
}

function buildScene(spec: RecordingSpec, truth: GroundTruth): Scene {
  const rand = rng(spec.seed ^ 0x5eed);
  const margin = spec.maxShift + 1;
  const ch = spec.height + 2 * margin;
  const cw = spec.width + 2 * margin;
  const background = new Float32Array(ch * cw);
  // Smooth texture: a few random plane waves, plus vignetting (dimmer towards the edges).
  const waves = Array.from({ length: 6 }, () => [rand() * 0.15, rand() * 0.15, rand() * 2 * Math.PI, 20 + 30 * rand()] as const);
  // Blood vessels: dark curved bands (quadratic Bézier curves).
  const vessels = Array.from({ length: 3 }, () => {
    const p = [0, 1, 2].map(() => [rand() * ch, rand() * cw] as const);
    return { p, width: 1.5 + 2 * rand() };
  });
  for (let i = 0; i < ch; i++)
    for (let j = 0; j < cw; j++) {
      let v = 260;
      for (const [ky, kx, ph, a] of waves) v += a * Math.sin(ky * i + kx * j + ph);
      const ry = (i - ch / 2) / ch;
      const rx = (j - cw / 2) / cw;
      v *= 1 - 0.9 * (ry * ry + rx * rx);
      background[i * cw + j] = v;
    }
  const dark = new Float32Array(ch * cw).fill(1);
  for (const { p, width } of vessels) {
    for (let s = 0; s <= 1; s += 0.002) {
      const vy = (1 - s) * (1 - s) * p[0]![0] + 2 * s * (1 - s) * p[1]![0] + s * s * p[2]![0];
      const vx = (1 - s) * (1 - s) * p[0]![1] + 2 * s * (1 - s) * p[1]![1] + s * s * p[2]![1];
      const r = Math.ceil(2 * width);
      for (let i = Math.max(0, Math.floor(vy) - r); i <= Math.min(ch - 1, Math.floor(vy) + r); i++)
        for (let j = Math.max(0, Math.floor(vx) - r); j <= Math.min(cw - 1, Math.floor(vx) + r); j++) {
          const d = Math.hypot(i - vy, j - vx);
          dark[i * cw + j] = Math.min(dark[i * cw + j]!, 1 - 0.55 * Math.exp(-((d / width) ** 2)));
        }
    }
  }
  for (let i = 0; i < background.length; i++) background[i]! *= dark[i]!;
  const footprints = [];
  for (let c = 0; c < truth.y.length; c++) {
    const cy = truth.y[c]! + margin;
    const cx = truth.x[c]! + margin;
    const r = truth.radius[c]!;
    const idx: number[] = [];
    const weight: number[] = [];
    for (let i = Math.floor(cy - 2 * r); i <= Math.ceil(cy + 2 * r); i++)
      for (let j = Math.floor(cx - 2 * r); j <= Math.ceil(cx + 2 * r); j++) {
        if (i < 0 || j < 0 || i >= ch || j >= cw) continue;
        const d = Math.hypot(i - cy, j - cx) / r;
        // A soft disc with a dark nucleus.
        const w = Math.exp(-(d ** 4)) * (1 - 0.6 * Math.exp(-((d / 0.45) ** 2)));
        if (w < 0.02) continue;
        idx.push(i * cw + j);
        weight.push(w);
      }
    footprints.push({ idx: Uint32Array.from(idx), weight: Float32Array.from(weight), brightness: 120 + 160 * rand() });
  }
  // Neuropil: slow fluctuations of the haze, shared by the whole field.
  const neuropil = new Float32Array(spec.frames);
  let level = 0;
  for (let t = 0; t < spec.frames; t++) {
    level = 0.97 * level + 0.03 * (rand() < 0.02 ? 3 : 0) + 0.01 * (rand() - 0.5);
    neuropil[t] = level;
  }
  return { margin, ch, cw, background, footprints, neuropil };
}

/**
 * Render frames [t0, t1) as uint16 (t1 − t0) × height × width, row-major. Deterministic in
 * (seed, t0): any block can be rendered on its own, in any order.
 */
function renderFrames(spec: RecordingSpec, truth: GroundTruth, scene: Scene, t0: number, t1: number): Uint16Array {
  const { height: H, width: W, frames: T } = spec;
  const { margin, cw, background, footprints, neuropil } = scene;
  const out = new Uint16Array((t1 - t0) * H * W);
  const canvas = new Float32Array(background.length);
  const noise = noiseSource(spec.seed * 7919 + t0);
  for (let t = t0; t < t1; t++) {
    const haze = 1 + 0.25 * neuropil[t]!;
    for (let i = 0; i < canvas.length; i++) canvas[i] = background[i]! * haze;
    for (let c = 0; c < footprints.length; c++) {
      const { idx, weight, brightness } = footprints[c]!;
      const gain = brightness * (1 + truth.calcium[c * T + t]!);
      for (let k = 0; k < idx.length; k++) canvas[idx[k]!]! += gain * weight[k]!;
    }
    const oy = margin + truth.dy[t]!;
    const ox = margin + truth.dx[t]!;
    const frame = out.subarray((t - t0) * H * W, (t - t0 + 1) * H * W);
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const f = canvas[(i + oy) * cw + j + ox]!;
        // Shot noise (variance ∝ signal, 2 counts per photon) and read noise (σ = 6 counts).
        const v = 100 + f + Math.sqrt(2 * f + 36) * noise();
        frame[i * W + j] = v < 0 ? 0 : v > 65535 ? 65535 : Math.round(v);
      }
  }
  return out;
}

/** A recording ready to be rendered block by block. */
export function simulate(spec: RecordingSpec): { truth: GroundTruth; render(t0: number, t1: number): Uint16Array } {
  const truth = plantCells(spec);
  const scene = buildScene(spec, truth);
  return { truth, render: (t0, t1) => renderFrames(spec, truth, scene, t0, t1) };
}
