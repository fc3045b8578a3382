/**
 * Join: semantic matching by lineage, the primary-key rules (A → B, B → A, both, neither;
 * attribute order; non-commutativity), left join and extend, hidden attributes, and the
 * spec's error cases (semantic-matching.md, primary-keys.md, query-algebra §4, §6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup, norm } from './helpers.js';

let schema: dj.SchemaDecorator;

class X extends dj.Manual {
  static definition = `x : int32`;
}
class Y extends dj.Manual {
  static definition = `y : int32`;
}
class Z extends dj.Manual {
  static definition = `z : int32`;
}
/** A(x*, y*) */
class A extends dj.Manual {
  static definition = `
  -> X
  -> Y
  ---
  a_val : int32
  `;
}
/** B1(x*, z*, y): B1 → A (example 1) */
class B1 extends dj.Manual {
  static definition = `
  -> X
  -> Z
  ---
  -> Y
  b1_val : int32
  `;
}
/** A2(x*, y*, z) and B2(y*, z*, x): both directions (example 2) */
class A2 extends dj.Manual {
  static definition = `
  -> X
  -> Y
  ---
  -> Z
  `;
}
class B2 extends dj.Manual {
  static definition = `
  -> Y
  -> Z
  ---
  -> X
  `;
}
/** B3(z*, x): neither direction with A (example 3) */
class B3 extends dj.Manual {
  static definition = `
  -> Z
  ---
  -> X
  `;
}
class Session extends dj.Manual {
  static definition = `
  session_id : uint32
  ---
  session_date : date
  `;
}
class Trial extends dj.Manual {
  static definition = `
  -> Session
  trial_num : uint16
  ---
  stimulus : varchar(100)
  `;
}
class TableA extends dj.Manual {
  static definition = `
  id : uint32
  ---
  value_a : int32
  name = '' : varchar(16)
  `;
}
class TableB extends dj.Manual {
  static definition = `
  id : uint32
  ---
  value_b : int32
  name = '' : varchar(16)
  `;
}
class Course extends dj.Manual {
  static definition = `
  course_id : uint32
  ---
  title : varchar(100)
  `;
}
class FavoriteCourse extends dj.Manual {
  static definition = `
  student_id : uint32
  ---
  -> Course
  `;
}
class RequiredCourse extends dj.Manual {
  static definition = `
  major_id : uint32
  ---
  -> Course
  `;
}
class Person extends dj.Manual {
  static definition = `
  person_id : uint32
  ---
  full_name : varchar(100)
  `;
}
class Marriage extends dj.Manual {
  static definition = `
  -> Person.proj(husband='person_id')
  -> Person.proj(wife='person_id')
  ---
  marriage_date : date
  `;
}
class Scan extends dj.Computed {
  static definition = `
  -> Session
  ---
  quality : float64
  `;
}
class Score extends dj.Computed {
  static definition = `
  -> Session
  ---
  score : float64
  `;
}

beforeAll(async () => {
  schema = await freshSchema('qjoin');
  for (const c of [X, Y, Z, A, B1, A2, B2, B3, Session, Trial, TableA, TableB, Course, FavoriteCourse, RequiredCourse, Person, Marriage]) schema.add(c);
  schema.add(Scan);
  schema.add(Score);
  await dj.config.override({ 'jobs.add_job_metadata': true }, () => schema.declare());
  await X.insert([[1], [2], [3]]);
  await Y.insert([[10], [20]]);
  await Z.insert([[100], [200], [300]]);
  await A.insert([[1, 10, 5], [1, 20, 6], [2, 10, 7]]);
  await B1.insert([[1, 100, 10, 1], [1, 200, 20, 2], [2, 100, 20, 3], [3, 300, 10, 4]]);
  await A2.insert([[1, 10, 100], [2, 20, 200]]);
  await B2.insert([[10, 100, 1], [20, 200, 3], [20, 300, 2]]);
  await B3.insert([[100, 1], [200, 1], [300, 3]]);
  await Session.insert([[1, '2024-01-01'], [2, '2024-01-02'], [3, '2024-01-03']]);
  await Trial.insert([[1, 1, 'a'], [1, 2, 'b'], [2, 1, 'c']]);
  await TableA.insert([[1, 10, 'p'], [2, 20, 'q']]);
  await TableB.insert([[1, 11, 'p'], [3, 33, 'r']]);
  await Course.insert([[1, 'Math'], [2, 'Art']]);
  await FavoriteCourse.insert([[7, 1], [8, 2]]);
  await RequiredCourse.insert([[70, 1], [71, 1]]);
  await Person.insert([[1, 'Al'], [2, 'Bo'], [3, 'Cy']]);
  await Marriage.insert([[1, 2, '2020-06-01']]);
  await Scan.insert([[1, 0.5], [2, 0.9], [3, 0.1]], { allowDirectInsert: true });
  await Score.insert([[1, 5], [2, 9]], { allowDirectInsert: true });
  // Hidden job metadata with different values: a join on them would lose rows.
  await dj.conn().execute(`UPDATE ${Scan.fullTableName} SET _job_duration = 1`);
  await dj.conn().execute(`UPDATE ${Score.fullTableName} SET _job_duration = 2`);
});
afterAll(() => cleanup(schema));

type HasHeading = { heading(): Promise<dj.Heading> };
const pk = async (e: HasHeading) => (await e.heading()).primaryKey;
const names = async (e: HasHeading) => (await e.heading()).names;

describe('primary key of a join', () => {
  it('example 1, B → A only: PK(B) with B’s attributes first', async () => {
    const j = A.join(B1);
    expect(await pk(j)).toEqual(['x', 'z']);
    expect(await names(j)).toEqual(['x', 'z', 'y', 'b1_val', 'a_val']);
    // rows: (1,100,y=10) matches A(1,10); (1,200,20) matches A(1,20); (2,100,20) no; (3,300,10) no
    expect(await j.toDicts({ orderBy: 'KEY' })).toEqual([
      { x: 1, z: 100, y: 10, b1_val: 1, a_val: 5 },
      { x: 1, z: 200, y: 20, b1_val: 2, a_val: 6 },
    ]);
  });

  it('example 2, both directions: PK of the left operand; join is not commutative', async () => {
    const ab = A2.join(B2);
    expect(await pk(ab)).toEqual(['x', 'y']);
    expect(await names(ab)).toEqual(['x', 'y', 'z']);
    const ba = B2.join(A2);
    expect(await pk(ba)).toEqual(['y', 'z']);
    expect(await names(ba)).toEqual(['y', 'z', 'x']);
    // Same rows either way.
    const rows = (e: dj.QueryExpression) => e.toDicts().then((r) => r.map((o) => `${o.x},${o.y},${o.z}`).sort());
    expect(await rows(ab)).toEqual(await rows(ba));
    expect(await rows(ab)).toEqual(['1,10,100']);
  });

  it('example 3, neither: PK(A) ∪ PK(B), A’s key first', async () => {
    const j = A.join(B3);
    expect(await pk(j)).toEqual(['x', 'y', 'z']);
    expect(await names(j)).toEqual(['x', 'y', 'z', 'a_val']);
    // A(1,10),(1,20),(2,10) × B3 with x: (100,1),(200,1),(300,3) → 2 × 2 = 4 rows
    expect(await j.count()).toBe(4);
    const rev = B3.join(A);
    expect(await pk(rev)).toEqual(['z', 'x', 'y']);
  });

  it('example 4, Session → Trial is B → A: Trial’s key and attributes first', async () => {
    const j = Session.join(Trial);
    expect(await pk(j)).toEqual(['session_id', 'trial_num']);
    expect(await names(j)).toEqual(['session_id', 'trial_num', 'stimulus', 'session_date']);
    expect(await pk(Trial.join(Session))).toEqual(['session_id', 'trial_num']);
    expect(await j.count()).toBe(3);
  });

  it('a join of three and a join of joins', async () => {
    const j = A.join(B1).join(X);
    expect(await j.count()).toBe(2);
    const nested = X.join(A.join(B1));
    expect(await nested.count()).toBe(2);
    expect(await pk(nested)).toEqual(['x', 'z']);
  });
});

describe('semantic matching', () => {
  it('rejects namesakes of different lineage, with the spec’s message', async () => {
    const q = TableA.join(TableB);
    await expect(q.toDicts()).rejects.toThrow(dj.DataJointError);
    await expect(q.count()).rejects.toThrow(
      `Cannot join on attribute \`id\`: different lineages (${schema.database}.table_a.id vs ${schema.database}.table_b.id). Use .proj() to rename one of the attributes.`,
    );
    // Secondary namesakes without lineage also collide.
    await expect(TableA.proj('name').join(TableB.proj({ b_id: 'id' }, 'name')).count()).rejects.toThrow(/Cannot join on attribute `name`: different lineages \(None vs None\)/);
    await expect(TableA.restrict(TableB).count()).rejects.toThrow(/Cannot restrict on attribute `id`: different lineages/);
    await expect(TableA.aggr(TableB, { n: 'count(*)' }).count()).rejects.toThrow(/different lineages/);
  });

  it('resolves by renaming or by turning the check off', async () => {
    expect(await TableA.join(TableB.proj({ b_id: 'id' }, 'value_b')).count()).toBe(4);
    const natural = TableA.join(TableB, { semanticCheck: false });
    expect(await natural.toDicts()).toEqual([{ id: 1, value_a: 10, name: 'p', value_b: 11 }]);
    expect(await TableA.restrict(TableB, { semanticCheck: false }).count()).toBe(1);
    expect(await TableA.restrict(dj.not(TableB), { semanticCheck: false }).count()).toBe(1);
  });

  it('matches secondary foreign keys and renamed foreign keys by lineage', async () => {
    // Example 4: course_id is secondary in both, same lineage.
    const j = FavoriteCourse.join(RequiredCourse);
    expect(await j.count()).toBe(2);
    expect(await pk(j)).toEqual(['student_id', 'major_id']);
    // Example 5: husband and wife keep the lineage of person_id.
    const h = await Marriage.heading();
    expect(h.attributes.husband!.lineage).toBe(`${schema.database}.person.person_id`);
    expect(h.attributes.wife!.lineage).toBe(`${schema.database}.person.person_id`);
    const husbands = Person.proj({ husband: 'person_id' }, 'full_name').join(Marriage);
    expect(await husbands.fetch1('full_name')).toBe('Al');
    expect(await Person.restrict(Marriage.proj({ person_id: 'wife' })).fetch1('full_name')).toBe('Bo');
  });
});

describe('left join and extend', () => {
  it('keeps every row of the left operand when it determines the right', async () => {
    const lj = Session.join(Scan, { left: true });
    expect(await pk(lj)).toEqual(['session_id']);
    expect(await lj.count()).toBe(3);
    const ext = Scan.extend(Score);
    expect(await ext.toDicts({ orderBy: 'session_id' })).toEqual([
      { session_id: 1, quality: 0.5, score: 5 },
      { session_id: 2, quality: 0.9, score: 9 },
      { session_id: 3, quality: 0.1, score: null },
    ]);
    expect((await ext.heading()).attributes.score!.nullable).toBe(true);
    // The right operand's restriction applies before matching, not to the result.
    const extR = Scan.extend(Score.restrict('score > 6'));
    expect(await extR.count()).toBe(3);
    expect(await extR.restrict('score IS NULL').count()).toBe(2);
  });

  it('refuses a left join without A → B unless allowNullablePk', async () => {
    const msg =
      "Left join requires the left operand to determine the right operand (A → B).\nThe following attributes from the right operand's primary key are not determined by the left operand: ['z']. Use an inner join or restructure the query.";
    await expect(A.join(B1, { left: true }).count()).rejects.toThrow(msg);
    await expect(Session.join(Trial, { left: true }).count()).rejects.toThrow(/\['trial_num'\]/);
    await expect(Session.extend(Trial).count()).rejects.toThrow(/extend requires the left operand to determine the right operand/);
    const allowed = A.join(B1, { left: true, allowNullablePk: true });
    expect(await pk(allowed)).toEqual(['x', 'y', 'z']);
    // A's three rows, two with a match in B1, one (2, 10) without.
    expect(await allowed.count()).toBe(3);
    expect(await allowed.restrict('z IS NULL').count()).toBe(1);
  });
});

describe('hidden attributes', () => {
  it('are not matched by joins, nor returned by fetches', async () => {
    expect((await Scan.heading()).all.map((a) => a.name)).toContain('_job_duration');
    expect(await names(Scan)).toEqual(['session_id', 'quality']);
    const j = Scan.join(Score);
    expect(await j.count()).toBe(2);
    // Hidden namesakes need no subquery: they are never named by the joined query.
    expect(norm(await j.sql())).toMatch(/^SELECT `session_id`,`quality`,`score` FROM `[^`]+`\.`__scan` JOIN `[^`]+`\.`__score` USING \(`session_id`\)$/);
    expect(await names(j)).toEqual(['session_id', 'quality', 'score']);
    expect(Object.keys((await j.toDicts())[0]!)).toEqual(['session_id', 'quality', 'score']);
    expect(Object.keys((await Scan.toDicts())[0]!)).toEqual(['session_id', 'quality']);
    expect(Object.keys(await Scan.toArrays())).toEqual(['session_id', 'quality']);
    expect((await Scan.toArrow()).schema.fields.map((f) => f.name)).toEqual(['session_id', 'quality']);
    // Nor by restriction with another expression.
    expect(await Scan.restrict(Score).count()).toBe(2);
    expect(await Scan.proj('*').toDicts().then((r) => Object.keys(r[0]!))).toEqual(['session_id', 'quality']);
  });
});

describe('join errors', () => {
  it('rejects non-expressions, dj.U, and other connections', async () => {
    expect(() => A.join(42 as never)).toThrow(/must be a query expression or a table class/);
    expect(() => A.join(dj.U('x') as never)).toThrow(/dj\.U/);
    expect(() => dj.U('x').join(A)).toThrow('dj.U(...) * table is no longer supported in DataJoint 2.0. Use dj.U(...) & table instead');
    const other = new dj.Connection();
    const free = dj.FreeTable.create(other, schema.database, 'x');
    expect(() => A.join(free)).toThrow(/different database connections/);
    expect(() => A.union(free)).toThrow(/different database connections/);
    expect(() => A.restrict({ x: 1 }).aggr(free, { n: 'count(*)' })).toThrow(/different database connections/);
    await other.close();
  });
});

describe('missing lineage', () => {
  it('warns and falls back to a natural join when ~lineage is absent', async () => {
    const db = `${schema.database}_nolineage`;
    const c = dj.conn();
    const t = (name: string) => c.dialect.fullName(db, name);
    await c.executeAll(c.dialect.createDatabase(db));
    try {
      await c.execute(`CREATE TABLE ${t('p')} (id int NOT NULL, a int NOT NULL, PRIMARY KEY (id))`);
      await c.execute(`CREATE TABLE ${t('q')} (id int NOT NULL, b int NOT NULL, PRIMARY KEY (id))`);
      await c.execute(`INSERT INTO ${t('p')} VALUES (1, 10), (2, 20)`);
      await c.execute(`INSERT INTO ${t('q')} VALUES (2, 200), (3, 300)`);
      const p = dj.FreeTable.create(c, db, 'p');
      const q = dj.FreeTable.create(c, db, 'q');
      expect((await p.heading()).lineageAvailable).toBe(false);
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        expect(await p.join(q).toDicts()).toEqual([{ id: 2, a: 20, b: 200 }]);
        await new Promise((r) => setImmediate(r));
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.some((m) => m.startsWith('Semantic check disabled: ~lineage table not found.') && m.includes('rebuildLineage()'))).toBe(true);
    } finally {
      await c.executeAll(c.dialect.dropDatabase(db));
    }
  });
});
