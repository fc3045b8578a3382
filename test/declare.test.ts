import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup } from './helpers.js';
import { parseDefinition } from '../src/declare/parse.js';
import { resolveType } from '../src/heading/types.js';
import { toSnakeCase } from '../src/table/names.js';
import { mysqlDialect } from '../src/adapters/mysql/dialect.js';

describe('definition parser', () => {
  it('parses comment, key, secondary, defaults and comments', () => {
    const p = parseDefinition(`
      # a table
      id : int32  # the id
      ---
      name = 'a: b # c' : varchar(32)  # with colon and hash in the default
      score = null : float64
      t = CURRENT_TIMESTAMP : datetime(3)
      index(name)
      unique index(score, t)
    `);
    expect(p.comment).toBe('a table');
    expect(p.lines.map((l) => l.kind)).toEqual(['attribute', 'attribute', 'attribute', 'attribute', 'index', 'index']);
    const name = p.lines[1]!;
    expect(name.kind === 'attribute' && name.default).toBe("'a: b # c'");
    expect(name.kind === 'attribute' && name.comment).toBe('with colon and hash in the default');
  });

  it('accepts ___ as separator and foreign key options and projections', () => {
    const p = parseDefinition(`-> Parent\n___\n-> [nullable, unique] Other.proj(other_id='id')`);
    expect(p.lines[0]).toMatchObject({ kind: 'foreignKey', inKey: true, ref: 'Parent' });
    expect(p.lines[1]).toMatchObject({ kind: 'foreignKey', inKey: false, nullable: true, unique: true, ref: 'Other', renames: { other_id: 'id' } });
  });

  it('takes a trailing comment on a foreign key line, as the docs write them', () => {
    const p = parseDefinition(`-> Parent  # who ran it\n---\n-> [nullable] Other   # optional\n-> Third.proj(third_id='id')  # renamed (see #2)`);
    expect(p.lines[0]).toMatchObject({ kind: 'foreignKey', ref: 'Parent', renames: {} });
    expect(p.lines[1]).toMatchObject({ kind: 'foreignKey', nullable: true, ref: 'Other' });
    expect(p.lines[2]).toMatchObject({ kind: 'foreignKey', ref: 'Third', renames: { third_id: 'id' } });
  });

  it('takes a trailing comment on an index line, and JSON paths as index attributes', () => {
    const p = parseDefinition(`id : int32\n---\ncar : json\nunique index(car.length:decimal(4, 1))  # often looked up (see #3)\nindex(id)   # plain`);
    expect(p.lines[2]).toMatchObject({ kind: 'index', unique: true, columns: ['car.length:decimal(4, 1)'] });
    expect(p.lines[3]).toMatchObject({ kind: 'index', unique: false, columns: ['id'] });
  });

  const bad: Array<[string, RegExp]> = [
    ['Id : int32', /invalid attribute name "Id".*line: "Id : int32"/],
    ['id int32', /expected `name/],
    ['id : int32 # :oops', /comment must not start with colon/],
    ['id = : int32', /empty default/],
    ['-> [nullable] Parent', /cannot be nullable/],
    ['-> [weird] Parent', /invalid foreign key option "weird"/],
    ["-> Parent.proj(x=id)", /rename attributes as new='old'/],
    ['id : int32\n---\n---\nx : int32', /more than one primary key separator/],
    ['id : int32\n---\nindex()', /at least one attribute/],
  ];
  for (const [def, re] of bad) {
    it(`rejects: ${def.replace(/\n/g, ' / ')}`, () => {
      expect(() => parseDefinition(def)).toThrow(dj.DeclarationError);
      expect(() => parseDefinition(def)).toThrow(re);
    });
  }
});

describe('type system', () => {
  it('maps every core type to SQL', () => {
    const expected: Record<string, string> = {
      int8: 'tinyint', uint8: 'tinyint unsigned', int16: 'smallint', uint16: 'smallint unsigned', int32: 'int', uint32: 'int unsigned',
      int64: 'bigint', uint64: 'bigint unsigned', float32: 'float', float64: 'double', bool: 'tinyint', uuid: 'binary(16)', json: 'json',
      bytes: 'longblob', date: 'date', datetime: 'datetime', 'datetime(3)': 'datetime(3)', 'char(4)': 'char(4)', 'varchar(255)': 'varchar(255)',
      "enum('a','b')": "enum('a','b')", 'decimal(8,3)': 'decimal(8,3)', '<blob>': 'longblob', '<blob@>': 'json', '<blob@cold>': 'json',
    };
    const sqlOf = (t: string) => {
      const r = resolveType(t);
      return mysqlDialect.sqlType(r.codec ? resolveType(r.dtype!) : r, 'db');
    };
    for (const [t, sql] of Object.entries(expected)) expect(sqlOf(t), t).toBe(sql);
    expect(resolveType('<blob@cold>')).toMatchObject({ codec: 'blob', store: 'cold' });
    expect(resolveType('<blob@>')).toMatchObject({ codec: 'blob', store: '' });
  });
  it('accepts native types as non-core and rejects unknown ones', () => {
    expect(resolveType('int unsigned', undefined, mysqlDialect).core).toBe(false);
    expect(resolveType('year', undefined, mysqlDialect).core).toBe(false);
    expect(resolveType('mediumtext', undefined, mysqlDialect).kind).toBe('string');
    expect(() => resolveType('int33')).toThrow(/Unsupported attribute type int33/);
    expect(() => resolveType('<nosuchcodec>')).toThrow(/unknown codec/);
    expect(() => resolveType('<object>')).toThrow(/requires a store/);
    expect(() => resolveType('datetime(7)')).toThrow(/precision/);
    // The type-system spec refuses per-column encodings on every backend (MySQL took them as native).
    for (const t of ['varchar(10) CHARACTER SET latin1', 'varchar(10) collate utf8mb4_bin', 'text charset ascii'])
      expect(() => resolveType(t, undefined, mysqlDialect)).toThrow(/CHARACTER SET and COLLATE are not allowed in an attribute type/);
  });
  it('converts CamelCase class names', () => {
    expect(toSnakeCase('SessionTrial')).toBe('session_trial');
    expect(toSnakeCase('ProcessedEMG')).toBe('processed_e_m_g');
    expect(() => toSnakeCase('bad_name')).toThrow(/CamelCase/);
  });
});

describe('declaration on the server', () => {
  let schema: dj.SchemaDecorator;
  let py: dj.SchemaDecorator;
  beforeAll(async () => {
    schema = await freshSchema('declare');
    py = await freshSchema('declare_py');
  });
  afterAll(() => cleanup(schema, py));

  it('produces the same columns, keys and comments as DataJoint Python', async () => {
    // DataJoint Python 2.3 has no unsigned types on PostgreSQL: there the test uses int16.
    const idx = BACKEND === 'mysql' ? 'uint16' : 'int16';
    class Subject extends dj.Manual {
      static definition = `
      # experimental subject
      subject_id : int32   # unique id
      ---
      species = 'mouse' : varchar(32)
      dob = null : date
      weight : float32
      `;
    }
    class Session extends dj.Manual {
      static definition = `
      -> Subject
      session_idx : ${idx}
      ---
      session_date : date
      data = null : <blob>
      `;
    }
    schema.add(Subject);
    schema.add(Session);
    await schema.declare();
    // The SQL DataJoint Python 2.x generates for the same definitions (spec §11; for
    // PostgreSQL, its PostgreSQL adapter declares them).
    const conn = dj.conn();
    const db = py.database;
    if (BACKEND === 'mysql') {
      await conn.execute(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
      await conn.execute(`CREATE TABLE \`${db}\`.\`subject\` (
        \`subject_id\` int NOT NULL COMMENT ":int32:unique id",
        \`species\` varchar(32) NOT NULL DEFAULT "mouse" COMMENT ":varchar(32):",
        \`dob\` date DEFAULT NULL COMMENT ":date:",
        \`weight\` float NOT NULL COMMENT ":float32:",
        PRIMARY KEY (\`subject_id\`)) ENGINE=InnoDB COMMENT="experimental subject"`);
      await conn.execute(`CREATE TABLE \`${db}\`.\`session\` (
        \`subject_id\` int NOT NULL COMMENT ":int32:unique id",
        \`session_idx\` smallint unsigned NOT NULL COMMENT ":uint16:",
        \`session_date\` date NOT NULL COMMENT ":date:",
        \`data\` longblob DEFAULT NULL COMMENT ":<blob>:",
        PRIMARY KEY (\`subject_id\`,\`session_idx\`),
        FOREIGN KEY (\`subject_id\`) REFERENCES \`${db}\`.\`subject\` (\`subject_id\`) ON UPDATE CASCADE ON DELETE RESTRICT
        ) ENGINE=InnoDB COMMENT=""`);
    } else {
      const q = (t: string) => `"${db}"."${t}"`;
      for (const sql of [
        `CREATE SCHEMA IF NOT EXISTS "${db}"`,
        `CREATE TABLE IF NOT EXISTS ${q('subject')} ("subject_id" integer NOT NULL, "species" varchar(32) NOT NULL DEFAULT 'mouse',
           "dob" date DEFAULT NULL, "weight" real NOT NULL, PRIMARY KEY ("subject_id"))`,
        `COMMENT ON TABLE ${q('subject')} IS 'experimental subject'`,
        `COMMENT ON COLUMN ${q('subject')}."subject_id" IS ':int32:unique id'`,
        `COMMENT ON COLUMN ${q('subject')}."species" IS ':varchar(32):'`,
        `COMMENT ON COLUMN ${q('subject')}."dob" IS ':date:'`,
        `COMMENT ON COLUMN ${q('subject')}."weight" IS ':float32:'`,
        `CREATE TABLE IF NOT EXISTS ${q('session')} ("subject_id" integer NOT NULL, "session_idx" smallint NOT NULL,
           "session_date" date NOT NULL, "data" bytea DEFAULT NULL, PRIMARY KEY ("subject_id", "session_idx"),
           FOREIGN KEY ("subject_id") REFERENCES ${q('subject')} ("subject_id") ON UPDATE CASCADE ON DELETE RESTRICT)`,
        // Python leaves the column inherited through the foreign key without a comment.
        `COMMENT ON COLUMN ${q('session')}."session_idx" IS ':int16:'`,
        `COMMENT ON COLUMN ${q('session')}."session_date" IS ':date:'`,
        `COMMENT ON COLUMN ${q('session')}."data" IS ':<blob>:'`,
      ])
        await conn.execute(sql);
    }
    const cols = async (d: string, t: string) => {
      const all = await conn.catalog.columns(d, t);
      // PostgreSQL: we also comment inherited columns (Python does not); the type reads back the same.
      return all.map((c) => (BACKEND !== 'mysql' && t === 'session' && c.name === 'subject_id' ? { ...c, comment: '' } : c));
    };
    for (const t of ['subject', 'session']) {
      expect(await cols(schema.database, t)).toEqual(await cols(db, t));
      const tc = async (d: string) => (await conn.catalog.listTables(d)).find((x) => x.name === t)?.comment;
      expect(await tc(schema.database)).toEqual(await tc(db));
    }
    const fk = async (d: string) =>
      (await conn.catalog.foreignKeys(d, 'session')).map((f) => ({ parent: f.parentTable, map: f.attrMap }));
    expect(await fk(schema.database)).toEqual(await fk(db));
    // A Python-declared table reads back with the same core types.
    const vs = await dj.virtualSchema(db);
    const h = await vs.Session!.heading();
    expect(h.primaryKey).toEqual(['subject_id', 'session_idx']);
    expect(Object.values(h.attributes).map((a) => a.type)).toEqual(['int32', idx, 'date', '<blob>']);
    expect(h.attributes.data!.codec).toBe('blob');
  });

  it('records lineage for keys and foreign keys, and describe() reproduces the definition', async () => {
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
      -> [nullable] Person.proj(witness='person_id')
      note = '' : varchar(200)  # free text
      index(marriage_date)
      `;
    }
    schema.add(Person);
    schema.add(Marriage);
    const h = await Marriage.heading();
    const origin = `${schema.database}.person.person_id`;
    expect(h.attributes.husband!.lineage).toBe(origin);
    expect(h.attributes.wife!.lineage).toBe(origin);
    expect(h.attributes.witness!.lineage).toBe(origin);
    expect(h.attributes.witness!.nullable).toBe(true);
    expect(h.attributes.marriage_date!.lineage).toBeNull();
    const lineage = await schema.lineage();
    expect(lineage[`${schema.database}.person.person_id`]).toBe(origin);
    const text = await Marriage.describe();
    expect(text).toContain("-> Person.proj(husband='person_id')");
    expect(text).toContain("-> [nullable] Person.proj(witness='person_id')");
    expect(text).toContain("note = '' : varchar(200)  # free text");
    expect(text).toContain('index(marriage_date)');
    // Re-declaring the described text elsewhere yields the same heading.
    class Marriage2 extends dj.Manual {
      static definition = text;
    }
    schema.add(Marriage2);
    const h2 = await Marriage2.heading();
    expect(h2.all.map((a) => [a.name, a.type, a.inKey, a.nullable, a.default, a.lineage])).toEqual(
      h.all.map((a) => [a.name, a.type, a.inKey, a.nullable, a.default, a.lineage]),
    );
  });

  it('describe() spells a backslash in a text default so that its output declares the same default', async () => {
    class Paths extends dj.Manual {
      static definition = 'path_id : int32\n---\nroot = "C:\\\\data\\\\raw" : varchar(40)';
    }
    schema.add(Paths);
    const text = await Paths.describe();
    expect(text).toContain("root = 'C:\\\\data\\\\raw' : varchar(40)");
    class Paths2 extends dj.Manual {
      static definition = text;
    }
    schema.add(Paths2);
    await Paths.insert1({ path_id: 1 });
    await Paths2.insert1({ path_id: 1 });
    expect(await Paths.fetch1('root')).toBe('C:\\data\\raw');
    expect(await Paths2.fetch1('root')).toBe('C:\\data\\raw');
  });

  it('names tables by tier and part', async () => {
    class Stim extends dj.Lookup {
      static definition = `stim_id : uint8\n---\nlabel : varchar(8)`;
      static contents = [[1, 'a'], { stim_id: 2, label: 'b' }];
    }
    class RawData extends dj.Imported {
      static definition = `-> Stim\n---\nx : float64`;
    }
    class Analysis extends dj.Computed {
      static definition = `-> RawData\n---\ny : float64`;
      static Unit = class extends dj.Part {
        static definition = `-> master\nunit : uint16\n---\nz : float64`;
      };
    }
    schema.add(Stim);
    schema.add(RawData);
    schema.add(Analysis);
    await schema.declare();
    expect(Stim.tableName).toBe('#stim');
    expect(RawData.tableName).toBe('_raw_data');
    expect(Analysis.tableName).toBe('__analysis');
    expect(Analysis.Unit.tableName).toBe('__analysis__unit');
    const tables = await schema.listTables();
    expect(tables).toEqual(expect.arrayContaining(['#stim', '_raw_data', '__analysis', '__analysis__unit']));
    expect(await Stim.count()).toBe(2);
    // Contents are inserted with duplicates skipped: declaring again is harmless.
    expect(await Stim.toDicts({ orderBy: 'stim_id' })).toEqual([{ stim_id: 1, label: 'a' }, { stim_id: 2, label: 'b' }]);
    expect(Stim.fullTableName).toBe(dj.conn().dialect.fullName(schema.database, "#stim"));
  });

  it('rejects bad declarations with clear errors and creates nothing', async () => {
    const cases: Array<[string, string, typeof dj.Manual, RegExp]> = [
      ['NoKey', '---\nx : int32', dj.Manual, /must have a primary key/],
      ['NullKey', 'id = null : int32', dj.Manual, /cannot be nullable/],
      ['BadType', 'id : int33', dj.Manual, /Unsupported attribute type int33 in line: "id : int33"/],
      ['BlobDefault', "id : int32\n---\nb = '' : <blob>", dj.Manual, /default value for <blob> can only be NULL/],
      ['JsonDefault', "id : int32\n---\nb = '{}' : json", dj.Manual, /default value for json can only be NULL/],
      ['Missing', '-> NoSuchTable\nx : int32', dj.Manual, /could not be resolved: "NoSuchTable"/],
      ['Dup', 'id : int32\n---\nid : int32', dj.Manual, /declared more than once/],
      ['BadIdx', 'id : int32\n---\nx : int32\nindex(y)', dj.Manual, /index attribute `y` is not in the table/],
      ['BadJsonIdx', 'id : int32\n---\nx : int32\nindex(x.a:decimal(4,1))', dj.Manual, /index on JSON path "x.a:decimal\(4,1\)": `x` is int32, not json/],
      ['NoJsonIdx', 'id : int32\n---\nindex(car.a)', dj.Manual, /index attribute `car` is not in the table/],
      ['OwnKey', 'id : int32\n---\nx : int32', dj.Computed, /not inherited from a foreign key/],
    ];
    for (const [name, def, Base, re] of cases) {
      const cls = { [name]: class extends Base {} }[name]!;
      (cls as { definition?: string }).definition = def;
      schema.add(cls);
      await expect(cls.declare(), name).rejects.toThrow(re);
      await expect(cls.declare(), name).rejects.toBeInstanceOf(dj.DataJointError);
    }
    const tables = await schema.listTables();
    for (const n of ['no_key', 'null_key', 'bad_type', 'missing', 'dup', 'bad_idx', 'bad_json_idx', 'no_json_idx', '__own_key']) expect(tables).not.toContain(n);
    class Bad_Name extends dj.Manual {
      static definition = 'id : int32';
    }
    expect(() => schema.add(Bad_Name) && Bad_Name.tableName).toThrow(/CamelCase/);
  });

  it('warns for native types and supports cross-schema references through context', async () => {
    const warnings: string[] = [];
    const onWarn = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarn);
    // Native types are the dialect's own.
    const [idType, yType] = BACKEND === 'mysql' ? ['int unsigned', 'year'] : ['integer', 'text'];
    class Native extends dj.Manual {
      static definition = `id : ${idType}\n---\ny : ${yType}`;
    }
    schema.add(Native);
    await Native.declare();
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarn);
    expect(warnings.some((w) => w.includes(`Native type "${idType}"`))).toBe(true);
    const other = await freshSchema('declare_ctx', { context: { lab: { Native } } });
    class Ref extends dj.Manual {
      static definition = `-> lab.Native\nk : int32`;
    }
    other.add(Ref);
    const h = await Ref.heading();
    expect(h.attributes.id!.lineage).toBe(`${schema.database}.native.id`);
    await other.drop({ prompt: false });
  });

  it('indexes a JSON path as DataJoint Python does (an expression index; MariaDB has none and says so)', async () => {
    class Car extends dj.Manual {
      static definition = `
      name : varchar(40)
      ---
      car = null : json
      unique index(car.length:decimal(4, 1))  # Add an index if this key is frequently accessed
      `;
    }
    schema.add(Car);
    if (BACKEND === 'mysql') {
      // MariaDB (what the tests run on) has no functional indexes; MySQL 8.0.13+ has.
      await expect(Car.declare()).rejects.toThrow(/an index on an expression or a JSON path needs functional indexes: MySQL 8.0.13\+ and PostgreSQL have them, MariaDB does not/);
      return;
    }
    await Car.insert([
      { name: 'a', car: { length: 12.5 } },
      { name: 'b', car: { length: 10 } },
      { name: 'c', car: null },
    ]);
    expect(await Car.restrict({ 'car.length:decimal(4,1)': 12.5 }).fetch1('name')).toBe('a');
    await expect(Car.insert1({ name: 'd', car: { length: 12.5 } })).rejects.toBeInstanceOf(dj.errors.DuplicateError);
    expect(await Car.alter()).toEqual([]); // the index as the server spells it is the same index
    // describe() gives the index on one line, a definition that declares the same table.
    const text = await Car.describe();
    const line = text.split('\n').find((l) => l.startsWith('unique index('))!;
    expect(line).toMatch(/^unique index\(\(.*jsonb_extract_path_text.*\)\)$/);
    const Copy = { CarCopy: class extends dj.Manual {} }.CarCopy;
    (Copy as { definition?: string }).definition = text;
    schema.add(Copy);
    await Copy.insert1({ name: 'a', car: { length: 12.5 } });
    await expect(Copy.insert1({ name: 'b', car: { length: 12.5 } })).rejects.toBeInstanceOf(dj.errors.DuplicateError);
  });

  it('indexes an expression as the spec writes it, MySQL functions included (PostgreSQL rewrites them)', async () => {
    class Born extends dj.Manual {
      static definition = `
      person_id : int32
      ---
      last_name : varchar(30)
      birth_date : date
      index(last_name, (YEAR(birth_date)))
      `;
    }
    schema.add(Born);
    if (BACKEND === 'mysql') {
      await expect(Born.declare()).rejects.toThrow(/MariaDB does not/); // MySQL 8.0.13+ declares it
      return;
    }
    await Born.insert1({ person_id: 1, last_name: 'Ada', birth_date: '1990-05-01' });
    expect(await Born.restrict('YEAR(birth_date) = 1990').count()).toBe(1);
  });

  it('declares concurrently without error', async () => {
    class Busy extends dj.Manual {
      static definition = `busy_id : int32`;
    }
    schema.add(Busy);
    await Promise.all([Busy.declare(), Busy.count(), Busy.insert1({ busy_id: 1 }), Busy.heading()]);
    expect(await Busy.count()).toBe(1);
  });
});
