/**
 * Declarations racing each other, as when several `dj populate` workers (or a pool's threads)
 * start at once on a schema that does not exist yet: each has its own connection and its own
 * schema object (here: one per simulated process), and all declare the same tables together.
 * None may fail, none may warn, and every table's lineage must be the one a lone declaration
 * writes. Before this was mended: on PostgreSQL the second CREATE SCHEMA IF NOT EXISTS failed on
 * the catalog's unique index; on MySQL a child read its parent's lineage between the parent's
 * CREATE TABLE and its ~lineage rows (a warning and a wrong lineage), and the ~lineage writes
 * of two declarations deadlocked.
 *
 * Around it: a table's lineage is written with it (first, where CREATE TABLE commits at once),
 * so a CREATE the server refuses leaves no entries; a parent whose entries are missing (a table
 * declared by a program that wrote none) gives its children the lineage of its definition.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dj } from './helpers.js';

const database = `djtest_declrace_${process.pid}`;
const ROUNDS = 6;
const PROCESSES = 3;

/** The same four-level chain and a lookup with contents, registered on `schema`. */
function declareTables(schema: dj.SchemaDecorator) {
  class Subject extends dj.Manual {
    static definition = 'subject_id : int32\n---\nname = "" : varchar(16)';
  }
  class Task extends dj.Lookup {
    static definition = 'task : varchar(16)';
    static contents = [['rest'], ['go'], ['stop']];
  }
  class Session extends dj.Manual {
    static definition = '-> Subject\nsession : int16\n---\n-> Task';
  }
  class Trial extends dj.Manual {
    static definition = '-> Session\ntrial : int16\n---\nv = 0 : float64';
  }
  class Sample extends dj.Manual {
    static definition = '-> Trial\nsample : int16';
  }
  for (const cls of [Subject, Task, Session, Trial, Sample]) schema.add(cls);
  return { Subject, Task, Session, Trial, Sample };
}

const opened: dj.Connection[] = [];
const connect = () => {
  const c = new dj.Connection();
  opened.push(c);
  return c;
};

afterAll(async () => {
  await dj.schema(database, { connection: connect() }).drop({ prompt: false });
  for (const c of opened) await c.close();
});

describe('declarations racing from several processes on a new schema', () => {
  it(`${PROCESSES} connections declaring the same tables at once: no error, no warning, the lineage of a lone declaration (${ROUNDS} rounds)`, async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void (w.name === 'DataJointWarning' && warnings.push(w.message));
    process.on('warning', onWarning);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await dj.schema(database, { connection: connect() }).drop({ prompt: false });
        const sets = Array.from({ length: PROCESSES }, () => declareTables(dj.schema(database, { connection: connect() })));
        // Each "process" starts from another table, so parents and children are declared in
        // every interleaving.
        await Promise.all(sets.map((t, i) => [t.Sample, t.Trial, t.Session][i % 3]!.declare()));

        const fresh = declareTables(dj.schema(database, { connection: connect() }));
        const sample = await fresh.Sample.heading();
        expect(Object.fromEntries(sample.primaryKey.map((k) => [k, sample.attributes[k]!.lineage]))).toEqual({
          subject_id: `${database}.subject.subject_id`,
          session: `${database}.session.session`,
          trial: `${database}.trial.trial`,
          sample: `${database}.sample.sample`,
        });
        expect((await fresh.Session.heading()).attributes.task!.lineage).toBe(`${database}.#task.task`);
        expect((await fresh.Task.toDicts()).map((r) => r.task).sort()).toEqual(['go', 'rest', 'stop']);
        await fresh.Subject.insert1({ subject_id: 1 });
        await fresh.Session.insert1({ subject_id: 1, session: 1, task: 'go' });
        // The semantic check of a join passes only with matching lineage on both sides.
        expect(await fresh.Subject.join(fresh.Session).count()).toBe(1);
      }
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});

describe('lineage written with the table', () => {
  it('a CREATE TABLE the server refuses leaves no lineage entries behind', async () => {
    const schema = dj.schema(database, { connection: connect() });
    await schema.drop({ prompt: false });
    class Fine extends dj.Manual {
      static definition = 'fine_id : int32';
    }
    class Refused extends dj.Manual {
      static definition = 'refused_id : int32\n---\nx = "abc" : int32'; // the server refuses the default
    }
    schema.add(Fine);
    schema.add(Refused);
    await Fine.declare();
    await expect(Refused.declare()).rejects.toThrow(dj.DataJointError);
    const conn = schema.connection;
    const rows = await conn.query(`SELECT table_name AS t FROM ${conn.dialect.fullName(database, '~lineage')}`);
    expect(rows.map((r) => r.t)).toEqual(['fine']);
  });

  it("a parent without lineage entries gives its child the lineage of the parent's definition, without a warning", async () => {
    const conn = connect();
    const schema = dj.schema(database, { connection: conn });
    const first = declareTables(schema);
    await schema.drop({ prompt: false });
    await first.Session.declare();
    // As if Session had been declared by a program that writes no lineage.
    await conn.execute(`DELETE FROM ${conn.dialect.fullName(database, '~lineage')} WHERE table_name = 'session'`);
    const warnings: string[] = [];
    const onWarning = (w: Error) => void (w.name === 'DataJointWarning' && warnings.push(w.message));
    process.on('warning', onWarning);
    try {
      const later = declareTables(dj.schema(database, { connection: connect() }));
      await later.Trial.declare();
      const trial = await later.Trial.heading();
      expect(trial.attributes.subject_id!.lineage).toBe(`${database}.subject.subject_id`);
      expect(trial.attributes.session!.lineage).toBe(`${database}.session.session`);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
