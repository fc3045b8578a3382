/**
 * The main job's summary figure of one scan, drawn as SVG and rasterized to PNG by resvg:
 * A, the motion-corrected mean image with every detected cell outlined and numbered (and the
 * simulated cells the analysis missed, dashed); B and C, the max projection and the local
 * correlation image the cells were detected on; D, each cell's ΔF/F in its outline's colour,
 * with the simulated spikes underneath; E, the estimated motion against the simulated one.
 */
import { imagePng, RAMPS } from './png.js';

export interface FigureRoi {
  roiIdx: number;
  mask: Uint32Array;
  centerY: number;
  centerX: number;
  dff: Float32Array;
  snr: number;
  /** Frames of the simulated spikes of the matched cell; null when no simulated cell is there. */
  spikes: number[] | null;
}

export interface ScanFigure {
  title: string;
  footer: string;
  height: number;
  width: number;
  fps: number;
  mean: Float32Array;
  max: Float32Array;
  corr: Float32Array;
  yShift: Int16Array;
  xShift: Int16Array;
  /** Simulated displacement, in the estimate's frame of reference. */
  trueY: Int16Array;
  trueX: Int16Array;
  maxShift: number;
  rois: FigureRoi[];
  /** Active simulated cells no ROI found: centre and radius in image pixels. */
  missed: Circle[];
  /** Simulated cells that never fired (nothing to detect). */
  silent: Circle[];
}

export interface Circle {
  y: number;
  x: number;
  r: number;
}

/** Dashed circles (missed cells) or dotted ones (silent cells) over an image at (x0, y0). */
export function circles(list: Circle[], scale: number, x0: number, y0: number, kind: 'missed' | 'silent'): string {
  const style = kind === 'missed' ? 'stroke="#4dd0ff" stroke-width="1.6" stroke-dasharray="4 3"' : 'stroke="#9ab" stroke-width="1.2" stroke-dasharray="1.5 2.5"';
  return list.map((m) => `<circle cx="${f1(x0 + (m.x + 0.5) * scale)}" cy="${f1(y0 + (m.y + 0.5) * scale)}" r="${f1(m.r * scale * 1.3)}" ${style} fill="none"/>`).join('\n');
}

/** One colour per cell, for its outline, its number and its trace: readable on white and on a dark image (outlines get a black edge). */
export const PALETTE = ['#d62728', '#2ca02c', '#1f5fc4', '#f07f0e', '#9467bd', '#17a2c4', '#c43fb8', '#6f9e00', '#ff1493', '#2b7a72', '#b8a000', '#8c564b', '#e6194b', '#3cb44b', '#4363d8', '#d9822b'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

/** The outline of a mask: the pixel edges between it and the outside, as an SVG path. */
export function outlinePath(mask: Uint32Array, width: number, scale: number, x0: number, y0: number): string {
  const inside = new Set(mask);
  const segs: string[] = [];
  for (const p of mask) {
    const y = Math.floor(p / width);
    const x = p % width;
    const X = (v: number) => f1(x0 + v * scale);
    const Y = (v: number) => f1(y0 + v * scale);
    if (y === 0 || !inside.has(p - width)) segs.push(`M${X(x)} ${Y(y)}H${X(x + 1)}`);
    if (!inside.has(p + width)) segs.push(`M${X(x)} ${Y(y + 1)}H${X(x + 1)}`);
    if (x === 0 || !inside.has(p - 1)) segs.push(`M${X(x)} ${Y(y)}V${Y(y + 1)}`);
    if (x === width - 1 || !inside.has(p + 1)) segs.push(`M${X(x + 1)} ${Y(y)}V${Y(y + 1)}`);
  }
  return segs.join('');
}

export function embed(png: Buffer, x: number, y: number, w: number, h: number): string {
  return `<image x="${x}" y="${y}" width="${w}" height="${h}" preserveAspectRatio="none" href="data:image/png;base64,${png.toString('base64')}"/>`;
}

function caption(x: number, y: number, letter: string, text: string): string {
  return `<text x="${x}" y="${y}" font-size="15"><tspan font-weight="bold">${letter}</tspan>  ${esc(text)}</text>`;
}

/** Outlines (and numbers, when `labels`) of every ROI over an image placed at (x0, y0). */
function overlay(d: ScanFigure, x0: number, y0: number, size: number, labels: boolean): string {
  const s = size / d.width;
  const out: string[] = [];
  d.rois.forEach((r, i) => {
    const path = outlinePath(r.mask, d.width, s, x0, y0);
    out.push(`<path d="${path}" stroke="black" stroke-width="${labels ? 3 : 2}" fill="none" stroke-linecap="square"/>`);
    out.push(`<path d="${path}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="${labels ? 1.4 : 1}" fill="none" stroke-linecap="square"/>`);
  });
  if (labels) {
    d.rois.forEach((r, i) => {
      const x = x0 + (r.centerX + 0.5) * s + Math.sqrt(r.mask.length / Math.PI) * s * 0.75;
      const y = y0 + (r.centerY + 0.5) * s - Math.sqrt(r.mask.length / Math.PI) * s * 0.6;
      out.push(`<text x="${f1(x)}" y="${f1(y)}" font-size="13" font-weight="bold" fill="${PALETTE[i % PALETTE.length]}" stroke="black" stroke-width="3" paint-order="stroke">${r.roiIdx}</text>`);
    });
    out.push(circles(d.missed, s, x0, y0, 'missed'), circles(d.silent, s, x0, y0, 'silent'));
  }
  return out.join('\n');
}

function traces(d: ScanFigure, x0: number, y0: number, w: number, h: number): string {
  const out: string[] = [];
  const T = d.rois[0]?.dff.length ?? d.yShift.length;
  const n = Math.max(1, d.rois.length);
  const row = h / n;
  const labelW = 44;
  const plotW = w - labelW - 70;
  const X = (t: number) => x0 + labelW + (t / Math.max(1, T - 1)) * plotW;
  // One ΔF/F scale for all cells (so amplitudes compare): the median peak spans 1.3 rows.
  const peaks = d.rois.map((r) => r.dff.reduce((a, b) => Math.max(a, b), 0)).sort((a, b) => a - b);
  const unit = (1.3 * row) / Math.max(0.05, peaks[peaks.length >> 1] ?? 1);
  d.rois.forEach((r, i) => {
    const base = y0 + (i + 1) * row - 7;
    const color = PALETTE[i % PALETTE.length]!;
    const pts: string[] = [];
    for (let t = 0; t < r.dff.length; t++) pts.push(`${f1(X(t))},${f1(base - Math.max(-0.3, r.dff[t]!) * unit)}`);
    out.push(`<text x="${x0 + labelW - 8}" y="${f1(base - 2)}" font-size="12" text-anchor="end" font-weight="bold" fill="${color}">${r.roiIdx}</text>`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="1.1" stroke-linejoin="round"/>`);
    if (r.spikes) for (const t of r.spikes) out.push(`<line x1="${f1(X(t))}" x2="${f1(X(t))}" y1="${f1(base + 2)}" y2="${f1(base + 6)}" stroke="#222" stroke-width="1.2"/>`);
    else out.push(`<text x="${x0 + labelW + plotW + 6}" y="${f1(base - 2)}" font-size="11" fill="#a00">no simulated cell</text>`);
  });
  // Scale bar (ΔF/F) and time axis.
  const bar = [0.25, 0.5, 1, 2].find((v) => v * unit >= 25) ?? 2;
  const bx = x0 + labelW + plotW + 14;
  out.push(`<line x1="${bx}" x2="${bx}" y1="${y0 + 4}" y2="${f1(y0 + 4 + bar * unit)}" stroke="black" stroke-width="2"/>`);
  out.push(`<text x="${bx + 5}" y="${f1(y0 + 14 + (bar * unit) / 2)}" font-size="12">${bar * 100}% ΔF/F</text>`);
  const seconds = T / d.fps;
  const step = [1, 2, 5, 10, 20, 30, 60].find((v) => seconds / v <= 10) ?? 60;
  const axisY = y0 + h + 4;
  out.push(`<line x1="${X(0)}" x2="${f1(X(T - 1))}" y1="${axisY}" y2="${axisY}" stroke="black"/>`);
  for (let s = 0; s <= seconds; s += step) {
    const x = f1(X(s * d.fps));
    out.push(`<line x1="${x}" x2="${x}" y1="${axisY}" y2="${axisY + 5}" stroke="black"/><text x="${x}" y="${axisY + 18}" font-size="12" text-anchor="middle">${s}</text>`);
  }
  out.push(`<text x="${f1(X(T - 1))}" y="${axisY + 32}" font-size="12" text-anchor="end">time (s)   ▏ = simulated spike</text>`);
  return out.join('\n');
}

function motion(d: ScanFigure, x0: number, y0: number, w: number, h: number): string {
  const T = d.yShift.length;
  const labelW = 44;
  const plotW = w - labelW - 70;
  const X = (t: number) => x0 + labelW + (t / Math.max(1, T - 1)) * plotW;
  const m = d.maxShift + 1;
  const Y = (v: number) => y0 + h / 2 - (v / m) * (h / 2);
  const step = (a: Int16Array) => {
    let p = `M${f1(X(0))} ${f1(Y(a[0]!))}`;
    for (let t = 1; t < T; t++) p += `H${f1(X(t))}V${f1(Y(a[t]!))}`;
    return p;
  };
  const out = [
    `<rect x="${X(0)}" y="${y0}" width="${f1(plotW)}" height="${h}" fill="#f6f6f6"/>`,
    `<line x1="${X(0)}" x2="${f1(X(T - 1))}" y1="${f1(Y(0))}" y2="${f1(Y(0))}" stroke="#bbb"/>`,
    `<path d="${step(d.trueY)}" stroke="#000" stroke-width="4" stroke-opacity="0.18" fill="none"/>`,
    `<path d="${step(d.trueX)}" stroke="#000" stroke-width="4" stroke-opacity="0.18" fill="none"/>`,
    `<path d="${step(d.yShift)}" stroke="#1f5fc4" stroke-width="1.3" fill="none"/>`,
    `<path d="${step(d.xShift)}" stroke="#f07f0e" stroke-width="1.3" fill="none"/>`,
  ];
  for (const v of [-d.maxShift, 0, d.maxShift]) out.push(`<text x="${X(0) - 6}" y="${f1(Y(v) + 4)}" font-size="11" text-anchor="end">${v}</text>`);
  out.push(`<text x="${x0 + labelW + plotW + 8}" y="${f1(y0 + 14)}" font-size="12" fill="#1f5fc4">y (px)</text>`);
  out.push(`<text x="${x0 + labelW + plotW + 8}" y="${f1(y0 + 30)}" font-size="12" fill="#f07f0e">x (px)</text>`);
  out.push(`<text x="${x0 + labelW + plotW + 8}" y="${f1(y0 + 46)}" font-size="11" fill="#777">simulated</text>`);
  return out.join('\n');
}

/** The figure as SVG text. */
export function scanFigureSvg(d: ScanFigure): string {
  const W = 1500;
  const H = 1000;
  const big = 470;
  const small = 225;
  const L = 24;
  const R = 540;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="34" font-size="21" font-weight="bold">${esc(d.title)}</text>`,
    caption(L, 74, 'A', `Mean image (motion-corrected), ${d.rois.length} cells found`),
    embed(imagePng(d.mean, d.height, d.width, RAMPS.grey), L, 84, big, big),
    overlay(d, L, 84, big, true),
    d.missed.length ? `<text x="${L}" y="${84 + big + 17}" font-size="12" fill="#555">dashed cyan: simulated cells that fired but were not found</text>` : '',
    d.silent.length ? `<text x="${L}" y="${84 + big + (d.missed.length ? 32 : 17)}" font-size="12" fill="#555">dotted grey: simulated cells that never fired (nothing to find)</text>` : '',
    caption(L, 620, 'B', 'Max projection'),
    embed(imagePng(d.max, d.height, d.width, RAMPS.grey), L, 630, small, small),
    overlay(d, L, 630, small, false),
    caption(L + small + 20, 620, 'C', 'Local correlation'),
    embed(imagePng(d.corr, d.height, d.width, RAMPS.magma, 1, 99.9), L + small + 20, 630, small, small),
    `<text x="${L}" y="${630 + small + 22}" font-size="12" fill="#555">C: how much each pixel's time course agrees with its</text>`,
    `<text x="${L}" y="${630 + small + 38}" font-size="12" fill="#555">neighbours'; cells are detected on it.</text>`,
    caption(R, 74, 'D', 'ΔF/F of each cell (neuropil-corrected), with the simulated spikes'),
    traces(d, R, 104, W - R - 20, 670),
    caption(R, 830, 'E', 'Motion: estimated displacement of the tissue per frame'),
    motion(d, R, 842, W - R - 20, 90),
    `<text x="${L}" y="${H - 16}" font-size="14">${esc(d.footer)}</text>`,
    '</svg>',
  ];
  return parts.join('\n');
}

/** The figure as PNG (resvg, loaded on use). */
export async function scanFigurePng(d: ScanFigure): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const svg = scanFigureSvg(d);
  const r = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, logLevel: 'off' });
  return r.render().asPng();
}
