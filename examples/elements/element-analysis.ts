/**
 * An analysis Element: a deferred schema whose tables sit below the session Element's
 * `Session`, again reached only through the linking module, together with a function the
 * pipeline provides to load a session's raw data (as Elements ask the pipeline for e.g. its
 * data directory). `Analysis` is computed: its make() reads the data through that function.
 */
import * as dj from '../../src/index.js';

export const schema = dj.schema();

/** What the linking module must provide to this Element. */
export interface AnalysisLinks {
  /** The sessions to analyse. */
  Session: unknown;
  /** The raw signal of one session, given its primary key. */
  sessionSignal(key: Record<string, unknown>): Promise<Float64Array>;
}

/** The linking module this Element was activated with (make() needs its sessionSignal). */
let links: AnalysisLinks | null = null;

export class AnalysisParamSet extends dj.Lookup {
  static definition = `
  # how to smooth a session's signal
  paramset_idx : uint8
  ---
  window : uint16         # moving-mean window, in samples
  description : varchar(64)
  `;
  static contents = [
    [0, 3, 'moving mean over 3 samples'],
    [1, 9, 'moving mean over 9 samples'],
  ];
}
schema.add(AnalysisParamSet);

export class AnalysisTask extends dj.Manual {
  static definition = `
  # a session to analyse with a parameter set
  -> Session
  -> AnalysisParamSet
  `;
}
schema.add(AnalysisTask);

export class Analysis extends dj.Computed {
  static definition = `
  -> AnalysisTask
  ---
  n_samples : uint32
  peak : float64          # the largest smoothed value
  `;
  static Peak = class extends dj.Part {
    static definition = `
    # samples where the smoothed signal is a local maximum
    -> master
    sample_idx : uint32
    ---
    value : float64
    `;
  };

  async make(key: Record<string, unknown>): Promise<void> {
    if (!links) throw new dj.DataJointError('element-analysis is not activated');
    const signal = await links.sessionSignal(key);
    const window = (await AnalysisParamSet.restrict(key).fetch1('window')) as number;
    const smooth = movingMean(signal, window);
    const peaks: Array<Record<string, unknown>> = [];
    for (let i = 1; i + 1 < smooth.length; i++)
      if (smooth[i]! > smooth[i - 1]! && smooth[i]! >= smooth[i + 1]!) peaks.push({ ...key, sample_idx: i, value: smooth[i] });
    await this.insert1({ ...key, n_samples: signal.length, peak: Math.max(...smooth) });
    await Analysis.Peak.insert(peaks);
  }
}
schema.add(Analysis);

/** Means over every full window of `window` samples. */
function movingMean(x: Float64Array, window: number): Float64Array {
  const out = new Float64Array(Math.max(0, x.length - window + 1));
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i]!;
    if (i >= window) sum -= x[i - window]!;
    if (i >= window - 1) out[i - window + 1] = sum / window;
  }
  return out;
}

export interface ActivateAnalysisOptions {
  linkingModule: AnalysisLinks;
  createSchema?: boolean;
  createTables?: boolean;
  /** `import.meta.url` of the activating module (for populate's worker threads). */
  module?: string;
}

/** Bind the Element to a database; the session Element must be activated first. */
export async function activate(schemaName: string, opts: ActivateAnalysisOptions): Promise<void> {
  const given = opts.linkingModule as Partial<AnalysisLinks> | undefined;
  const missing = (['Session', 'sessionSignal'] as const).filter((n) => given?.[n] === undefined);
  if (missing.length) throw new dj.DataJointError(`element-analysis: the linking module must provide ${missing.join(', ')}`);
  links = opts.linkingModule;
  await schema.activate(schemaName, opts);
}
