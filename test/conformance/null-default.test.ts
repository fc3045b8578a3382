/**
 * Issue 10 §1: null (or undefined, or NaN for a number) means DEFAULT in insert, insert1 and
 * update1, as in DataJoint Python's Table.__make_placeholder, which sends `DEFAULT` for None
 * (and for NaN of a numeric attribute). Behaviour read from its sources (table.py); no Python
 * runtime with DataJoint is available here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from '../helpers.js';

let schema: dj.SchemaDecorator;

class Reading extends dj.Manual {
  static definition = `
  reading_id : int32
  ---
  label = 'none' : varchar(16)
  gain = 1.5 : float64
  count = 7 : int32
  note = null : varchar(32)
  taken = CURRENT_TIMESTAMP : datetime
  required : varchar(8)
  `;
}

beforeAll(async () => {
  schema = await freshSchema('nulldef');
  schema.add(Reading);
});
afterAll(() => cleanup(schema));

describe('null means DEFAULT', () => {
  it('insert1 with null stores the defaults, CURRENT_TIMESTAMP included', async () => {
    const before = Date.now();
    await Reading.insert1({ reading_id: 1, label: null, gain: null, count: undefined, note: null, taken: null, required: 'x' });
    const r = await Reading.restrict({ reading_id: 1 }).fetch1();
    expect(r).toMatchObject({ label: 'none', gain: 1.5, count: 7, note: null, required: 'x' });
    expect(r.taken).toBeInstanceOf(Date);
    expect(Math.abs((r.taken as Date).getTime() - before)).toBeLessThan(120_000);
  });

  it('insert of several rows mixes values and defaults per row; arrays too', async () => {
    await Reading.insert([
      { reading_id: 2, label: 'a', gain: null, required: 'y' },
      { reading_id: 3, label: null, gain: 2.5, required: 'z' },
    ]);
    await Reading.insert([[4, null, null, null, null, null, 'w']]);
    const rows = await Reading.restrict('reading_id between 2 and 4').toDicts({ orderBy: 'reading_id' });
    expect(rows.map((r) => [r.label, r.gain, r.count])).toEqual([
      ['a', 1.5, 7],
      ['none', 2.5, 7],
      ['none', 1.5, 7],
    ]);
  });

  it('NaN for a number means DEFAULT too', async () => {
    await Reading.insert1({ reading_id: 5, gain: Number.NaN, count: Number.NaN, required: 'n' });
    expect(await Reading.restrict({ reading_id: 5 }).fetch1('gain', 'count')).toEqual([1.5, 7]);
  });

  it('update1 with null restores the default', async () => {
    await Reading.update1({ reading_id: 1, label: 'changed', gain: 9 });
    expect(await Reading.restrict({ reading_id: 1 }).fetch1('label', 'gain')).toEqual(['changed', 9]);
    await Reading.update1({ reading_id: 1, label: null, gain: null, note: null });
    expect(await Reading.restrict({ reading_id: 1 }).fetch1('label', 'gain', 'note')).toEqual(['none', 1.5, null]);
  });

  it('null for an attribute without a default is refused before writing', async () => {
    const before = await Reading.count();
    await expect(Reading.insert1({ reading_id: 6, required: null })).rejects.toThrow(dj.MissingAttributeError);
    await expect(Reading.insert1({ reading_id: 6, required: null })).rejects.toThrow(/`required` cannot be NULL and has no default/);
    await expect(Reading.insert1({ reading_id: null, required: 'x' })).rejects.toThrow(/Primary key attribute `reading_id` cannot be NULL/);
    await expect(Reading.update1({ reading_id: 1, required: null })).rejects.toThrow(dj.MissingAttributeError);
    expect(await Reading.count()).toBe(before);
    expect(await Reading.restrict({ reading_id: 1 }).fetch1('required')).toBe('x');
  });

  it('validate() agrees with insert', async () => {
    expect((await Reading.validate([{ reading_id: 9, label: null, required: 'v' }])).isValid).toBe(true);
    const bad = await Reading.validate([{ reading_id: 9, required: null }]);
    expect(bad.isValid).toBe(false);
    expect(bad.errors[0]!.field).toBe('required');
  });
});
