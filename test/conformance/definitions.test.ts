/**
 * Issue 10 §8 (and the definition error of §9): definition details as DataJoint Python writes
 * them. On MySQL, SHOW CREATE TABLE of our tables is compared with that of tables created
 * from the DDL DataJoint Python's declare.py generates for the same definitions (written out
 * here by hand from its sources: compile_attribute, compile_foreign_key with the parent's
 * `:type:` comment, the job metadata columns, lineage.ensure_lineage_table); on PostgreSQL the
 * catalog reads are compared. No Python runtime with DataJoint is available here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup } from '../helpers.js';

let schema: dj.SchemaDecorator;
const PY = `djtest_pyddl_${process.pid}`;

class Subject extends dj.Manual {
  static definition = `
  # subjects
  subject_id : int32  # subject number
  ---
  sex : enum('F', 'M')  # sex
  nickname = 'it''s' : varchar(16)  # a doubled quote
  motto = "say \\"hi\\"" : varchar(32)
  `;
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : int16
  ---
  outcome = 'hit' : enum('hit', 'miss')  # trial outcome
  `;
}
class Analysis extends dj.Computed {
  static definition = `
  -> Session
  ---
  score : float64
  `;
  async make(): Promise<void> {}
}

/** The DDL DataJoint Python generates for the classes above (MySQL), schema name `db`. */
const PYTHON_DDL = (db: string) => [
  `CREATE TABLE \`${db}\`.\`subject\` (
\`subject_id\` int NOT NULL COMMENT ":int32:subject number",
\`sex\` enum('F', 'M') NOT NULL COMMENT ":enum('F', 'M'):sex",
\`nickname\` varchar(16) NOT NULL DEFAULT 'it''s' COMMENT ":varchar(16):a doubled quote",
\`motto\` varchar(32) NOT NULL DEFAULT "say \\"hi\\"" COMMENT ":varchar(32):",
PRIMARY KEY (\`subject_id\`)
) ENGINE=InnoDB, COMMENT "subjects"`,
  `CREATE TABLE \`${db}\`.\`session\` (
\`subject_id\` int NOT NULL COMMENT ":int32:subject number",
\`session_idx\` smallint NOT NULL COMMENT ":int16:",
\`outcome\` enum('hit', 'miss') NOT NULL DEFAULT 'hit' COMMENT ":enum('hit', 'miss'):trial outcome",
PRIMARY KEY (\`subject_id\`,\`session_idx\`),
FOREIGN KEY (\`subject_id\`) REFERENCES \`${db}\`.\`subject\` (\`subject_id\`) ON UPDATE CASCADE ON DELETE RESTRICT
) ENGINE=InnoDB, COMMENT ""`,
  `CREATE TABLE \`${db}\`.\`__analysis\` (
\`subject_id\` int NOT NULL COMMENT ":int32:subject number",
\`session_idx\` smallint NOT NULL COMMENT ":int16:",
\`score\` double NOT NULL COMMENT ":float64:",
\`_job_start_time\` datetime(3) DEFAULT NULL,
\`_job_duration\` float DEFAULT NULL,
\`_job_version\` varchar(64) DEFAULT '',
PRIMARY KEY (\`subject_id\`,\`session_idx\`),
FOREIGN KEY (\`subject_id\`,\`session_idx\`) REFERENCES \`${db}\`.\`session\` (\`subject_id\`,\`session_idx\`) ON UPDATE CASCADE ON DELETE RESTRICT
) ENGINE=InnoDB, COMMENT ""`,
  `CREATE TABLE IF NOT EXISTS \`${db}\`.\`~lineage\` (
table_name VARCHAR(64) NOT NULL,
attribute_name VARCHAR(64) NOT NULL,
lineage VARCHAR(255) NOT NULL,
PRIMARY KEY (table_name, attribute_name)
) ENGINE=InnoDB`,
];

beforeAll(async () => {
  schema = await freshSchema('pyddl');
  for (const c of [Subject, Session, Analysis]) schema.add(c);
  await dj.config.override({ 'jobs.add_job_metadata': true }, () => schema.declare());
});
afterAll(async () => {
  if (BACKEND === 'mysql') await dj.conn().execute(`DROP DATABASE IF EXISTS \`${PY}\``);
  await cleanup(schema);
});

describe('defaults written as SQL literals', () => {
  it("'it''s' stores it's, and describe() gives the definition back", async () => {
    await Subject.insert1({ subject_id: 1, sex: 'F' });
    expect(await Subject.fetch1('nickname', 'motto')).toEqual(["it's", 'say "hi"']);
    const text = await Subject.describe();
    expect(text).toMatch(/^nickname = 'it''s' : varchar\(16\)  # a doubled quote$/m);
    expect(text).toMatch(/^motto = 'say "hi"' : varchar\(32\)$/m);
    expect(text).toMatch(/^sex : enum\('F','M'\)  # sex$/m);
    // The described definition declares the same table again.
    class Again extends dj.Manual {
      static definition = text;
    }
    const s2 = await freshSchema('pyddl_again');
    try {
      s2.add(Again);
      await Again.insert1({ subject_id: 1, sex: 'M' });
      expect(await Again.fetch1('nickname')).toBe("it's");
      expect((await Again.heading()).attributes.nickname!.default).toBe((await Subject.heading()).attributes.nickname!.default);
    } finally {
      await s2.drop({ prompt: false });
    }
  });

  it('an unquoted default is a definition error quoting the line', async () => {
    class Bad extends dj.Manual {
      static definition = `
      bad_id : int32
      ---
      name = unquoted text : varchar(16)
      `;
    }
    schema.add(Bad);
    const err = await Bad.declare().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.DeclarationError);
    expect((err as Error).message).toMatch(/default value unquoted text must be quoted/);
    expect((err as Error).message).toMatch(/in line: "name = unquoted text : varchar\(16\)"/);
  });
});

describe.runIf(BACKEND === 'mysql')('SHOW CREATE TABLE as DataJoint Python declares (MySQL)', () => {
  it('user tables, foreign-key columns, enum comments, job metadata and ~lineage are the same', async () => {
    const conn = dj.conn();
    await conn.execute(`DROP DATABASE IF EXISTS \`${PY}\``);
    await conn.execute(`CREATE DATABASE \`${PY}\``);
    for (const ddl of PYTHON_DDL(PY)) await conn.execute(ddl);
    const show = async (db: string, table: string) =>
      String((await conn.query(`SHOW CREATE TABLE \`${db}\`.\`${table}\``))[0]!['Create Table']).split(db).join('DB');
    for (const table of ['subject', 'session', '__analysis', '~lineage']) expect(await show(schema.database, table)).toBe(await show(PY, table));
  });
});

describe('catalog reads of the same columns (every backend)', () => {
  it('foreign-key columns carry the parent comment and core type; job metadata is nullable, uncommented', async () => {
    const conn = dj.conn();
    const cols = new Map((await conn.catalog.columns(schema.database, '__analysis')).map((c) => [c.name, c]));
    expect(cols.get('subject_id')!.comment).toBe(':int32:subject number');
    expect(cols.get('session_idx')!.comment).toBe(':int16:');
    expect(cols.get('_job_start_time')).toMatchObject({ nullable: true, default: null, comment: '' });
    expect(cols.get('_job_duration')).toMatchObject({ nullable: true, default: null, comment: '' });
    expect(cols.get('_job_version')).toMatchObject({ nullable: true, default: "''", comment: '' });
    const h = await new Analysis().tableHeading();
    expect(h.get('_job_duration')!.type).toBe('float32');
    expect(h.get('_job_start_time')!.type).toBe('datetime(3)');
    expect(h.get('_job_version')!.type).toBe('varchar(64)');
    const lineage = await conn.catalog.columns(schema.database, '~lineage');
    expect(lineage.map((c) => [c.name, c.nullable, c.comment])).toEqual([
      ['table_name', false, ''],
      ['attribute_name', false, ''],
      ['lineage', false, ''],
    ]);
    const enumCol = (await conn.catalog.columns(schema.database, 'session')).find((c) => c.name === 'outcome')!;
    expect(enumCol.comment).toBe(":enum('hit', 'miss'):trial outcome");
    expect((await Session.heading()).attributes.outcome!.type).toBe("enum('hit','miss')");
  });
});
