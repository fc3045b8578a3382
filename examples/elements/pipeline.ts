/**
 * The linking module of a pipeline built from two Elements, as the DataJoint Elements
 * documentation describes: this module defines what is specific to the lab (its `Subject`
 * table and how to load a session's raw data), then activates each Element into its own
 * database, passing itself as the linking module. The session Element finds `Subject` here;
 * the analysis Element finds `Session` (re-exported from the session Element) and
 * `sessionSignal` here.
 *
 * Importing this module activates everything (top-level await), which is also what lets
 * `populate({ processes: N })` work: its worker threads import this module (`module:`).
 * Database names: `<prefix>lab`, `<prefix>session`, `<prefix>analysis`, prefix from
 * DJ_ELEMENTS_PREFIX (default `elements_`).
 */
import * as dj from '../../src/index.js';
import * as session from './element-session.js';
import * as analysis from './element-analysis.js';
// This module itself, the way a Python pipeline passes `linking_module=__name__`.
import * as pipeline from './pipeline.js';

export const prefix = process.env.DJ_ELEMENTS_PREFIX ?? 'elements_';

export const lab = dj.schema(`${prefix}lab`, { module: import.meta.url });

export class Subject extends dj.Manual {
  static definition = `
  subject : varchar(16)
  ---
  species = 'mouse' : varchar(32)
  `;
}
lab.add(Subject);

/** A session's raw signal; a real pipeline would read the session's files here. */
export async function sessionSignal(key: Record<string, unknown>): Promise<Float64Array> {
  const seed = [...`${key.subject}/${String(key.session_datetime)}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  return Float64Array.from({ length: 200 }, (_, i) => Math.sin(i / 8 + seed) + 0.3 * Math.sin(i * 1.7 + seed / 3));
}

export { Session, SessionNote } from './element-session.js';
export { AnalysisParamSet, AnalysisTask, Analysis } from './element-analysis.js';

await session.activate(`${prefix}session`, { linkingModule: pipeline, module: import.meta.url });
await analysis.activate(`${prefix}analysis`, { linkingModule: pipeline, module: import.meta.url });

/** Every schema of the pipeline, upstream first. */
export const schemas = [lab, session.schema, analysis.schema];
