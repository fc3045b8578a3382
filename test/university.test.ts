/**
 * The query algebra on DataJoint's "university" test database (test/fixtures/university/), each
 * result checked against a count or value computed independently with hand-written SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup, norm } from './helpers.js';
import { Course, CurrentTerm, Department, Enroll, Grade, LetterGrade, Section, Student, StudentMajor, Term, loadUniversity } from './university-fixture.js';

let schema: dj.SchemaDecorator;
let csvCounts: Record<string, number>;
let db: string;

/** One number from plain SQL (tables named as `student`, `enroll`, ... in the test database). */
async function sql1(sql: string): Promise<number> {
  const rows = await dj.conn().query(sql.replace(/\{([#\w]+)\}/g, (_m, t: string) => dj.conn().dialect.fullName(db, t)));
  return Number(Object.values(rows[0]!)[0]);
}
async function sqlRows(sql: string): Promise<Record<string, unknown>[]> {
  return dj.conn().query(sql.replace(/\{([#\w]+)\}/g, (_m, t: string) => dj.conn().dialect.fullName(db, t)));
}

beforeAll(async () => {
  schema = await freshSchema('university');
  db = schema.database;
  csvCounts = await loadUniversity(schema);
}, 120_000);
afterAll(() => cleanup(schema));

describe('university: loading', () => {
  it('holds every CSV row and the lookup contents', async () => {
    expect(csvCounts).toEqual({ Student: 300, Department: 4, StudentMajor: 226, Course: 45, Term: 18, CurrentTerm: 1, Section: 756, Enroll: 3364, Grade: 3027 });
    expect(await Student.count()).toBe(300);
    expect(await Department.count()).toBe(4);
    expect(await StudentMajor.count()).toBe(226);
    expect(await Course.count()).toBe(45);
    expect(await Term.count()).toBe(18);
    expect(await CurrentTerm.count()).toBe(1);
    expect(await Section.count()).toBe(756);
    expect(await Enroll.count()).toBe(3364);
    expect(await Grade.count()).toBe(3027);
    expect(await LetterGrade.count()).toBe(11);
    expect(await sql1('SELECT COUNT(*) FROM {enroll}')).toBe(3364);
    // The native year type reads back as numbers, in a typed array.
    const years = await Term.toArrays('term_year', { orderBy: 'KEY', limit: 4 });
    expect(ArrayBuffer.isView(years)).toBe(true);
    expect(Array.from(years as ArrayLike<number>)).toEqual([2015, 2015, 2015, 2016]);
  });

  it('keeps multi-line text and leading zeros', async () => {
    const addr = (await Department.restrict({ dept: 'BIOL' }).fetch1('dept_address')) as string;
    expect(addr).toContain('\n');
    expect(await Student.restrict({ student_id: 100 }).fetch1('home_zip')).toBe('01352');
  });
});

describe('university: restriction', () => {
  it('by object, string, and their negation', async () => {
    const ca = await sql1("SELECT COUNT(*) FROM {student} WHERE home_state='CA'");
    expect(ca).toBeGreaterThan(0);
    expect(await Student.restrict({ home_state: 'CA' }).count()).toBe(ca);
    expect(await Student.restrict("home_state = 'CA'").count()).toBe(ca);
    expect(await Student.minus({ home_state: 'CA' }).count()).toBe(300 - ca);
    const young = await sql1("SELECT COUNT(*) FROM {student} WHERE date_of_birth > '2000-01-01' AND sex = 'F'");
    expect(await Student.restrict("date_of_birth > '2000-01-01'").restrict({ sex: 'F' }).count()).toBe(young);
  });

  it('by an OR list of objects and by a query expression', async () => {
    const n = await sql1("SELECT COUNT(*) FROM {student} WHERE home_state IN ('CA','TX','NY')");
    expect(await Student.restrict([{ home_state: 'CA' }, { home_state: 'TX' }, { home_state: 'NY' }]).count()).toBe(n);
    // Students with and without a declared major.
    expect(await Student.restrict(StudentMajor).count()).toBe(226);
    expect(await Student.minus(StudentMajor).count()).toBe(74);
    const cs = await sql1("SELECT COUNT(*) FROM {student} s WHERE EXISTS (SELECT 1 FROM {student_major} m WHERE m.student_id = s.student_id AND m.dept = 'CS')");
    expect(await Student.restrict(StudentMajor.restrict({ dept: 'CS' })).count()).toBe(cs);
    // Students who never enrolled in a math course.
    const noMath = await sql1("SELECT COUNT(*) FROM {student} WHERE student_id NOT IN (SELECT student_id FROM {enroll} WHERE dept = 'MATH')");
    expect(await Student.minus(Enroll.restrict({ dept: 'MATH' })).count()).toBe(noMath);
  });

  it('by the current term (a secondary foreign key)', async () => {
    const n = await sql1('SELECT COUNT(*) FROM {enroll} e JOIN {current_term} c USING (term_year, term)');
    expect(await Enroll.restrict(CurrentTerm).count()).toBe(n);
    expect(n).toBeGreaterThan(0);
  });
});

describe('university: join', () => {
  it('inner joins with the primary key of the determining operand', async () => {
    const sm = Student.join(StudentMajor);
    expect(await sm.count()).toBe(226);
    expect((await sm.heading()).primaryKey).toEqual(['student_id']);
    const eg = Enroll.join(Grade);
    expect(await eg.count()).toBe(3027);
    expect((await eg.heading()).primaryKey).toEqual(['student_id', 'dept', 'course', 'term_year', 'term', 'section']);
    // Student does not determine Enroll, Enroll determines Student: Enroll's key, Enroll first.
    const se = Student.join(Enroll);
    const h = await se.heading();
    expect(h.primaryKey).toEqual(['student_id', 'dept', 'course', 'term_year', 'term', 'section']);
    expect(h.names.slice(0, 6)).toEqual(h.primaryKey);
    expect(await se.count()).toBe(3364);
  });

  it('three-way join matches plain SQL, including a restriction on the result', async () => {
    const n = await sql1("SELECT COUNT(*) FROM {grade} g JOIN {course} c USING (dept, course) JOIN {#letter_grade} l USING (grade) WHERE c.credits >= 4 AND l.points >= 3");
    const q = Grade.join(Course).join(LetterGrade).restrict('credits >= 4 AND points >= 3');
    expect(await q.count()).toBe(n);
    expect(n).toBeGreaterThan(0);
  });

  it('left join keeps every student; extend keeps every enrollment', async () => {
    const lj = Student.join(StudentMajor, { left: true });
    expect(await lj.count()).toBe(300);
    expect(await lj.restrict('dept IS NULL').count()).toBe(74);
    const ext = Enroll.extend(Grade);
    expect(await ext.count()).toBe(3364);
    expect(await ext.restrict('grade IS NULL').count()).toBe(3364 - 3027);
    expect((await ext.heading()).primaryKey).toEqual((await Enroll.heading()).primaryKey);
  });
});

describe('university: union', () => {
  it('of primary keys and of disjoint secondary attributes', async () => {
    const n = await sql1("SELECT COUNT(*) FROM {student} WHERE home_state IN ('CA', 'TX')");
    const u = Student.restrict({ home_state: 'CA' }).proj().union(Student.restrict({ home_state: 'TX' }).proj());
    expect(await u.count()).toBe(n);
    // Overlapping operands: students with a CS major or born after 2000.
    const both = await sql1(
      "SELECT COUNT(*) FROM {student} s WHERE s.student_id IN (SELECT student_id FROM {student_major} WHERE dept='CS') OR s.date_of_birth > '2000-01-01'",
    );
    const a = StudentMajor.restrict({ dept: 'CS' }).proj('declare_date');
    const b = Student.restrict("date_of_birth > '2000-01-01'").proj('date_of_birth');
    const ab = a.union(b);
    expect(await ab.count()).toBe(both);
    expect((await ab.heading()).names).toEqual(['student_id', 'declare_date', 'date_of_birth']);
    const onlyB = await sql1(
      "SELECT COUNT(*) FROM {student} s WHERE s.date_of_birth > '2000-01-01' AND s.student_id NOT IN (SELECT student_id FROM {student_major} WHERE dept='CS')",
    );
    expect(await ab.restrict('declare_date IS NULL').count()).toBe(onlyB);
  });
});

describe('university: aggregation', () => {
  it('counts enrollments per student (left join by default)', async () => {
    const agg = Student.aggr(Enroll, { n: 'count(dept)' });
    expect(await agg.count()).toBe(300);
    const ns = (await agg.toArrays('n')) as ArrayLike<number | bigint>;
    expect(Array.from(ns, Number).reduce((s, x) => s + x, 0)).toBe(3364);
    const enrolled = await sql1('SELECT COUNT(DISTINCT student_id) FROM {enroll}');
    expect(await Student.aggr(Enroll, '*', { n: 'count(*)' }, { excludeNonmatching: true }).count()).toBe(enrolled);
    expect(await agg.restrict('n = 0').count()).toBe(300 - enrolled);
  });

  it('computes GPAs equal to plain SQL, with WHERE and HAVING restrictions', async () => {
    const gpaSql = await sqlRows(
      'SELECT g.student_id, ROUND(SUM(l.points * c.credits) / SUM(c.credits), 2) AS gpa FROM {grade} g JOIN {course} c USING (dept, course) JOIN {#letter_grade} l USING (grade) GROUP BY g.student_id',
    );
    const expected = new Map(gpaSql.map((r) => [Number(r.student_id), String(r.gpa)]));
    const gpa = Student.aggr(Course.join(Grade).join(LetterGrade), { gpa: 'round(sum(points*credits)/sum(credits), 2)' }, { excludeNonmatching: true });
    const rows = await gpa.toDicts();
    expect(rows.length).toBe(expected.size);
    for (const r of rows) expect(r.gpa).toBe(expected.get(r.student_id as number));
    const high = [...expected.values()].filter((g) => Number(g) > 3.5).length;
    expect(await gpa.restrict('gpa > 3.5').count()).toBe(high);
    // A restriction of the grouping operand applies before grouping.
    const female = await sql1(
      "SELECT COUNT(DISTINCT g.student_id) FROM {grade} g JOIN {student} s USING (student_id) WHERE s.sex = 'F'",
    );
    const gpaF = Student.restrict({ sex: 'F' }).aggr(Course.join(Grade).join(LetterGrade), { gpa: 'avg(points)' }, { excludeNonmatching: true });
    expect(await gpaF.count()).toBe(female);
    expect(norm(await gpa.sql())).toMatch(/GROUP BY/);
    expect(await gpa.restrict('gpa > 3.5').sql()).toMatch(BACKEND === 'mysql' ? /HAVING \(gpa > 3\.5\)/ : /WHERE \(gpa > 3\.5\)$/);
  });

  it('counts majors per department and sections with many students', async () => {
    const perDept = await sqlRows('SELECT d.dept, COUNT(m.student_id) AS n FROM {department} d LEFT JOIN {student_major} m USING (dept) GROUP BY d.dept');
    const got = await Department.aggr(StudentMajor, { n: 'count(student_id)' }).toDicts({ orderBy: 'dept' });
    expect(Object.fromEntries(got.map((r) => [r.dept, r.n]))).toEqual(Object.fromEntries(perDept.map((r) => [r.dept, Number(r.n)])));
    const busy = await sql1('SELECT COUNT(*) FROM (SELECT dept, course, term_year, term, section FROM {enroll} GROUP BY dept, course, term_year, term, section HAVING COUNT(*) > 5) t');
    expect(await Section.aggr(Enroll, { n: 'count(*)' }).restrict('n > 5').count()).toBe(busy);
  });
});

describe('university: dj.U and dj.top', () => {
  it('distinct values and arbitrary grouping with dj.U', async () => {
    expect(await dj.U('home_state').restrict(Student).count()).toBe(await sql1('SELECT COUNT(DISTINCT home_state) FROM {student}'));
    const byState = await sqlRows('SELECT home_state, COUNT(*) AS n FROM {student} GROUP BY home_state');
    const got = await dj.U('home_state').aggr(Student, { n: 'count(*)' }).toDicts();
    expect(got.length).toBe(byState.length);
    expect(Object.fromEntries(got.map((r) => [r.home_state, r.n]))).toEqual(Object.fromEntries(byState.map((r) => [r.home_state, Number(r.n)])));
    expect(await dj.U().aggr(Enroll, { n: 'count(*)' }).fetch1('n')).toBe(3364);
    const terms = await sql1('SELECT COUNT(*) FROM (SELECT DISTINCT term_year, term FROM {section}) t');
    const ut = dj.U('term_year', 'term').restrict(Section);
    expect(await ut.count()).toBe(terms);
    expect((await ut.heading()).primaryKey).toEqual(['term_year', 'term']);
    // Grouping by a computed attribute: students per birth year.
    const YEAR = BACKEND === 'mysql' ? 'YEAR(date_of_birth)' : 'EXTRACT(YEAR FROM date_of_birth)::int';
    const years = await sqlRows(`SELECT ${YEAR} AS y, COUNT(*) AS n FROM {student} GROUP BY y`);
    const perYear = await dj.U('y').aggr(Student.proj({ y: YEAR }), { n: 'count(*)' }).toDicts();
    expect(Object.fromEntries(perYear.map((r) => [r.y, r.n]))).toEqual(Object.fromEntries(years.map((r) => [r.y, Number(r.n)])));
  });

  it('top rows, merged Tops, and restriction after a Top', async () => {
    const expected = (await sqlRows('SELECT student_id FROM {student} ORDER BY date_of_birth DESC, student_id LIMIT 5')).map((r) => r.student_id);
    expect(await Student.restrict(dj.top(5, ['date_of_birth DESC', 'student_id'])).toArrays('student_id').then((c) => Array.from(c as Uint32Array))).toEqual(expected);
    const merged = Student.restrict(dj.top(20, 'student_id')).restrict(dj.top(5, null, 3));
    expect((await merged.keys()).map((k) => k.student_id)).toEqual([103, 104, 105, 106, 107]);
    expect(norm(await merged.sql())).not.toMatch(/\(SELECT/);
    const f = await sql1("SELECT COUNT(*) FROM (SELECT * FROM {student} ORDER BY student_id LIMIT 50) t WHERE sex = 'F'");
    const afterTop = Student.restrict(dj.top(50)).restrict({ sex: 'F' });
    expect(await afterTop.count()).toBe(f);
    expect(norm(await afterTop.sql())).toMatch(/\(SELECT .* LIMIT 50\) AS/);
    // The three students with most enrollments (ties broken by id).
    const busiest = (await sqlRows('SELECT student_id, COUNT(*) AS n FROM {enroll} GROUP BY student_id ORDER BY n DESC, student_id LIMIT 3')).map((r) => r.student_id);
    const top3 = Student.aggr(Enroll, { n: 'count(*)' }, { excludeNonmatching: true }).restrict(dj.top(3, ['n DESC', 'student_id']));
    expect((await top3.keys()).map((k) => k.student_id)).toEqual(busiest);
  });
});

describe.runIf(BACKEND === 'mysql')('university: strict SQL mode', () => {
  it('aggregations are valid under ONLY_FULL_GROUP_BY (MySQL 8’s default mode)', async () => {
    // One pooled session, so the session's sql_mode applies to every query below.
    const strict = new dj.Connection({ poolSize: 1 });
    try {
      await strict.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ONLY_FULL_GROUP_BY')");
      expect(String((await strict.query('SELECT @@sql_mode AS m'))[0]!.m)).toContain('ONLY_FULL_GROUP_BY');
      const t = (name: string) => dj.FreeTable.create(strict, db, name);
      const [student, enroll, grade, course, letter, section] = ['student', 'enroll', 'grade', 'course', '#letter_grade', 'section'].map(t);
      const gpa = student!.aggr(course!.join(grade!).join(letter!), '*', { gpa: 'round(sum(points*credits)/sum(credits), 2)', n: 'count(*)' }, { excludeNonmatching: true });
      const strictRows = await gpa.restrict('gpa > 3').toDicts({ orderBy: ['gpa DESC', 'student_id'], limit: 5 });
      const defaultRows = await Student.aggr(Course.join(Grade).join(LetterGrade), '*', { gpa: 'round(sum(points*credits)/sum(credits), 2)', n: 'count(*)' }, { excludeNonmatching: true })
        .restrict('gpa > 3')
        .toDicts({ orderBy: ['gpa DESC', 'student_id'], limit: 5 });
      expect(strictRows).toEqual(defaultRows);
      expect(await gpa.count()).toBe(await sql1('SELECT COUNT(DISTINCT student_id) FROM {grade}'));
      expect(await gpa.proj('last_name', 'gpa').restrict(dj.top(3, ['gpa DESC', 'student_id'])).count()).toBe(3);
      expect(await student!.aggr(enroll!, 'first_name', { n: 'count(dept)' }).count()).toBe(300);
      expect(await dj.U('home_state').aggr(student!, { n: 'count(*)' }).count()).toBe(await sql1('SELECT COUNT(DISTINCT home_state) FROM {student}'));
      expect(await section!.aggr(enroll!, '*', { n: 'count(*)' }).restrict('n > 5').count()).toBe(await Section.aggr(Enroll, { n: 'count(*)' }).restrict('n > 5').count());
    } finally {
      await strict.close();
    }
  });
});
