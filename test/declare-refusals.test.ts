/**
 * Attribute types refused at declaration with a DeclarationError on every backend, as
 * DataJoint Python refuses them: blob and json attributes in the primary key, char and
 * varchar without a length; and, as MySQL refuses them, defaults that break their type and
 * decimals whose scale exceeds their precision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup, manualTable } from './helpers.js';

let schema: dj.SchemaDecorator;

beforeAll(async () => {
  schema = await freshSchema('declare_refusals');
});
afterAll(async () => {
  await cleanup(schema);
});

/** A Manual table class named `name` with `definition`, added to the schema. */
const table = (name: string, definition: string) => manualTable(schema, name, definition);

describe('declaration refuses', () => {
  const blobType = BACKEND === 'mysql' ? 'longblob' : 'bytea';
  const cases: Array<[name: string, definition: string, error: RegExp]> = [
    ['JsonKey', 'j : json\n---\nv = 0 : int32', /Blob or JSON attributes are not allowed in the primary key in line: "j : json"/],
    ['BytesKey', 'b : bytes', /Blob or JSON attributes are not allowed in the primary key in line: "b : bytes"/],
    ['NativeBlobKey', `b : ${blobType}`, /Blob or JSON attributes are not allowed in the primary key/],
    ['VarcharNoLength', 'id : int32\n---\nname : varchar', /Unsupported attribute type varchar: give its length, e\.g\. varchar\(255\) in line: "name : varchar"/],
    ['CharNoLength', 'id : int32\n---\ncode : char', /Unsupported attribute type char: give its length, e\.g\. char\(255\)/],
  ];
  for (const [name, definition, error] of cases)
    it(`${name} with a DeclarationError and creates nothing`, async () => {
      const cls = table(name, definition);
      await expect(cls.declare()).rejects.toBeInstanceOf(dj.DeclarationError);
      await expect(cls.declare()).rejects.toThrow(error);
      expect(await schema.listTables()).not.toContain(cls.tableName);
    });
});

describe('defaults and decimals', () => {
  // PostgreSQL declared these (its checks apply to rows, not defaults) and every insert relying
  // on the default failed; MySQL refused them. Now every backend refuses them before creating anything.
  const refused: Array<[name: string, definition: string, error: RegExp]> = [
    ['TooLongDefault', "id : int32\n---\nx = 'abcdefghijk' : varchar(3)", /invalid default value for attribute `x`.*takes at most 3 characters.* in line: "x = 'abcdefghijk' : varchar\(3\)"/],
    ['OutOfRangeDefault', 'id : int32\n---\nx = 300 : uint8', /invalid default value for attribute `x`.*expects an integer in \[0, 255\].* in line: "x = 300 : uint8"/],
    ['NegativeUnsignedDefault', 'id : int32\n---\nx = -1 : uint16', /expects an integer in \[0, 65535\].* in line: "x = -1 : uint16"/],
    ['NotAnEnumValue', "id : int32\n---\nx = 'c' : enum('a', 'b')", /invalid default value for attribute `x`.* in line/],
    ['NotANumber', "id : int32\n---\nx = 'many' : int32", /invalid default value for attribute `x`.* in line/],
    ['ScaleAbovePrecision', 'id : int32\n---\nx = 0 : decimal(3,5)', /decimal\(3,5\) of attribute `x` needs a precision of 1 to 65 and a scale of 0 to the precision in line: "x = 0 : decimal\(3,5\)"/],
    ['PrecisionTooLarge', 'id : int32\n---\nx : decimal(66,2)', /decimal\(66,2\) of attribute `x` needs a precision of 1 to 65/],
    ['DecimalDefaultTooLarge', 'id : int32\n---\nx = 1000 : decimal(4,2)', /1000 has more integer digits than decimal\(4,2\) holds/],
  ];
  for (const [name, definition, error] of refused)
    it(`refuses ${name} with a DeclarationError quoting the line, and creates nothing`, async () => {
      const cls = table(name, definition);
      await expect(cls.declare()).rejects.toBeInstanceOf(dj.DeclarationError);
      await expect(cls.declare()).rejects.toThrow(error);
      expect(await schema.listTables()).not.toContain(cls.tableName);
    });

  it('declares valid defaults, and an insert relying on them works', async () => {
    const cls = table(
      'ValidDefaults',
      [
        'id : int32',
        '---',
        "q = '7' : uint8",
        'hi = 255 : uint8',
        'neg = -128 : int8',
        'big = 9223372036854775807 : int64',
        'f = 1.5e3 : float64',
        'g = -2.5E-3 : float32',
        'd = -999.99 : decimal(5,2)',
        "e = 'b' : enum('a', 'b')",
        "s = 'abc' : varchar(3)",
        'n = NULL : varchar(3)',
        'flag = TRUE : bool',
        'off = false : bool',
        't = CURRENT_TIMESTAMP : datetime',
      ].join('\n'),
    );
    await cls.declare();
    await cls.insert1({ id: 1 });
    const row = await cls.fetch1();
    expect(row).toMatchObject({ q: 7, hi: 255, neg: -128, f: 1500, e: 'b', s: 'abc', n: null, flag: true, off: false });
    expect(String(row.big)).toBe('9223372036854775807');
    expect(Number(row.d)).toBe(-999.99);
    expect(row.t).toBeInstanceOf(Date);
  });

  it('alter() refuses a default or decimal that breaks its type, and changes nothing', async () => {
    const cls = table('AlterDefaults', 'id : int32\n---\nx = 3 : uint8\ny = 0 : decimal(5,2)');
    await cls.declare();
    for (const bad of ['id : int32\n---\nx = 256 : uint8\ny = 0 : decimal(5,2)', 'id : int32\n---\nx = 3 : uint8\ny = 0 : decimal(2,3)']) {
      (cls as { definition?: string }).definition = bad;
      await expect(cls.alter({ prompt: false })).rejects.toBeInstanceOf(dj.DeclarationError);
    }
    const h = await schema.getTable(cls.tableName).then((t) => t.heading());
    expect([h.attributes.x!.default, h.attributes.y!.type]).toEqual(['3', 'decimal(5,2)']);
  });
});

describe('a master whose part cannot be declared', () => {
  it('is not created either: a part definition that cannot be read is refused before anything is', async () => {
    class Session extends dj.Manual {
      static definition = 'session_id : int32';
      static Trial = class extends dj.Part {
        static definition = '-> master\ntrial : int32\n---\nscore : nosuchtype';
      };
    }
    schema.add(Session);
    await expect(Session.declare()).rejects.toThrow(/Unsupported attribute type nosuchtype.*line: "score : nosuchtype"/);
    expect(await schema.listTables()).not.toContain('session');
  });
});

describe('a definition only the server can refuse', () => {
  it('is a DeclarationError naming the table, with the server’s reason, and creates nothing', async () => {
    const cls = table('BadDateDefault', "id : int32\n---\nday = '2024-13-45' : date");
    const err = await cls.declare().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.DeclarationError);
    expect(String(err)).toMatch(/the server refused the definition of BadDateDefault/);
    expect((err as Error).cause).toBeInstanceOf(dj.DataJointError);
    expect(await schema.listTables()).not.toContain(cls.tableName);
  });
});
