/**
 * Projection, aggregation, union and dj.U (query-algebra §3, §5, §7, §8) with their errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup, norm } from './helpers.js';

// Date parts as integers in each dialect's SQL.
const YEAR = BACKEND === 'mysql' ? 'YEAR(session_date)' : 'EXTRACT(YEAR FROM session_date)::int';
const MONTH = BACKEND === 'mysql' ? 'MONTH(session_date)' : 'EXTRACT(MONTH FROM session_date)::int';

let schema: dj.SchemaDecorator;

class Subject extends dj.Manual {
  static definition = `
  subject_id : int32
  ---
  species = 'mouse' : varchar(32)
  weight = null : float64
  notes = '' : varchar(255)
  `;
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : uint16
  ---
  session_date : date
  score = null : float64
  `;
}
class Trial extends dj.Manual {
  static definition = `
  -> Session
  trial_idx : uint8
  ---
  correct : bool
  `;
}
class Animal extends dj.Manual {
  static definition = `animal_id : uint32`;
}
class Mouse extends dj.Manual {
  static definition = `
  -> Animal
  ---
  mouse_strain : varchar(16)
  `;
}
class Rat extends dj.Manual {
  static definition = `
  -> Animal
  ---
  rat_strain : varchar(16)
  `;
}

beforeAll(async () => {
  schema = await freshSchema('qproj');
  for (const c of [Subject, Session, Trial, Animal, Mouse, Rat]) schema.add(c);
  await Subject.insert([
    { subject_id: 1, species: 'mouse', weight: 20, notes: 'calm' },
    { subject_id: 2, species: 'rat', weight: 300 },
    { subject_id: 3, species: 'mouse', weight: 25 },
    { subject_id: 4, species: 'zebrafish' },
  ]);
  await Session.insert([
    [1, 1, '2024-01-01', 0.5],
    [1, 2, '2024-01-05', 0.9],
    [2, 1, '2024-02-01', 0.7],
    [3, 1, '2024-03-01', null],
  ]);
  await Animal.insert([[1], [2], [3]]);
  await Mouse.insert([[1, 'C57'], [2, 'BALB']]);
  await Rat.insert([[2, 'Wistar'], [3, 'SD']]);
});
afterAll(() => cleanup(schema));

type HasHeading = { heading(): Promise<dj.Heading> };
const names = async (e: HasHeading) => (await e.heading()).names;
const pk = async (e: HasHeading) => (await e.heading()).primaryKey;

describe('proj', () => {
  it('selects the primary key, named attributes, all, or all but some', async () => {
    expect(await names(Subject.proj())).toEqual(['subject_id']);
    expect(await names(Subject.proj('weight'))).toEqual(['subject_id', 'weight']);
    expect(await names(Subject.proj('notes', 'species'))).toEqual(['subject_id', 'species', 'notes']);
    expect(await names(Subject.proj('*'))).toEqual(['subject_id', 'species', 'weight', 'notes']);
    expect(await names(Subject.proj('*', '-notes', '-weight'))).toEqual(['subject_id', 'species']);
    expect(await Subject.proj('*', '-notes').restrict({ subject_id: 1 }).fetch1()).toEqual({ subject_id: 1, species: 'mouse', weight: 20 });
  });

  it('renames secondary and primary-key attributes', async () => {
    const r = Subject.proj({ animal_species: 'species' });
    expect(await names(r)).toEqual(['subject_id', 'animal_species']);
    expect(await r.restrict({ subject_id: 2 }).fetch1('animal_species')).toBe('rat');
    const k = Subject.proj('species', { mouse_id: 'subject_id' });
    expect(await pk(k)).toEqual(['mouse_id']);
    expect(await names(k)).toEqual(['mouse_id', 'species']);
    expect(await k.keys()).toEqual([{ mouse_id: 1 }, { mouse_id: 2 }, { mouse_id: 3 }, { mouse_id: 4 }]);
    // Renaming keeps lineage, so the renamed key still joins with its namesakes.
    const h = await k.heading();
    expect(h.attributes.mouse_id!.lineage).toBe(`${schema.database}.subject.subject_id`);
    // '*' with a rename: the source is replaced, not kept.
    expect(await names(Subject.proj('*', { kind: 'species' }))).toEqual(['subject_id', 'kind', 'weight', 'notes']);
  });

  it('duplicates attributes with parentheses', async () => {
    const d = Subject.proj('species', { species_copy: '(species)', id_copy: '(subject_id)' });
    // A duplicate sits next to its source (and is not part of the primary key).
    expect(await names(d)).toEqual(['subject_id', 'id_copy', 'species', 'species_copy']);
    expect(await pk(d)).toEqual(['subject_id']);
    expect(await d.restrict({ subject_id: 3 }).fetch1()).toEqual({ subject_id: 3, species: 'mouse', species_copy: 'mouse', id_copy: 3 });
  });

  it('computes attributes from SQL expressions', async () => {
    const c = Subject.proj({ kg: 'weight / 1000', label: "CONCAT(species, '-', subject_id)", nothing: 'NULL' });
    const row = await c.restrict({ subject_id: 2 }).fetch1();
    expect(row).toEqual({ subject_id: 2, kg: 0.3, label: 'rat-2', nothing: null });
    const h = await c.heading();
    expect(h.attributes.kg!.lineage).toBeNull();
    expect(h.attributes.kg!.expression).toBe('weight / 1000');
    // An expression over a computed attribute needs a subquery.
    const cc = c.proj({ g: 'kg * 1000' });
    expect(norm(await cc.sql())).toMatch(/FROM \(SELECT /);
    expect(await cc.restrict({ subject_id: 2 }).fetch1('g')).toBeCloseTo(300);
    const year = Session.proj({ year: YEAR, first: 'MIN(session_date)' });
    expect(await year.restrict({ subject_id: 2 }).fetch1('year')).toBe(2024);
  });

  it('runs the MySQL functions of the docs’ examples on every backend (PostgreSQL rewrites them, as DataJoint Python does)', async () => {
    const byYear = Session.proj({ y: 'YEAR(session_date)', m: 'month(session_date)', d: 'DAY(session_date)' }).restrict('y = 2024 AND m = 1');
    // The projected-away date is not in the query any more, as DataJoint Python says too.
    await expect(Session.proj({ y: 'YEAR(session_date)' }).restrict('YEAR(session_date) = 2024').count()).rejects.toThrow(/Attribute `session_date` is not in the query .*projected away/);
    expect(await Session.restrict('YEAR(session_date) = 2024 AND MONTH(session_date) = 1').proj({ y: 'YEAR(session_date)' }).count()).toBe(2);
    expect(await byYear.toDicts({ orderBy: 'KEY' })).toEqual([
      { subject_id: 1, session_idx: 1, y: 2024, m: 1, d: 1 },
      { subject_id: 1, session_idx: 2, y: 2024, m: 1, d: 5 },
    ]);
    const summary = Subject.aggr(Session, { sessions: "GROUP_CONCAT(session_idx ORDER BY session_idx DESC SEPARATOR '; ')", good: 'SUM(score > 0.6)', dates: 'group_concat(DISTINCT YEAR(session_date))' });
    expect(await summary.restrict({ subject_id: 1 }).fetch1()).toMatchObject({ subject_id: 1, sessions: '2; 1', dates: '2024' });
    expect(Number(await summary.restrict({ subject_id: 1 }).fetch1('good'))).toBe(1);
    // The docs' sum over a bool attribute (tutorial 04): MySQL's booleans are 0/1, PostgreSQL
    // aggregates them as integers.
    await Trial.insert([
      [1, 1, 1, true],
      [1, 1, 2, false],
      [1, 1, 3, true],
      [1, 2, 1, false],
    ]);
    const trials = Session.aggr(Trial, { n: 'count(*)', n_correct: 'sum(correct)', rate: 'avg(correct)', best: 'max(correct)' });
    const rows = (await trials.toDicts({ orderBy: 'KEY' })).map((r) => ({ n: Number(r.n), n_correct: Number(r.n_correct), rate: Math.round(Number(r.rate) * 1000) / 1000, best: Number(r.best) })); // MySQL's avg has 4 digits
    expect(rows.slice(0, 2)).toEqual([
      { n: 3, n_correct: 2, rate: 0.667, best: 1 },
      { n: 1, n_correct: 0, rate: 0, best: 0 },
    ]);
    expect(await Session.aggr(Trial, { n_correct: 'sum(correct)' }).restrict('n_correct > 1').count()).toBe(1);
    // A sum or mean of an attribute is a number on every backend (MySQL gives DECIMAL text).
    const sums = await Subject.aggr(Session, { total: 'sum(session_idx)', mean: 'avg(session_idx)', s: 'SUM(score)', m: 'avg(score)' }).restrict({ subject_id: 1 }).fetch1();
    expect(sums).toMatchObject({ total: 3, mean: 1.5, s: 1.4, m: 0.7 });
    expect(typeof sums.total).toBe('number');
    // Tutorial 07's ages: TIMESTAMPDIFF and DATEDIFF, whole units truncated as MySQL counts them.
    const ages = Session.proj({ years: "TIMESTAMPDIFF(YEAR, session_date, '2025-01-05')", months: "timestampdiff(MONTH, session_date, '2024-03-01')", days: "DATEDIFF('2024-03-01', session_date)", hours: "TIMESTAMPDIFF(HOUR, session_date, '2024-01-02 06:30:00')" });
    expect((await ages.toDicts({ orderBy: 'KEY' })).map((r) => [r.years, r.months, r.days, r.hours].map(Number))).toEqual([
      [1, 2, 60, 30],
      [1, 1, 56, -65],
      [0, 1, 29, -713],
      [0, 0, 0, -1409],
    ]);
    expect(await Session.restrict("TIMESTAMPDIFF(DAY, session_date, CURDATE()) > 30").count()).toBe(4);
    // A function name inside a string, or a column named like one, is left alone.
    expect(await Subject.restrict("notes != 'YEAR(x)'").count()).toBe(4);
    expect(await Session.restrict('session_date <= CURDATE()').count()).toBe(4);
  });

  it('reports the spec’s errors', async () => {
    await expect(Subject.proj('nope').toDicts()).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await expect(Subject.proj({ x: 'nope' }).toDicts()).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await expect(Subject.proj({ x: '(nope)' }).toDicts()).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await expect(Subject.proj('*', '-subject_id').toDicts()).rejects.toThrow('Cannot exclude primary key attribute `subject_id`');
    await expect(Subject.proj('*', '-nope').toDicts()).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await expect(Subject.proj('species', { species: 'notes' }).toDicts()).rejects.toThrow(/`species` already exists/);
    await expect(Subject.proj('*', { weight: 'weight * 2' }).toDicts()).rejects.toThrow(/`weight` already exists/);
    await expect(Subject.proj({ subject_id: 'weight' }).toDicts()).rejects.toThrow(/`subject_id` already exists/);
    expect(() => Subject.proj(3 as never)).toThrow(/not a valid argument/);
    expect(() => Subject.proj({ a: 1 } as never)).toThrow(/must be a string/);
    expect(() => Subject.proj({ a: 'x' }, { b: 'y' })).toThrow(/one object/);
  });
});

describe('aggr', () => {
  it('keeps every row of the grouping expression by default', async () => {
    const a = Subject.aggr(Session, { n: 'count(session_idx)', best: 'max(score)', last: 'max(session_date)' });
    expect(await pk(a)).toEqual(['subject_id']);
    expect(await names(a)).toEqual(['subject_id', 'n', 'best', 'last']);
    expect(await a.toDicts({ orderBy: 'KEY' })).toEqual([
      { subject_id: 1, n: 2, best: 0.9, last: new Date(Date.UTC(2024, 0, 5)) },
      { subject_id: 2, n: 1, best: 0.7, last: new Date(Date.UTC(2024, 1, 1)) },
      { subject_id: 3, n: 1, best: null, last: new Date(Date.UTC(2024, 2, 1)) },
      { subject_id: 4, n: 0, best: null, last: null },
    ]);
    expect(norm(await a.sql())).toMatch(/LEFT JOIN \(SELECT .*\) AS `\$\w+` USING \(`subject_id`\) GROUP BY `subject_id`$/);
  });

  it('excludes non-matching rows on request, selects attributes of the grouping expression', async () => {
    const e = Subject.aggr(Session, '*', { n: 'count(*)' }, { excludeNonmatching: true });
    expect(await names(e)).toEqual(['subject_id', 'species', 'weight', 'notes', 'n']);
    expect(await e.count()).toBe(3);
    expect(norm(await e.sql())).not.toMatch(/LEFT JOIN/);
    const s = Subject.aggr(Session, 'species', { n: 'count(session_idx)' });
    expect(await names(s)).toEqual(['subject_id', 'species', 'n']);
    expect(await Subject.aggr(Session, { n: 'count(*)' }, { excludeNonmatching: true }).count()).toBe(3);
  });

  it('puts restrictions of the group before grouping (WHERE) and of the result after (HAVING)', async () => {
    const where = Subject.restrict({ species: 'mouse' }).aggr(Session.restrict('score > 0.6'), { n: 'count(session_idx)' });
    expect(await where.toDicts()).toEqual([
      { subject_id: 1, n: 1 },
      { subject_id: 3, n: 0 },
    ]);
    const having = Subject.aggr(Session, { n: 'count(session_idx)' }).restrict('n > 1');
    // MySQL: HAVING on the alias; PostgreSQL cannot name aliases in HAVING: WHERE on the grouped rows.
    expect(norm(await having.sql())).toMatch(BACKEND === 'mysql' ? /HAVING \(n > 1\)/ : /GROUP BY .*\) AS `\$\w+` WHERE \(n > 1\)$/);
    expect(await having.keys()).toEqual([{ subject_id: 1 }]);
    expect(await having.count()).toBe(1);
    // Projected so that the aggregate is no longer selected: the HAVING still applies (MySQL
    // named the dropped alias there), and the result is usable as an operand.
    expect(await having.proj().toDicts()).toEqual([{ subject_id: 1 }]);
    expect(await having.proj().count()).toBe(1);
    expect(await Session.restrict(having.proj()).count()).toBe(2);
    expect(await having.proj().join(Session).count()).toBe(2);
    // Aggregation as an operand: a subquery.
    const j = Subject.aggr(Session, { n: 'count(session_idx)' }).join(Session);
    expect(await j.count()).toBe(4);
    // Projection of an aggregate.
    expect(await Subject.aggr(Session, { n: 'count(session_idx)' }).proj({ m: 'n * 10' }).restrict({ subject_id: 1 }).fetch1('m')).toBe(20);
  });

  it('requires the group to contain the grouping key', async () => {
    await expect(Session.aggr(Subject, { n: 'count(*)' }).count()).rejects.toThrow(/must contain the primary key.*'session_idx'|missing: \['session_idx'\]/);
    expect(() => Subject.aggr(Session, { n: 'count(*)' }, { bogus: true } as never)).toThrow(/unknown option/);
  });
});

describe('union', () => {
  it('of primary keys, of disjoint secondary attributes, with A’s values first', async () => {
    const u = Subject.restrict({ species: 'mouse' }).proj().union(Subject.restrict('weight > 100').proj());
    expect(await u.keys({ orderBy: 'KEY' })).toEqual([{ subject_id: 1 }, { subject_id: 2 }, { subject_id: 3 }]);
    expect(norm(await u.sql())).toMatch(/UNION/);
    const animals = Mouse.union(Rat);
    expect(await names(animals)).toEqual(['animal_id', 'mouse_strain', 'rat_strain']);
    expect(await animals.toDicts({ orderBy: 'animal_id' })).toEqual([
      { animal_id: 1, mouse_strain: 'C57', rat_strain: null },
      { animal_id: 2, mouse_strain: 'BALB', rat_strain: 'Wistar' },
      { animal_id: 3, mouse_strain: null, rat_strain: 'SD' },
    ]);
    expect(await animals.restrict('rat_strain IS NULL').count()).toBe(1);
    // Associative.
    const three = Mouse.proj().union(Rat.proj()).union(Mouse.restrict({ animal_id: 1 }).proj());
    expect(await three.count()).toBe(3);
  });

  it('rejects different primary keys and shared secondary attributes', async () => {
    await expect(Subject.union(Session).count()).rejects.toThrow(/same primary key/);
    await expect(Mouse.union(Mouse.restrict({ animal_id: 1 })).count()).rejects.toThrow(/must not share secondary attributes: `mouse_strain`/);
    // Keys alone with different lineages: a plain UNION, as in DataJoint Python (issue 10 §7).
    expect(await Subject.proj({ animal_id: 'subject_id' }).union(Mouse.proj()).count()).toBeGreaterThan(0);
  });
});

describe('dj.U', () => {
  it('enumerates distinct values with the attributes as primary key', async () => {
    const u = dj.U('species').restrict(Subject);
    expect(await pk(u)).toEqual(['species']);
    expect(await u.toDicts({ orderBy: 'species' })).toEqual([{ species: 'mouse' }, { species: 'rat' }, { species: 'zebrafish' }]);
    expect(await u.count()).toBe(3);
    const ym = dj.U('year', 'month').restrict(Session.proj({ year: YEAR, month: MONTH }));
    expect(await ym.count()).toBe(3);
    expect(await ym.restrict({ month: 1 }).keys()).toEqual([{ year: 2024, month: 1 }]);
    // dj.U() & table: no attributes, one row when the table is not empty.
    expect(await dj.U().restrict(Subject).count()).toBe(1);
    expect(await dj.U().restrict(Subject.restrict(false)).count()).toBe(0);
    // Its rows have no attributes either (the SELECT's placeholder column is not one).
    expect(await dj.U().restrict(Subject).toDicts()).toEqual([{}]);
    expect(await dj.U().restrict(Subject).keys()).toEqual([{}]);
    expect(await dj.U().restrict(Subject).fetch1()).toEqual({});
    expect(await dj.U('species').restrict(Subject.restrict(Session)).count()).toBe(2);
  });

  it('aggregates by arbitrary attributes or into one row', async () => {
    const bySpecies = dj.U('species').aggr(Subject, { n: 'count(*)', heaviest: 'max(weight)' });
    expect(await bySpecies.toDicts({ orderBy: 'species' })).toEqual([
      { species: 'mouse', n: 2, heaviest: 25 },
      { species: 'rat', n: 1, heaviest: 300 },
      { species: 'zebrafish', n: 1, heaviest: null },
    ]);
    expect(await bySpecies.restrict('n > 1').keys()).toEqual([{ species: 'mouse' }]);
    expect(await dj.U().aggr(Session, { total: 'count(*)', mean: 'avg(score)' }).fetch1('total')).toBe(4);
    const byDate = dj.U('session_date').aggr(Session, { n: 'count(session_idx)' });
    expect(await byDate.count()).toBe(4);
    expect(await dj.U().aggr(Session, { n: 'count(*)' }).restrict('n > 10').count()).toBe(0);
  });

  it('reports its invalid operations', async () => {
    expect(() => dj.U('a').minus(Subject)).toThrow(/infinite set/);
    expect(() => dj.U('a').join(Subject)).toThrow(/no longer supported in DataJoint 2\.0/);
    expect(() => Subject.join(dj.U('species') as never)).toThrow(/dj\.U/);
    expect(() => dj.U().aggr(Session, { n: 'count(*)' }, { excludeNonmatching: false })).toThrow(/infinite/);
    await expect(dj.U('nope').restrict(Subject).count()).rejects.toThrow(/`nope` of dj\.U is not in/);
    await expect(dj.U('nope').aggr(Subject, { n: 'count(*)' }).count()).rejects.toThrow(/`nope` of dj\.U is not in/);
    expect(() => dj.U('species').restrict({ species: 'mouse' } as never)).toThrow(/query expression/);
    expect(() => dj.U(3 as never)).toThrow(/attribute names/);
    // Restricting by the universal set keeps everything; subtracting it leaves nothing.
    expect(await Subject.restrict(dj.U('species')).count()).toBe(4);
    expect(await Subject.minus(dj.U('species')).count()).toBe(0);
  });
});

describe('static mirrors', () => {
  it('are available on table classes', async () => {
    expect(await Subject.join(Session).count()).toBe(4);
    expect(await Subject.proj().count()).toBe(4);
    expect(await Subject.aggr(Session, { n: 'count(*)' }).count()).toBe(4);
    expect(await Mouse.union(Rat).count()).toBe(3);
    expect(await Session.extend(Subject).count()).toBe(4);
    expect((await Subject.toArrow()).numRows).toBe(4);
    let n = 0;
    for await (const row of Subject.iterate()) n += row.subject_id as number;
    expect(n).toBe(10);
    // The class itself streams too (at run time; TypeScript sees only the instance side).
    for await (const row of Subject as unknown as AsyncIterable<dj.Row>) n += row.subject_id as number;
    expect(n).toBe(20);
  });
});
