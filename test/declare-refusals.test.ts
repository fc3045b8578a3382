/**
 * Attribute types refused at declaration with a DeclarationError on every backend, as
 * DataJoint Python refuses them: blob and json attributes in the primary key, char and
 * varchar without a length.
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
