/**
 * A column whose codec this process (or thread) has not registered: its values are refused
 * with "Unknown codec", never written unencoded nor read back in their stored form. The case
 * users meet: a codec registered in the main script but not in the table module, which is all
 * populate's worker threads import.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';
import { unregisterCodec } from '../src/codecs/registry.js';

class Tripler extends dj.Codec {
  readonly name = 'tripled';
  getDtype() {
    return 'int32';
  }
  encode(v: unknown) {
    return 3 * Number(v);
  }
  decode(stored: unknown) {
    return Number(stored) / 3;
  }
}
dj.registerCodec(new Tripler());
process.env.DJ_TEST_CODEC_ELSEWHERE_DB = `djtest_codecelse_${process.pid}`;
const { schema, Item, Tripled } = await import('./fixtures/codec-elsewhere.js');
const stored = async () => (await dj.conn().query(`SELECT v FROM ${Tripled.fullTableName} ORDER BY item_id`)).map((r) => Number(r.v));

describe('a codec not registered where its values are written or read', () => {
  beforeAll(async () => {
    await schema.drop({ prompt: false });
    await Item.insert([{ item_id: 1 }, { item_id: 2 }, { item_id: 3 }]);
  });
  afterAll(() => cleanup(schema));

  it('fails every key on worker threads that lack it, writing nothing; made here, values are encoded', async () => {
    const r = await Tripled.populate({ processes: 2, suppressErrors: true });
    expect(r).toMatchObject({ success: 0, error: 3 });
    for (const e of r.errors) {
      expect(e.error).toBeInstanceOf(dj.DataJointError);
      expect(e.error.message).toMatch(/Unknown codec <tripled>.*in the module that defines the tables/);
    }
    expect(await Tripled.count()).toBe(0);
    expect(await Tripled.populate()).toMatchObject({ success: 3, error: 0 });
    expect(await stored()).toEqual([3, 6, 9]);
    expect(await Tripled.toArrays('v')).toEqual([1, 2, 3]);
  });

  it('reads the column as its codec where the codec is unknown, and refuses its values only', async () => {
    unregisterCodec('tripled');
    try {
      const lab = (await dj.virtualSchema(schema.database)) as Record<string, typeof dj.Table>;
      const T = lab.Tripled!;
      expect((await T.heading()).get('v')).toMatchObject({ type: '<tripled>', codec: 'tripled' });
      expect(await T.toArrays('item_id')).toEqual(Int32Array.from([1, 2, 3]));
      await expect(T.restrict({ item_id: 1 }).fetch1('v')).rejects.toThrow(/Unknown codec <tripled>/);
      await expect(T.insert1({ item_id: 4, v: 4 }, { allowDirectInsert: true })).rejects.toThrow(/Unknown codec <tripled>/);
      await Item.insert1({ item_id: 4 });
      await expect(T.insert1({ item_id: 4, v: 4 }, { allowDirectInsert: true })).rejects.toThrow(/Unknown codec <tripled>/);
      expect(await stored()).toEqual([3, 6, 9]);
      expect(await T.restrict({ item_id: 3 }).deleteQuick()).toBe(1);
    } finally {
      dj.registerCodec(new Tripler());
    }
    expect(await Tripled.toArrays('v')).toEqual([1, 2]);
  });
});
