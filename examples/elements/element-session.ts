/**
 * A session Element, in the style of DataJoint's element-session: a reusable module that
 * defines its tables on a deferred schema and declares nothing when imported. Its `Session`
 * table hangs below a `Subject` table that this module does not define and does not import:
 * the pipeline that activates the Element provides it through its linking module. That keeps
 * the Element free of any dependency on a particular lab's subject table.
 */
import * as dj from '../../src/index.js';

/** The deferred schema: `dj.schema()` without a name. */
export const schema = dj.schema();

/** What the linking module must provide to this Element. */
export interface SessionLinks {
  /** The table each session belongs to (its primary key becomes part of the session's). */
  Subject: unknown;
}

export class Session extends dj.Manual {
  static definition = `
  # a recording session of one subject
  -> Subject
  session_datetime : datetime
  `;
}
schema.add(Session);

export class SessionNote extends dj.Manual {
  static definition = `
  -> Session
  ---
  note : varchar(1024)
  `;
}
schema.add(SessionNote);

/** Options of `activate`, as `schema.activate` takes them. */
export interface ActivateSessionOptions {
  linkingModule: SessionLinks;
  createSchema?: boolean;
  createTables?: boolean;
  /** `import.meta.url` of the activating module (for populate's worker threads). */
  module?: string;
}

/**
 * Bind the Element to a database, as every Element's `activate` does: check that the linking
 * module provides what the tables reference, then activate the schema.
 */
export async function activate(schemaName: string, opts: ActivateSessionOptions): Promise<void> {
  // An Element states what it needs up front, before any table is declared.
  if ((opts.linkingModule as Partial<SessionLinks> | undefined)?.Subject === undefined)
    throw new dj.DataJointError('element-session: the linking module must provide Subject');
  await schema.activate(schemaName, opts);
}
