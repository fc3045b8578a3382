// NULLs in ORDER BY sort as the smallest values on every backend (MySQL's order), so the same
// top, head/tail and orderBy give the same rows on MySQL and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;
class Score extends dj.Manual {
  static definition = 'score_id : int32\n---\nscore = null : float64\nlabel : varchar(8)';
}

beforeAll(async () => {
  schema = await freshSchema('order_nulls');
  schema.add(Score);
  await Score.insert([
    { score_id: 1, score: 0.5, label: 'b' },
    { score_id: 2, score: 0.9, label: 'a' },
    { score_id: 3, score: null, label: 'c' },
    { score_id: 4, score: 0.1, label: 'd' },
  ]);
});
afterAll(async () => {
  await cleanup(schema);
});

const ids = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.score_id);

describe('NULLs in ORDER BY', () => {
  it('come first ascending and last descending', async () => {
    expect(ids(await Score.toDicts({ orderBy: 'score' }))).toEqual([3, 4, 1, 2]);
    expect(ids(await Score.toDicts({ orderBy: 'score ASC' }))).toEqual([3, 4, 1, 2]);
    expect(ids(await Score.toDicts({ orderBy: 'score DESC' }))).toEqual([2, 1, 4, 3]);
    expect(ids(await Score.toDicts({ orderBy: ['score DESC', 'KEY'] }))).toEqual([2, 1, 4, 3]);
  });

  it('dj.top picks the same rows on every backend', async () => {
    expect(ids(await Score.restrict(dj.top(1, 'score DESC')).toDicts())).toEqual([2]);
    expect(ids(await Score.restrict(dj.top(2, 'score')).toDicts({ orderBy: 'KEY' }))).toEqual([3, 4]);
    expect(ids(await Score.restrict(dj.top(1, 'score', 3)).toDicts())).toEqual([2]);
  });

  it('also when the ordering attribute is projected away (keys of a top, unions of them)', async () => {
    const best = Score.restrict(dj.top(1, 'score DESC'));
    expect(ids(await best.proj().toDicts())).toEqual([2]);
    expect(ids(await Score.restrict(best.proj()).toDicts())).toEqual([2]);
    expect(ids(await best.proj().union(Score.restrict({ score_id: 1 }).proj()).toDicts({ orderBy: 'KEY' }))).toEqual([1, 2]);
    expect(ids(await Score.restrict(dj.top(2, 'score')).proj().toDicts({ orderBy: 'KEY' }))).toEqual([3, 4]);
  });

  it('leaves attributes that cannot be NULL as they were', async () => {
    expect(ids(await Score.toDicts({ orderBy: 'label DESC' }))).toEqual([4, 3, 1, 2]);
    expect(ids(await Score.tail(2))).toEqual([3, 4]);
  });
});

describe('ties of a limited ordering', () => {
  class Obs extends dj.Manual {
    static definition = 'obs_id : int32\n---\ngrp : varchar(4)';
  }
  it('are broken by the primary key: the same rows on every backend, and pages that neither repeat nor skip', async () => {
    schema.add(Obs);
    // 40 rows in 4 groups, inserted out of key order.
    await Obs.insert(Array.from({ length: 40 }, (_, i) => ({ obs_id: (i * 17) % 40, grp: ['a', 'b', 'c', 'd'][i % 4]! })));
    const groupA = Array.from({ length: 10 }, (_, i) => (i * 4 * 17) % 40).sort((x, y) => x - y);
    expect((await Obs.restrict(dj.top(3, 'grp')).keys({ orderBy: 'KEY' })).map((r) => r.obs_id)).toEqual(groupA.slice(0, 3));
    expect((await Obs.keys({ orderBy: 'grp', limit: 3 })).map((r) => r.obs_id)).toEqual(groupA.slice(0, 3));
    const pages: unknown[] = [];
    for (let offset = 0; offset < 40; offset += 7) pages.push(...(await Obs.keys({ orderBy: 'grp DESC', limit: 7, offset })).map((r) => r.obs_id));
    expect(new Set(pages).size).toBe(40);
  });
});
