/**
 * Restriction (query-algebra §2): SQL strings, objects, expressions, OR lists, booleans,
 * dj.not, Arrow tables; minus; chaining; when a subquery is made (§11); dj.top (§12).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { BACKEND, dj, freshSchema, cleanup, norm } from './helpers.js';

let schema: dj.SchemaDecorator;

class Subject extends dj.Manual {
  static definition = `
  subject_id : int32
  ---
  species = 'mouse' : varchar(32)
  weight = null : float64
  dob = null : date
  `;
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : uint16
  ---
  session_date : date
  score : float64
  `;
}

beforeAll(async () => {
  schema = await freshSchema('qrestrict');
  schema.add(Subject);
  schema.add(Session);
  await Subject.insert([
    { subject_id: 1, species: 'mouse', weight: 20, dob: '2020-01-01' },
    { subject_id: 2, species: 'rat', weight: 300 },
    { subject_id: 3, species: 'mouse', weight: 25 },
    { subject_id: 4, species: 'zebrafish' },
    { subject_id: 5, species: 'mouse', weight: 18 },
  ]);
  await Session.insert([
    [1, 1, '2024-01-01', 0.5],
    [1, 2, '2024-01-05', 0.9],
    [2, 1, '2024-02-01', 0.7],
    [3, 1, '2024-03-01', 0.2],
    [3, 2, '2024-03-02', 0.95],
    [3, 3, '2024-03-03', 0.6],
  ]);
});
afterAll(() => cleanup(schema));

const ids = async (e: dj.QueryExpression, attr = 'subject_id') => Array.from((await e.toArrays(attr, { orderBy: 'KEY' })) as ArrayLike<number>);

describe('conditions', () => {
  it('SQL strings', async () => {
    expect(await ids(Subject.restrict("species = 'mouse'"))).toEqual([1, 3, 5]);
    expect(await ids(Subject.restrict('weight > 19 AND weight < 30'))).toEqual([1, 3]);
    expect(await ids(Subject.restrict('dob IS NULL'))).toEqual([2, 3, 4, 5]);
    await expect(Subject.restrict('nonexistent > 1').toDicts()).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    expect(() => Subject.restrict('  ')).not.toThrow(); // lazily checked
    await expect(Subject.restrict('  ').count()).rejects.toThrow(/cannot be empty/);
  });

  it('objects: AND of equalities, NULL, and keys outside the heading ignored', async () => {
    expect(await ids(Subject.restrict({ species: 'mouse', weight: 25 }))).toEqual([3]);
    expect(await ids(Subject.restrict({ weight: null }))).toEqual([4]);
    expect(await ids(Subject.restrict({ dob: new Date(Date.UTC(2020, 0, 1)) }))).toEqual([1]);
    expect(await ids(Subject.restrict({ unrelated: 7 }))).toEqual([1, 2, 3, 4, 5]);
    expect(await ids(Subject.minus({ unrelated: 7 }))).toEqual([]);
    await expect(Subject.restrict({ subject_id: 'abc' }).count()).rejects.toThrow(/expects an integer/);
  });

  it('query expressions and table classes (semijoin), minus', async () => {
    expect(await ids(Subject.restrict(Session))).toEqual([1, 2, 3]);
    expect(await ids(Subject.minus(Session))).toEqual([4, 5]);
    expect(await ids(Subject.restrict(Session.restrict('score > 0.8')))).toEqual([1, 3]);
    expect(await ids(Subject.minus(Session.restrict('score > 0.8')))).toEqual([2, 4, 5]);
    expect(await ids(Subject.restrict(new Session()))).toEqual([1, 2, 3]);
    // An operand with a row limit is read from a derived table (MySQL refuses LIMIT inside IN).
    expect(await ids(Subject.restrict(Session.restrict(dj.top(2, 'score DESC'))))).toEqual([1, 3]);
    expect(await ids(Subject.minus(Session.restrict(dj.top(2, 'score DESC'))))).toEqual([2, 4, 5]);
    expect(await Session.join(Subject.restrict(dj.top(2, 'KEY DESC'))).count()).toBe(0);
    expect(await Session.join(Subject.restrict(dj.top(2))).count()).toBe(3);
    // Restricting by an expression without common attributes: all or nothing.
    expect(await Session.restrict(Subject.proj({ sid: 'subject_id' })).count()).toBe(6);
    expect(await Session.restrict(Subject.proj({ sid: 'subject_id' }).restrict('sid > 100')).count()).toBe(0);
  });

  it('minus keeps the rows that match nothing, NULLs included (a NULL matches nothing)', async () => {
    // Subject 4 has no weight (NULL): it matches no value and no row, so minus keeps it.
    expect(await ids(Subject.minus({ weight: 20 }))).toEqual([2, 3, 4, 5]);
    expect(await ids(Subject.minus([{ weight: 20 }, { weight: 300 }]))).toEqual([3, 4, 5]);
    expect(await ids(Subject.restrict(dj.not({ weight: 25 })))).toEqual([1, 2, 4, 5]);
    expect(await ids(Subject.minus({ weight: null }))).toEqual([1, 2, 3, 5]);
    const heavy = Subject.proj({ w: 'weight' }).proj(); // keys only
    expect(await ids(Subject.minus(heavy))).toEqual([]);
    // Against a query that holds NULL in the matched attribute: its NULL rows match nothing.
    const weights = Subject.proj('weight').restrict('subject_id IN (2, 4)'); // 300 and NULL
    expect(await ids(Subject.minus(weights.proj({ weight: 'weight', sid: 'subject_id' }).proj('weight'), { semanticCheck: false }))).toEqual([1, 3, 4, 5]);
    // A string condition stays SQL: its NULL comparison is unknown, and NOT drops the row.
    expect(await ids(Subject.minus('weight > 19'))).toEqual([5]);
  });

  it('a string condition naming an attribute projected away or renamed is refused (the FROM clause still had it)', async () => {
    await expect(Subject.proj().restrict("species = 'rat'").count()).rejects.toBeInstanceOf(dj.errors.UnknownAttributeError);
    await expect(Subject.proj({ kind: 'species' }).restrict("species = 'rat'").count()).rejects.toThrow(/Attribute `species` is not in the query \(subject_id, kind\): it was projected away or renamed/);
    expect(await Subject.proj({ kind: 'species' }).restrict("kind = 'rat'").count()).toBe(1);
    expect(await Subject.restrict("species = 'rat'").proj().count()).toBe(1);
    // A function of the same name as an attribute projected away is a function.
    expect(await Subject.proj({ w: 'weight' }).restrict('abs(w) > 100').count()).toBe(1);
  });

  it('arrays are OR; empty arrays match nothing; uniform objects become one IN', async () => {
    expect(await ids(Subject.restrict([{ subject_id: 1 }, { subject_id: 4 }, 'weight > 100']))).toEqual([1, 2, 4]);
    expect(await ids(Subject.restrict([]))).toEqual([]);
    expect(await ids(Subject.restrict(new Set(['subject_id = 2', 'subject_id = 3'])))).toEqual([2, 3]);
    expect(await ids(Subject.minus([]))).toEqual([1, 2, 3, 4, 5]);
    const keys = [{ subject_id: 1, session_idx: 2 }, { subject_id: 3, session_idx: 1 }];
    const q = Session.restrict(keys);
    expect(norm(await q.sql())).toContain('(`subject_id`,`session_idx`) IN ((1,2),(3,1))');
    expect(await q.count()).toBe(2);
    expect(await Session.minus(keys).count()).toBe(4);
    expect(await ids(Subject.restrict([Session.restrict({ session_idx: 3 }), { subject_id: 5 }]))).toEqual([3, 5]);
  });

  it('booleans and dj.not', async () => {
    expect(await Subject.restrict(true).count()).toBe(5);
    expect(await Subject.restrict(false).count()).toBe(0);
    expect(await Subject.minus(true).count()).toBe(0);
    expect(await ids(Subject.restrict(dj.not({ species: 'mouse' })))).toEqual([2, 4]);
    expect(await ids(Subject.restrict(dj.not(Session)))).toEqual([4, 5]);
    expect(await ids(Subject.restrict(dj.not(dj.not(Session))))).toEqual([1, 2, 3]);
    expect(await ids(Subject.minus(dj.not('weight > 19')))).toEqual([1, 2, 3]);
  });

  it('Arrow tables: OR of their rows', async () => {
    const t = tableFromArrays({ subject_id: Int32Array.from([2, 5]), other: Float64Array.from([1, 2]) });
    expect(await ids(Subject.restrict(t))).toEqual([2, 5]);
    expect(await ids(Subject.minus(t))).toEqual([1, 3, 4]);
    const keys = await Session.restrict('score > 0.8').toArrow();
    expect(await Session.restrict(keys).count()).toBe(2);
  });

  it('chains with AND, and restricted tables stay tables', async () => {
    const r = Subject.restrict("species = 'mouse'").restrict('weight < 22').restrict(Session);
    expect(await ids(r)).toEqual([1]);
    expect(r).toBeInstanceOf(Subject);
    expect(r).toBeInstanceOf(dj.Table);
    expect(await Subject.restrict({ subject_id: 4 }).fetch1('species')).toBe('zebrafish');
    // Immutability: the original is unchanged.
    const base = new Subject();
    base.restrict({ subject_id: 1 });
    expect(await base.count()).toBe(5);
  });

  it('rejects invalid conditions', async () => {
    await expect(Subject.restrict(null).count()).rejects.toThrow(/cannot be null/);
    await expect(Subject.restrict(42).count()).rejects.toThrow(/Invalid restriction/);
    await expect(Subject.restrict(new Map()).count()).rejects.toThrow(/Invalid restriction/);
  });
});

describe('subqueries', () => {
  it('restricting a computed or renamed attribute makes a subquery; others do not', async () => {
    const p = Subject.proj({ kg: 'weight / 1000' });
    const r = p.restrict('kg > 0.02');
    expect(norm(await r.sql())).toMatch(/FROM \(SELECT .* AS `kg` FROM .*\) AS `\$\w+` WHERE \(kg > 0\.02\)/);
    expect(await ids(r)).toEqual([2, 3]);
    const renamed = Subject.proj({ mouse: 'subject_id' }).restrict({ mouse: 3 });
    expect(norm(await renamed.sql())).toMatch(/\(SELECT /);
    expect(await renamed.fetch1('mouse')).toBe(3);
    // A condition on plain attributes of a projection stays in place.
    const plain = p.restrict({ subject_id: 2 });
    expect(norm(await plain.sql())).not.toMatch(/\(SELECT /);
    expect(await plain.fetch1('kg')).toBeCloseTo(0.3);
  });

  it('restriction after an aggregation goes to HAVING, after a Top to a subquery', async () => {
    const agg = Subject.aggr(Session, { n: 'count(session_idx)' });
    const having = agg.restrict('n >= 2');
    expect(norm(await having.sql())).toMatch(BACKEND === 'mysql' ? /GROUP BY .* HAVING \(n >= 2\)$/ : /GROUP BY .*\) AS `\$\w+` WHERE \(n >= 2\)$/);
    expect(await ids(having)).toEqual([1, 3]);
    expect(await ids(agg.restrict({ n: 0 }))).toEqual([4, 5]);
    expect(await ids(agg.restrict(Session.restrict('score > 0.9')))).toEqual([3]);
    const t = Subject.restrict(dj.top(3)).restrict({ species: 'mouse' });
    expect(norm(await t.sql())).toMatch(/\(SELECT .* LIMIT 3\) AS/);
    expect(await ids(t)).toEqual([1, 3]);
  });
});

describe('dj.top', () => {
  it('limits by key, by attributes, with offsets, and without a limit', async () => {
    expect(await ids(Subject.restrict(dj.top()))).toEqual([1]);
    expect(await Subject.restrict(dj.top(2, 'KEY DESC')).keys()).toEqual([{ subject_id: 5 }, { subject_id: 4 }]);
    expect((await Session.restrict(dj.top(2, 'score DESC')).toDicts()).map((r) => r.score)).toEqual([0.95, 0.9]);
    expect((await Session.restrict(dj.top(2, 'score DESC', 1)).toDicts()).map((r) => r.score)).toEqual([0.9, 0.7]);
    expect((await Session.restrict(dj.top(null, 'score')).toDicts()).map((r) => r.score)).toEqual([0.2, 0.5, 0.6, 0.7, 0.9, 0.95]);
    expect((await Session.restrict(dj.top(2, ['subject_id DESC', 'session_idx'])).keys())).toEqual([
      { subject_id: 3, session_idx: 1 },
      { subject_id: 3, session_idx: 2 },
    ]);
    expect(await new Session().restrict(new dj.Top(3)).count()).toBe(3);
  });

  it('merges chained Tops with inherited or equal order, else uses a subquery', async () => {
    const merged = Session.restrict(dj.top(4, 'score DESC')).restrict(dj.top(2, null, 1));
    expect(norm(await merged.sql())).not.toMatch(/\(SELECT /);
    // The primary key breaks ties of a limited ordering (the same rows on every backend).
    expect(norm(await merged.sql())).toMatch(/ORDER BY `score` DESC,`subject_id`,`session_idx` LIMIT 2 OFFSET 1$/);
    expect((await merged.toDicts()).map((r) => r.score)).toEqual([0.9, 0.7]);
    const same = Session.restrict(dj.top(10, 'score DESC', 5)).restrict(dj.top(3, 'score DESC', 2));
    expect(norm(await same.sql())).toMatch(/LIMIT 3 OFFSET 7$/);
    // The second window cannot reach past the first: top(2) of rows 3..4 of top(5).
    const short = Subject.restrict(dj.top(5)).restrict(dj.top(10, null, 3));
    expect(await ids(short)).toEqual([4, 5]);
    const sub = Session.restrict(dj.top(4, 'score DESC')).restrict(dj.top(2, 'session_date'));
    expect(norm(await sub.sql())).toMatch(/\(SELECT .* ORDER BY `score` DESC,`subject_id`,`session_idx` LIMIT 4\) AS .* ORDER BY `session_date`,`subject_id`,`session_idx` LIMIT 2$/);
    expect((await sub.toDicts()).map((r) => r.score)).toEqual([0.9, 0.7]);
    // Fetch options act as a Top that inherits the order.
    expect((await Session.restrict(dj.top(null, 'score DESC')).toDicts({ limit: 2 })).map((r) => r.score)).toEqual([0.95, 0.9]);
    expect(await Session.restrict(dj.top(3, 'score DESC')).toArrays('score', { limit: 5, offset: 1 })).toEqual(Float64Array.from([0.9, 0.7]));
  });

  it('validates its arguments and where it may be used', async () => {
    expect(() => dj.top(1.5)).toThrow(TypeError);
    expect(() => dj.top('5' as never)).toThrow(TypeError);
    expect(() => dj.top(5, 7 as never)).toThrow(TypeError);
    expect(() => dj.top(5, ['a', 3] as never)).toThrow(TypeError);
    expect(() => dj.top(5, 'KEY', 0.5)).toThrow(TypeError);
    expect(() => new dj.Top(5, 'KEY', '1' as never)).toThrow(TypeError);
    expect(() => dj.top(-1)).toThrow(dj.DataJointError);
    await expect(Subject.restrict([dj.top(2), { subject_id: 1 }]).count()).rejects.toThrow(/OR list/);
    await expect(Subject.minus(dj.top(2)).count()).rejects.toThrow(/not with anti-restriction/);
  });

  it('applies to aggregations and projections', async () => {
    const best = Subject.aggr(Session, { best: 'max(score)' }, { excludeNonmatching: true }).restrict(dj.top(1, 'best DESC'));
    expect(await best.fetch1('subject_id')).toBe(3);
    const p = Session.restrict(dj.top(2, 'score DESC')).proj({ s: 'score * 10' });
    expect((await p.toDicts()).map((r) => Math.round(r.s as number))).toEqual([10, 9]);
  });
});
