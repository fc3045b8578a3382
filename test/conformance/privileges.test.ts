/**
 * Issue 10 §5: limited privileges, as in DataJoint Python's test_privileges.py: a user with
 * only SELECT reads a schema (through virtualSchema, and through the pipeline's own classes);
 * a user with SELECT/INSERT/UPDATE/DELETE enters data into existing tables. Nothing issues
 * DDL (CREATE, ALTER, DROP; also not `~lineage`) unless it is declaring. The statements the
 * limited connections send are recorded and checked, besides the server refusing DDL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from '../helpers.js';
import { createUser, dropUser, grant } from '../support/users.js';

const READER = `dj_ro_${process.pid}`;
const WRITER = `dj_rw_${process.pid}`;
let schema: dj.SchemaDecorator;

/** Table classes of one pipeline, made per connection (a class belongs to one schema). */
function pipeline() {
  class Subject extends dj.Manual {
    static definition = `
    subject_id : int32
    ---
    species = 'mouse' : varchar(16)
    `;
  }
  class Method extends dj.Lookup {
    static definition = `
    method : varchar(8)
    `;
    static contents = [['a'], ['b']];
  }
  class Session extends dj.Manual {
    static definition = `
    -> Subject
    session : int32
    ---
    -> Method
    `;
    static Trial = class extends dj.Part {
      static definition = `
      -> master
      trial : int32
      `;
    };
  }
  return { Subject, Method, Session };
}

/** Record every statement a connection sends through execute() and query(). */
function recorded(conn: dj.Connection): string[] {
  const seen: string[] = [];
  const execute = conn.execute.bind(conn);
  const query = conn.query.bind(conn);
  conn.execute = (sql, params) => (seen.push(sql), execute(sql, params));
  conn.query = (sql, params) => (seen.push(sql), query(sql, params));
  return seen;
}

const DDL = /^\s*(CREATE|ALTER|DROP|GRANT|COMMENT|DO\b)/i;
const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)/i;

let reader: dj.Connection;
let writer: dj.Connection;

beforeAll(async () => {
  schema = await freshSchema('privileges');
  const { Subject, Method, Session } = pipeline();
  for (const c of [Subject, Method, Session]) schema.add(c);
  await schema.declare();
  await Subject.insert1({ subject_id: 1 });
  await Session.insert1({ subject_id: 1, session: 1, method: 'a' });
  await Session.Trial.insert1({ subject_id: 1, session: 1, trial: 1 });
  const admin = dj.conn();
  for (const u of [READER, WRITER]) {
    await dropUser(admin, u).catch(() => {});
    await createUser(admin, u, 'pw');
  }
  await grant(admin, READER, schema.database, 'select');
  await grant(admin, WRITER, schema.database, 'write');
  reader = new dj.Connection({ user: READER, password: 'pw' });
  writer = new dj.Connection({ user: WRITER, password: 'pw' });
});

afterAll(async () => {
  await reader?.close();
  await writer?.close();
  const admin = dj.conn();
  for (const u of [READER, WRITER]) await dropUser(admin, u).catch(() => {});
  await cleanup(schema);
});

describe('a user with only SELECT', () => {
  it('reads a schema through virtualSchema: rows, parts, headings with lineage, joins, describe', async () => {
    const seen = recorded(reader);
    const lab = await dj.virtualSchema(schema.database, { connection: reader });
    expect(await lab.Subject!.toDicts()).toEqual([{ subject_id: 1, species: 'mouse' }]);
    const Session = lab.Session!;
    const Trial = (Session as unknown as { Trial: dj.TableClass }).Trial;
    expect(await Trial.count()).toBe(1);
    expect((await Session.heading()).attributes.subject_id!.lineage).toBe(`${schema.database}.subject.subject_id`);
    expect(await Session.join(lab.Subject!).join(Trial).count()).toBe(1);
    expect(await Session.describe()).toMatch(/-> Subject/);
    expect(await Session.parents()).toHaveLength(2);
    await expect(lab.Subject!.insert1({ subject_id: 2 })).rejects.toThrow(dj.AccessError);
    expect(seen.filter((s) => DDL.test(s))).toEqual([]);
    expect(seen.filter((s) => WRITE.test(s))).toEqual([expect.stringMatching(/^INSERT/)]);
  });

  it('reads through the pipeline’s own classes without declaring or inserting Lookup contents', async () => {
    const seen = recorded(reader);
    const s = dj.schema(schema.database, { connection: reader });
    const { Subject, Method, Session } = pipeline();
    for (const c of [Subject, Method, Session]) s.add(c);
    expect(await Method.count()).toBe(2);
    expect(await Session.Trial.fetch1('trial')).toBe(1);
    expect(await Session.join(Subject).fetch1('species')).toBe('mouse');
    expect(seen.filter((x) => DDL.test(x) || WRITE.test(x))).toEqual([]);
  });
});

describe('a user with SELECT, INSERT, UPDATE and DELETE', () => {
  it('enters, changes and deletes data in existing tables, with no DDL', async () => {
    const seen = recorded(writer);
    const s = dj.schema(schema.database, { connection: writer });
    const { Subject, Method, Session } = pipeline();
    for (const c of [Subject, Method, Session]) s.add(c);
    await Subject.insert([{ subject_id: 2 }, { subject_id: 3, species: 'rat' }]);
    await Subject.insert1({ subject_id: 2 }, { skipDuplicates: true });
    await writer.transaction(async () => {
      await Session.insert1({ subject_id: 2, session: 1, method: 'b' });
      await Session.Trial.insert([
        { subject_id: 2, session: 1, trial: 1 },
        { subject_id: 2, session: 1, trial: 2 },
      ]);
    });
    await Subject.update1({ subject_id: 3, species: 'fly' });
    expect(await Subject.restrict({ subject_id: 3 }).fetch1('species')).toBe('fly');
    expect(await Subject.restrict({ subject_id: 2 }).delete({ prompt: false })).toBe(1);
    expect(await Session.Trial.count()).toBe(1);
    expect(seen.filter((x) => DDL.test(x))).toEqual([]);
    // Declaring a new table is refused by the server as an AccessError (and is the only DDL).
    class Extra extends dj.Manual {
      static definition = `extra_id : int32`;
    }
    s.add(Extra);
    await expect(Extra.count()).rejects.toThrow(dj.AccessError);
  });
});
