/**
 * Restricting the default key source (spec: autopopulate, `ProcessedData.populate(Session &
 * "session_date > '2026-01-01'")`): a query expression or table class restricts it by the key,
 * as DataJoint Python's key-only key source does, in populate, progress and jobs.refresh alike,
 * also inside an array or dj.not; strings and objects on a parent's secondary attribute still
 * work. The key source is compared with the table by the key alone, even where the table has a
 * secondary attribute of the same name as a parent's.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';

type Key = Record<string, unknown>;
let schema: dj.SchemaDecorator;

class Session extends dj.Manual {
  static definition = `session_id : int32\n---\nsession_date : date\nquality : float64`;
}
class Setting extends dj.Lookup {
  static definition = `setting_id : int32\n---\nquality : float64\ngain : float64`;
  static contents = [[1, 0.5, 2], [2, 0.9, 3]];
}
/** Two parents that share a secondary name (quality: left out of the key source) and one unique each. */
class Processed extends dj.Computed {
  static definition = `-> Session\n-> Setting\n---\nv : float64`;
  async make(key: Key) {
    await this.insert1({ ...key, v: 1 });
  }
}
/** A secondary attribute named like its parent's (session_date), holding another value. */
class Shifted extends dj.Computed {
  static definition = `-> Session\n---\nsession_date : date`;
  async make(key: Key) {
    await this.insert1({ ...key, session_date: '2000-01-01' });
  }
}

const late = () => Session.restrict("session_date > '2026-01-01'");
const made = async () => (await Processed.keys({ orderBy: ['session_id', 'setting_id'] })).map((k) => `${k.session_id}.${k.setting_id}`);

beforeAll(async () => {
  schema = await freshSchema('keysource');
  for (const t of [Session, Setting, Processed, Shifted]) schema.add(t);
  await Session.insert([
    { session_id: 1, session_date: '2025-06-01', quality: 0.1 },
    { session_id: 2, session_date: '2026-02-01', quality: 0.2 },
    { session_id: 3, session_date: '2026-03-01', quality: 0.3 },
  ]);
});
beforeEach(async () => {
  await Processed.deleteQuick();
  await Shifted.deleteQuick();
  await Processed.jobs.drop();
});
afterAll(() => cleanup(schema));

describe('the default key source restricted by a query expression', () => {
  it('populate and progress restrict by the key, as in DataJoint Python', async () => {
    expect(await Processed.progress({ restrict: late() })).toEqual({ remaining: 4, total: 4 });
    expect(await Processed.populate({ restrict: late() })).toMatchObject({ success: 4, error: 0 });
    expect(await made()).toEqual(['2.1', '2.2', '3.1', '3.2']);
    expect(await Processed.progress({ restrict: late() })).toEqual({ remaining: 0, total: 4 });
    // A table class, and the restriction of the other parent.
    expect(await Processed.populate({ restrict: Setting.restrict('gain > 2.5') })).toMatchObject({ success: 1 });
    expect(await Processed.populate({ restrict: Session })).toMatchObject({ success: 1 });
    expect(await Processed.progress()).toEqual({ remaining: 0, total: 6 });
  });

  it('inside an array (OR, with a string on a parent secondary attribute) and dj.not', async () => {
    expect(await Processed.populate({ restrict: [late().restrict({ session_id: 3 }), 'gain = 2'] })).toMatchObject({ success: 4 });
    expect(await made()).toEqual(['1.1', '2.1', '3.1', '3.2']);
    await Processed.deleteQuick();
    expect(await Processed.populate({ restrict: dj.not(late()) })).toMatchObject({ success: 2 });
    expect(await made()).toEqual(['1.1', '1.2']);
    await Processed.deleteQuick();
    expect(await Processed.populate({ restrict: new Set([Setting.restrict({ setting_id: 2 })]) })).toMatchObject({ success: 3 });
  });

  it('strings and objects on a parent secondary attribute still restrict', async () => {
    expect(await Processed.populate({ restrict: "session_date > '2026-02-15'" })).toMatchObject({ success: 2 });
    expect(await Processed.populate({ restrict: { gain: 3 } })).toMatchObject({ success: 2 });
    expect(await made()).toEqual(['1.2', '2.2', '3.1', '3.2']);
  });

  it('jobs.refresh and a reserving populate restrict alike', async () => {
    expect(await Processed.jobs.refresh({ restrict: late() })).toMatchObject({ added: 4 });
    expect(await Processed.jobs.progress()).toMatchObject({ pending: 4, total: 4 });
    expect(await Processed.populate({ reserveJobs: true, refresh: false, restrict: dj.not(Setting.restrict({ setting_id: 1 })) })).toMatchObject({ success: 2 });
    expect(await made()).toEqual(['2.2', '3.2']);
    expect(await Processed.populate({ reserveJobs: true, restrict: [late(), 'gain = 3'] })).toMatchObject({ success: 3 });
    expect(await made()).toEqual(['1.2', '2.1', '2.2', '3.1', '3.2']);
  });
});

describe('the key source against the table', () => {
  it('is compared by the key alone: a secondary attribute named like a parent one does not keep a made key pending', async () => {
    expect(await Shifted.populate()).toMatchObject({ success: 3 });
    expect(await Shifted.progress()).toEqual({ remaining: 0, total: 3 });
    expect(await Shifted.populate()).toEqual({ success: 0, error: 0, skip: 0, errors: [] });
    expect(await Shifted.jobs.refresh()).toMatchObject({ added: 0 });
  });
});
