/**
 * The main job's analysis (examples/imaging/), without a server: the simulation is
 * deterministic and renders any block of frames on its own; motion correction recovers the
 * simulated displacement; cell detection finds planted cells and nothing on noise; traces and
 * ΔF/F follow a known signal; the PNG encoder writes valid files; the results digest tells
 * equal results from different ones; the figure draws what it is given.
 */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { simulate, rng, type RecordingSpec } from '../../examples/imaging/synth.js';
import { correctMotion, estimateShifts, summaryImages, type Movie } from '../../examples/imaging/register.js';
import { detectCells } from '../../examples/imaging/segment.js';
import { extractTraces } from '../../examples/imaging/traces.js';
import { gaussianBlur, percentile, slidingExtreme } from '../../examples/imaging/image.js';
import { encodePng, imagePng, RAMPS } from '../../examples/imaging/png.js';
import { digest, evaluateScan, pearson } from '../../examples/imaging/evaluate.js';
import { outlinePath, scanFigureSvg, type ScanFigure } from '../../examples/imaging/figure.js';
import * as dj from '../../src/index.js';

const spec: RecordingSpec = { frames: 300, height: 64, width: 64, fps: 15, cells: 6, maxShift: 2, seed: 7 };
const sim = simulate(spec);
const movie: Movie = { data: sim.render(0, spec.frames), frames: spec.frames, height: 64, width: 64 };

describe('simulation', () => {
  it('is deterministic in the seed, block by block', () => {
    expect(Buffer.from(simulate(spec).render(0, spec.frames).buffer).equals(Buffer.from(movie.data.buffer))).toBe(true);
    const a = sim.render(0, 50);
    const b = sim.render(50, 300);
    // Blocks are rendered from their own seeds, so a block alone is not a slice of the whole;
    // but the same block is always the same.
    expect(Buffer.from(sim.render(50, 300).buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(a.length + b.length).toBe(movie.data.length);
    expect(Buffer.from(simulate({ ...spec, seed: 8 }).render(0, 50).buffer).equals(Buffer.from(a.buffer))).toBe(false);
  });

  it('plants cells inside the frame, with spikes listed per cell and motion within maxShift', () => {
    const t = sim.truth;
    expect(t.y.length).toBe(spec.cells);
    for (let c = 0; c < t.y.length; c++) {
      expect(t.y[c]! - t.radius[c]!).toBeGreaterThan(0);
      expect(t.x[c]! + t.radius[c]!).toBeLessThan(spec.width);
    }
    expect(t.spikeCell.length).toBe(t.spikes.reduce((a, b) => a + b, 0));
    expect(Math.max(...Array.from(t.dy, Math.abs), ...Array.from(t.dx, Math.abs))).toBeLessThanOrEqual(spec.maxShift);
    expect(new Set(Array.from(t.dy)).size).toBeGreaterThan(1); // it does move
  });

  it('draws uniform deviates in [0, 1)', () => {
    const r = rng(3);
    const v = Array.from({ length: 1000 }, r);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThan(1);
    expect(Math.abs(v.reduce((a, b) => a + b) / v.length - 0.5)).toBeLessThan(0.05);
  });
});

describe('motion correction', () => {
  it('recovers the simulated displacement of every frame up to a constant', () => {
    const s = correctMotion(movie, spec.maxShift + 1);
    const oy = s.yShift[0]! - sim.truth.dy[0]!;
    const ox = s.xShift[0]! - sim.truth.dx[0]!;
    let off = 0;
    for (let t = 0; t < spec.frames; t++) if (s.yShift[t]! - sim.truth.dy[t]! !== oy || s.xShift[t]! - sim.truth.dx[t]! !== ox) off++;
    expect(off).toBeLessThanOrEqual(2);
  });

  it('finds a known shift of a textured frame exactly', () => {
    const H = 40;
    const W = 40;
    const r = rng(5);
    const scene = Float32Array.from({ length: 60 * 60 }, r);
    const smooth = gaussianBlur(scene, 60, 60, 1.5);
    const data = new Uint16Array(2 * H * W);
    const shifts = [[0, 0], [2, -3]];
    shifts.forEach(([dy, dx], t) => {
      for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) data[t * H * W + i * W + j] = Math.round(1000 * smooth[(i + 10 + dy!) * 60 + j + 10 + dx!]!);
    });
    const m = { data, frames: 2, height: H, width: W };
    const ref = Float32Array.from(data.subarray(0, H * W));
    const s = estimateShifts(m, ref, 4);
    expect([s.yShift[1], s.xShift[1]]).toEqual([2, -3]);
    expect([s.yShift[0], s.xShift[0]]).toEqual([0, 0]);
  });

  it('covers motion that mostly sits at one end of its range (search window centred on the range, not the median)', () => {
    const H = 40;
    const W = 40;
    const r = rng(9);
    const smooth = gaussianBlur(Float32Array.from({ length: 60 * 60 }, r), 60, 60, 1.5);
    const T = 40;
    // 3 px down in most frames, 3 px up in a few: estimates centred on the median (3) would need a 6 px shift.
    const dy = Array.from({ length: T }, (_, t) => (t % 8 === 5 ? -3 : 3));
    const data = new Uint16Array(T * H * W);
    for (let t = 0; t < T; t++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) data[t * H * W + i * W + j] = Math.round(1000 * smooth[(i + 10 + dy[t]!) * 60 + j + 10]!);
    const s = correctMotion({ data, frames: T, height: H, width: W }, 4);
    const off = s.yShift[0]! - dy[0]!;
    expect(Array.from(s.yShift, (v, t) => v - dy[t]!)).toEqual(new Array(T).fill(off));
    expect([...s.xShift]).toEqual(new Array(T).fill(s.xShift[0]));
  });

  it('summary images: the correlation is high on active cells, near zero on background and zero at the edges', () => {
    const s = correctMotion(movie, spec.maxShift + 1);
    const img = summaryImages(movie, s);
    const oy = s.yShift[0]! - sim.truth.dy[0]!;
    const ox = s.xShift[0]! - sim.truth.dx[0]!;
    const active = Array.from(sim.truth.spikes).findIndex((n) => n >= 3);
    const at = (im: Float32Array, y: number, x: number) => im[Math.round(y) * 64 + Math.round(x)]!;
    const cy = sim.truth.y[active]! + oy;
    const cx = sim.truth.x[active]! + ox;
    // The ring of the cell (the nucleus is dark), half a radius out from the centre.
    expect(at(img.corr, cy, cx + 0.7 * sim.truth.radius[active]!)).toBeGreaterThan(0.3);
    expect(percentile(img.corr, 50)).toBeLessThan(0.1);
    expect(img.corr[0]).toBe(0);
    for (let p = 0; p < img.mean.length; p++) expect(img.max[p]!).toBeGreaterThanOrEqual(img.mean[p]! - 1e-3);
  });
});

describe('cell detection', () => {
  /** A correlation image with Gaussian blobs at given places, on weak noise. */
  function blobs(centres: Array<[number, number, number]>): Float32Array {
    const r = rng(11);
    const img = Float32Array.from({ length: 64 * 64 }, () => 0.05 * (r() - 0.5));
    for (const [y, x, a] of centres)
      for (let i = 0; i < 64; i++) for (let j = 0; j < 64; j++) img[i * 64 + j]! += a * Math.exp(-((i - y) ** 2 + (j - x) ** 2) / (2 * 3 * 3));
    return img;
  }
  const params = { corrThreshold: 0.2, minArea: 15, maxRadius: 8, growFraction: 0.4 };

  it('finds each planted cell once, strongest first, with its centre', () => {
    const rois = detectCells(blobs([[20, 20, 0.8], [40, 45, 0.5], [15, 50, 0.6]]), 64, 64, params);
    expect(rois.map((r) => [Math.round(r.centerY), Math.round(r.centerX)])).toEqual([[20, 20], [15, 50], [40, 45]]);
    for (const r of rois) {
      expect(r.area).toBe(r.mask.length);
      expect(r.area).toBeGreaterThanOrEqual(params.minArea);
      expect([...r.mask]).toEqual([...r.mask].sort((a, b) => a - b));
    }
    const all = rois.flatMap((r) => [...r.mask]);
    expect(new Set(all).size).toBe(all.length); // no pixel in two cells
  });

  it('finds nothing on noise, and drops regions smaller than minArea', () => {
    expect(detectCells(blobs([]), 64, 64, params)).toEqual([]);
    expect(detectCells(blobs([[30, 30, 0.8]]), 64, 64, { ...params, minArea: 500 })).toEqual([]);
  });

  it('keeps regions within maxRadius of their seed', () => {
    const [roi] = detectCells(blobs([[30, 30, 0.9]]), 64, 64, { ...params, maxRadius: 3, growFraction: 0.01 });
    for (const p of roi!.mask) expect(Math.hypot(Math.floor(p / 64) - 30, (p % 64) - 30)).toBeLessThanOrEqual(3);
  });
});

describe('traces', () => {
  it('ΔF/F follows a known step in a cell, with the neuropil ring removed', () => {
    const T = 200;
    const H = 32;
    const W = 32;
    const data = new Uint16Array(T * H * W).fill(200);
    const mask: number[] = [];
    for (let i = 14; i < 18; i++) for (let j = 14; j < 18; j++) mask.push(i * W + j);
    for (let t = 0; t < T; t++) for (const p of mask) data[t * H * W + p] = t >= 100 && t < 110 ? 600 : 400;
    const zero = { yShift: new Int16Array(T), xShift: new Int16Array(T) };
    const [tr] = extractTraces({ data, frames: T, height: H, width: W }, zero, [Uint32Array.from(mask)], 10);
    expect(tr!.f[0]).toBe(400);
    expect(tr!.neuropil[0]).toBe(200);
    // F − 0.7·neuropil = 260 at rest, 460 during the step: ΔF/F = 200 / 260.
    expect(tr!.dff[50]).toBeCloseTo(0, 5);
    expect(tr!.dff[105]).toBeCloseTo(200 / 260, 5);
  });

  it('a shifted movie gives the same traces once its shifts are applied', () => {
    const s = correctMotion(movie, spec.maxShift + 1);
    const rois = detectCells(summaryImages(movie, s).corr, 64, 64, { corrThreshold: 0.2, minArea: 10, maxRadius: 8, growFraction: 0.4 });
    expect(rois.length).toBeGreaterThan(0);
    const traces = extractTraces(movie, s, rois.map((r) => r.mask), spec.fps);
    const e = evaluateScan(sim.truth, s.yShift, s.xShift, rois.map((r, i) => ({ roiIdx: i, centerY: r.centerY, centerX: r.centerX, dff: traces[i]!.dff })));
    expect(e.found).toBeGreaterThan(0);
    expect(e.falseRois).toBeLessThanOrEqual(1);
    expect(e.medianTraceCorr).toBeGreaterThan(0.9);
    expect(e.shiftErrors).toBeLessThanOrEqual(2);
  });

  it('sliding extremes and percentiles', () => {
    const x = Float32Array.from([5, 1, 4, 2, 8, 3]);
    expect([...slidingExtreme(x, 3, 'min')]).toEqual([1, 1, 1, 2, 2, 3]);
    expect([...slidingExtreme(x, 3, 'max')]).toEqual([5, 5, 4, 8, 8, 8]);
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([1, 2], 50)).toBe(1.5);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 10);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
  });
});

describe('figures', () => {
  it('encodes valid PNG files and refuses a wrong buffer size', () => {
    const png = encodePng(new Uint8Array(3 * 4 * 2).fill(7), 4, 2);
    expect(png.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))).toBe(true);
    expect(png.readUInt32BE(16)).toBe(4);
    expect(png.readUInt32BE(20)).toBe(2);
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    expect(raw.length).toBe(2 * (1 + 3 * 4));
    expect(() => encodePng(new Uint8Array(5), 4, 2)).toThrow(/24|RGB/);
    const img = imagePng(Float32Array.from([0, 1, 2, 3]), 2, 2, RAMPS.grey, 0, 100);
    const idat2 = img.indexOf('IDAT');
    const px = inflateSync(img.subarray(idat2 + 4, idat2 + 4 + img.readUInt32BE(idat2 - 4)));
    expect([px[1], px[4], px[8], px[11]]).toEqual([0, 85, 170, 255]);
  });

  it('outlines a mask along its pixel edges', () => {
    expect(outlinePath(Uint32Array.from([5]), 4, 10, 0, 0)).toBe('M10 10H20M10 20H20M10 10V20M20 10V20');
    // Two pixels side by side: the shared edge is not drawn.
    expect(outlinePath(Uint32Array.from([5, 6]), 4, 1, 0, 0).split('M').length - 1).toBe(6);
  });

  it('draws every cell, its number and the simulated spikes', () => {
    const d: ScanFigure = {
      title: 'Scan <1>',
      footer: 'footer',
      height: 8,
      width: 8,
      fps: 10,
      mean: new Float32Array(64),
      max: new Float32Array(64),
      corr: new Float32Array(64),
      yShift: new Int16Array(20),
      xShift: new Int16Array(20),
      trueY: new Int16Array(20),
      trueX: new Int16Array(20),
      maxShift: 2,
      rois: [0, 1, 2].map((i) => ({ roiIdx: i, mask: Uint32Array.from([i * 9]), centerY: i, centerX: i, dff: new Float32Array(20).fill(i / 10), snr: 3, spikes: i === 2 ? null : [3, 7] })),
      missed: [{ y: 4, x: 4, r: 2 }],
      silent: [],
    };
    const svg = scanFigureSvg(d);
    expect(svg).toContain('Scan &lt;1&gt;');
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg.match(/stroke="#222"/g)).toHaveLength(4); // two spikes for each of two cells
    expect(svg).toContain('no simulated cell');
    expect(svg).toContain('stroke-dasharray="4 3"');
  });
});

describe('results digest', () => {
  const rows = () => [{ a: 1, img: new dj.NDArray({ dtype: 'float32', shape: [2], data: Float32Array.from([1, 2]) }), s: 'x' }];
  it('is equal for equal results and differs on any change', () => {
    expect(digest(rows())).toBe(digest(rows()));
    const changed = rows();
    (changed[0]!.img.data as Float32Array)[1] = 2.0000002;
    expect(digest(changed)).not.toBe(digest(rows()));
    expect(digest([{ ...rows()[0]!, a: 2 }])).not.toBe(digest(rows()));
  });
});
