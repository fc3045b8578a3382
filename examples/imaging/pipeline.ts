/**
 * The calcium-imaging pipeline of the main job, after the DataJoint tutorial's
 * Mouse → Session → Scan → Segmentation → Fluorescence: scans are movies kept as Zarr arrays in
 * an object store; each analysis step is a three-part make whose fetch reads the movie lazily
 * (ObjectRef.zarr(), chunk by chunk) into a typed array, whose compute runs on a worker thread
 * with `populate({ processes: N })` (the typed arrays move there by transfer, not copy), and
 * whose insert stores the results with one part row per cell.
 *
 * The schema names this module (`module: import.meta.url`) so that worker threads can load it;
 * its database is `DJ_IMAGING_SCHEMA` (default `dj_imaging`).
 */
import * as dj from '../../src/index.js';
import { correctMotion, summaryImages, type Movie } from './register.js';
import { detectCells, type SegmentationParams } from './segment.js';
import { extractTraces } from './traces.js';

export const schema = dj.schema(process.env.DJ_IMAGING_SCHEMA ?? 'dj_imaging', { module: import.meta.url });

/** Largest tissue displacement the motion correction searches, in pixels. */
export const MAX_SHIFT = 4;

type Key = Record<string, unknown>;

/** A row-major height × width float image as a blob value. */
export const image = (data: Float32Array, height: number, width: number) => new dj.NDArray({ dtype: 'float32', shape: [height, width], data, order: 'C' });

/** A fetched image blob back as row-major data. */
export const rowMajor = (a: unknown): Float32Array => Float32Array.from((a as dj.NDArray).toOrder('C').data as Float32Array);

/** The typed data of a fetched 1-D blob, copied into its own buffer (so it can move to a worker). */
export const vector = <A extends Int16Array | Uint32Array | Float32Array>(a: unknown, Type: { from(x: ArrayLike<number>): A }): A =>
  Type.from((a as dj.NDArray).data as ArrayLike<number>);

export class Mouse extends dj.Manual {
  static definition = `
  mouse_id : uint16
  ---
  dob : date
  sex : enum('F', 'M', 'U')
  `;
}
schema.add(Mouse);

export class Session extends dj.Manual {
  static definition = `
  -> Mouse
  session_idx : uint8
  ---
  session_date : date
  experimenter : varchar(32)
  `;
}
schema.add(Session);

export class Scan extends dj.Manual {
  static definition = `
  # a two-photon scan of one imaging plane
  -> Session
  scan_idx : uint8
  ---
  depth : float32               # um below the brain surface
  fps : float32                 # frames per second
  n_frames : uint32
  height : uint16               # pixels
  width : uint16                # pixels
  movie : <object@>             # Zarr v3 array, uint16, frames x height x width
  truth : <blob>                # what the simulation planted: cells, spikes, motion
  `;
}
schema.add(Scan);

/** The whole movie of a scan, read lazily from its Zarr array (one chunk of frames at a time). */
export async function readMovie(key: Key): Promise<Movie> {
  const zarr = await import('zarrita');
  const ref = (await Scan.restrict(key).fetch1('movie')) as dj.ObjectRef;
  const arr = (await ref.zarr({ kind: 'array' })) as import('zarrita').Array<'uint16', dj.ZarrReadStore>;
  const [frames, height, width] = arr.shape as [number, number, number];
  const { data } = await zarr.get(arr, null);
  // A whole buffer of its own moves to the worker; a view into a shared one would be copied.
  const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : Uint16Array.from(data);
  return { data: own, frames, height, width };
}

export class MotionCorrection extends dj.Computed {
  static definition = `
  # rigid motion correction and summary images of a scan
  -> Scan
  ---
  y_shifts : <blob>             # displacement of the tissue in each frame (pixels)
  x_shifts : <blob>
  mean_image : <blob>           # motion-corrected mean, height x width
  max_image : <blob>            # maximum of the 4-frame running mean
  corr_image : <blob>           # correlation of each pixel with its 8 neighbours
  `;
  makeFetch(key: Key): Promise<Movie> {
    return readMovie(key);
  }
  makeCompute(_key: Key, movie: Movie) {
    const shifts = correctMotion(movie, MAX_SHIFT);
    return { ...shifts, ...summaryImages(movie, shifts), height: movie.height, width: movie.width };
  }
  async makeInsert(key: Key, r: ReturnType<MotionCorrection['makeCompute']>) {
    await this.insert1({
      ...key,
      y_shifts: r.yShift,
      x_shifts: r.xShift,
      mean_image: image(r.mean, r.height, r.width),
      max_image: image(r.max, r.height, r.width),
      corr_image: image(r.corr, r.height, r.width),
    });
  }
}
schema.add(MotionCorrection);

export class SegmentationParam extends dj.Lookup {
  static definition = `
  seg_param : uint8
  ---
  corr_threshold : float32      # smallest correlation of a cell's seed
  min_area : uint16             # pixels
  max_radius : uint8            # pixels from the seed
  grow_fraction : float32       # a pixel joins a cell at this fraction of the seed's correlation
  `;
  static contents = [[1, 0.2, 15, 8, 0.4]];
}
schema.add(SegmentationParam);

interface SegmentationInput {
  corr: Float32Array;
  height: number;
  width: number;
  params: SegmentationParams;
}

export class Segmentation extends dj.Computed {
  static definition = `
  # cells detected on the correlation image
  -> MotionCorrection
  -> SegmentationParam
  ---
  n_rois : uint16
  `;
  static Roi = class Roi extends dj.Part {
    static definition = `
    -> master
    roi_idx : uint16
    ---
    center_y : float32
    center_x : float32
    area : uint16                 # pixels
    peak_corr : float32
    mask : <blob>                 # row-major pixel indices (y * width + x)
    `;
  };
  async makeFetch(key: Key): Promise<SegmentationInput> {
    const corr = (await MotionCorrection.restrict(key).fetch1('corr_image')) as dj.NDArray;
    const p = (await SegmentationParam.restrict(key).fetch1()) as Record<string, number>;
    const [height, width] = corr.shape as [number, number];
    return {
      corr: rowMajor(corr),
      height,
      width,
      params: { corrThreshold: p.corr_threshold!, minArea: p.min_area!, maxRadius: p.max_radius!, growFraction: p.grow_fraction! },
    };
  }
  makeCompute(_key: Key, f: SegmentationInput) {
    return detectCells(f.corr, f.height, f.width, f.params);
  }
  async makeInsert(key: Key, rois: ReturnType<Segmentation['makeCompute']>) {
    await this.insert1({ ...key, n_rois: rois.length });
    await Segmentation.Roi.insert(
      rois.map((r, i) => ({ ...key, roi_idx: i, center_y: r.centerY, center_x: r.centerX, area: r.area, peak_corr: r.peakCorr, mask: r.mask })),
    );
  }
}
schema.add(Segmentation);

interface FluorescenceInput {
  movie: Movie;
  yShift: Int16Array;
  xShift: Int16Array;
  roiIdx: number[];
  masks: Uint32Array[];
  fps: number;
}

export class Fluorescence extends dj.Computed {
  static definition = `
  # fluorescence and dF/F of every detected cell
  -> Segmentation
  ---
  n_frames : uint32
  `;
  static Trace = class Trace extends dj.Part {
    static definition = `
    -> master
    -> Segmentation.Roi
    ---
    f : <blob>                    # mean of the mask in each frame
    neuropil : <blob>             # mean of the ring around the cell
    dff : <blob>                  # (F - 0.7 neuropil - F0) / F0
    snr : float32
    `;
  };
  async makeFetch(key: Key): Promise<FluorescenceInput> {
    const [yShift, xShift] = (await MotionCorrection.restrict(key).fetch1('y_shifts', 'x_shifts')) as [unknown, unknown];
    const rois = await Segmentation.Roi.restrict(key).toDicts({ orderBy: 'roi_idx' });
    const fps = (await Scan.restrict(key).fetch1('fps')) as number;
    return {
      movie: await readMovie(key),
      yShift: vector(yShift, Int16Array),
      xShift: vector(xShift, Int16Array),
      roiIdx: rois.map((r) => r.roi_idx as number),
      masks: rois.map((r) => vector(r.mask, Uint32Array)),
      fps,
    };
  }
  makeCompute(_key: Key, f: FluorescenceInput) {
    return extractTraces(f.movie, { yShift: f.yShift, xShift: f.xShift }, f.masks, f.fps).map((t, i) => ({ ...t, roiIdx: f.roiIdx[i]! }));
  }
  async makeInsert(key: Key, traces: ReturnType<Fluorescence['makeCompute']>, fetched: FluorescenceInput) {
    await this.insert1({ ...key, n_frames: fetched.movie.frames });
    await Fluorescence.Trace.insert(traces.map((t) => ({ ...key, roi_idx: t.roiIdx, f: t.f, neuropil: t.neuropil, dff: t.dff, snr: t.snr })));
  }
}
schema.add(Fluorescence);
