/**
 * The main job's overview figure: every scan's correlation image with the cells found on it,
 * side by side, each captioned with what the analysis found against what was simulated.
 */
import type { ScanEvaluation } from './evaluate.js';
import { circles, embed, outlinePath, type Circle } from './figure.js';
import { imagePng, RAMPS } from './png.js';

export interface OverviewScan {
  key: Record<string, number>;
  corr: Float32Array;
  height: number;
  width: number;
  masks: Uint32Array[];
  evaluation: ScanEvaluation;
  missed: Circle[];
}

export function overviewSvg(scans: OverviewScan[]): string {
  const cols = Math.min(4, scans.length);
  const rows = Math.ceil(scans.length / cols);
  const size = 300;
  const gap = 24;
  const top = 66;
  const W = cols * size + (cols + 1) * gap;
  const H = top + rows * (size + 44) + 20;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${gap}" y="30" font-size="20" font-weight="bold">Every scan: local correlation image and the cells detected on it</text>`,
    `<text x="${gap}" y="50" font-size="13" fill="#555">white: the cells found; dashed cyan circles: simulated cells that fired but were not found; r: median correlation of a cell's ΔF/F with its simulated calcium signal</text>`,
  ];
  scans.forEach((s, i) => {
    const x = gap + (i % cols) * (size + gap);
    const y = top + Math.floor(i / cols) * (size + 44);
    const e = s.evaluation;
    out.push(`<text x="${x}" y="${y + 14}" font-size="13"><tspan font-weight="bold">mouse ${s.key.mouse_id} · session ${s.key.session_idx} · scan ${s.key.scan_idx}</tspan>: ${e.rois} cells</text>`);
    out.push(`<text x="${x}" y="${y + 30}" font-size="12" fill="#555">${e.found} of ${e.active} active simulated cells, ${e.falseRois} false, r = ${e.medianTraceCorr.toFixed(2)}</text>`);
    out.push(embed(imagePng(s.corr, s.height, s.width, RAMPS.magma, 1, 99.9), x, y + 38, size, size));
    const scale = size / s.width;
    // White outlines: on a magma image they stand out better than one colour per cell.
    const d = s.masks.map((m) => outlinePath(m, s.width, scale, x, y + 38)).join('');
    out.push(`<path d="${d}" stroke="black" stroke-width="2.4" fill="none"/><path d="${d}" stroke="white" stroke-width="1.1" fill="none"/>`);
    out.push(circles(s.missed, scale, x, y + 38, 'missed'));
  });
  out.push('</svg>');
  return out.join('\n');
}

export async function overviewPng(scans: OverviewScan[]): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  return new Resvg(overviewSvg(scans), { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, logLevel: 'off' }).render().asPng();
}
