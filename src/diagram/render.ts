/**
 * DOT → SVG → PNG without a system Graphviz: the layout runs in-process in Graphviz compiled to
 * WebAssembly (@hpcc-js/wasm-graphviz) and the SVG is rasterized by resvg (@resvg/resvg-js).
 * Both are loaded on first use only, so importing the library stays light.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { DataJointError } from '../errors.js';

type GraphvizModule = typeof import('@hpcc-js/wasm-graphviz');
type Graphviz = Awaited<ReturnType<GraphvizModule['Graphviz']['load']>>;

let graphviz: Promise<Graphviz> | null = null;

function loadGraphviz(): Promise<Graphviz> {
  graphviz ??= import('@hpcc-js/wasm-graphviz')
    .then((m) => m.Graphviz.load())
    .catch((err: unknown) => {
      graphviz = null;
      throw new DataJointError(`Cannot load the Graphviz WebAssembly module: ${(err as Error).message}`, { cause: err });
    });
  return graphviz;
}

/** Lay out DOT source with the `dot` engine and return the SVG text. */
export async function dotToSvg(dot: string): Promise<string> {
  const gv = await loadGraphviz();
  try {
    return gv.dot(dot, 'svg');
  } catch (err) {
    throw new DataJointError(`Graphviz could not lay out the diagram: ${(err as Error).message}`, { cause: err });
  }
}

export interface PngOptions {
  /** Scale factor over the SVG's natural size (default 2, for sharp text). */
  zoom?: number;
  /** Longest side in pixels at most (default 4096): large schemas are scaled down to fit. */
  maxSide?: number;
}

/** Rasterize SVG text to PNG bytes on a white background. */
export async function svgToPng(svg: string, opts: PngOptions = {}): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const font = sansFont();
  // resvg does not fall back along a font-family list: it uses its default family for any family
  // it lacks. So all text is drawn in one sans font (Graphviz sized the labels for Arial).
  const fontOptions = font ? { loadSystemFonts: false, fontFiles: [font.file], defaultFontFamily: font.family } : { loadSystemFonts: true };
  // A font wider than Arial is drawn a little smaller, so that labels stay inside their shapes.
  if (font && font.width !== 1) {
    svg = svg.replace(/font-size="([\d.]+)"/g, (_, size: string) => `font-size="${(Number(size) / font.width).toFixed(2)}"`);
  }
  const natural = new Resvg(svg, { font: { loadSystemFonts: false }, logLevel: 'off' });
  const longest = Math.max(natural.width, natural.height, 1);
  const zoom = Math.min(opts.zoom ?? 2, (opts.maxSide ?? 4096) / longest);
  const image = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: zoom }, font: fontOptions, logLevel: 'off' }).render();
  return image.asPng();
}

/** Sans fonts, best first: file name, family, text width relative to Arial (which Graphviz assumed). */
const SANS_FONTS: Array<[RegExp, string, number]> = [
  [/^arial\.ttf$/i, 'Arial', 1],
  [/^helvetica\.ttc$/i, 'Helvetica', 1],
  [/^liberationsans-regular\.ttf$/i, 'Liberation Sans', 1],
  [/^(nimbussans|nimbussanl)-regular\.(otf|ttf|t1)$/i, 'Nimbus Sans', 1],
  [/^dejavusans\.ttf$/i, 'DejaVu Sans', 1.1],
  [/^notosans-regular\.ttf$/i, 'Noto Sans', 1.05],
  [/^freesans\.ttf$/i, 'FreeSans', 1],
];

interface SansFont {
  file: string;
  family: string;
  width: number;
}

let foundFont: SansFont | null | undefined;

/** A sans font file on this machine (searched once), or null: then resvg uses the system fonts. */
function sansFont(): SansFont | null {
  if (foundFont !== undefined) return foundFont;
  const dirs = [
    '/usr/share/fonts',
    '/usr/local/share/fonts',
    join(homedir(), '.fonts'),
    join(homedir(), '.local/share/fonts'),
    '/Library/Fonts',
    '/System/Library/Fonts',
    join(process.env.WINDIR ?? 'C:\\Windows', 'Fonts'),
  ];
  const files: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // not on this platform
    }
    for (const e of entries) {
      if (e.isDirectory() && depth < 4) walk(join(dir, e.name), depth + 1);
      else if (e.isFile()) files.push(join(dir, e.name));
    }
  };
  for (const d of dirs) walk(d, 0);
  foundFont = null;
  for (const [pattern, family, width] of SANS_FONTS) {
    const file = files.find((f) => pattern.test(basename(f)));
    if (file) return (foundFont = { file, family, width });
  }
  return foundFont;
}
