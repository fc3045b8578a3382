/**
 * Attribute types refused at declaration on both dialects, without a server, as DataJoint Python
 * refuses them: blob and json attributes in the primary key, char and varchar without a length.
 */
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/adapters/adapter.js';
import { mysqlDialect } from '../../src/adapters/mysql/dialect.js';
import { postgresDialect } from '../../src/adapters/postgres/dialect.js';
import { compileDefinition } from '../../src/declare/compile.js';
import { DeclarationError } from '../../src/errors.js';

async function compile(definition: string, dialect: Dialect, warnings: string[] = []) {
  const resolve = async () => {
    throw new Error('no foreign keys here');
  };
  return compileDefinition(definition, { database: 'db', tableName: 't', tier: 'manual', dialect, resolve, warn: (w) => warnings.push(w) });
}

describe.each([
  ['mysql', mysqlDialect],
  ['postgresql', postgresDialect],
] as const)('declaration on %s refuses', (name, dialect) => {
  const blob = name === 'mysql' ? 'mediumblob' : 'bytea';
  for (const key of ['j : json', 'b : bytes', `b : ${blob}`, `b : ${name === 'mysql' ? 'longblob' : 'mediumblob'}`])
    it(`${key} in the primary key`, async () => {
      await expect(compile(`${key}\n---\nv : int32`, dialect)).rejects.toThrow(DeclarationError);
      await expect(compile(`${key}\n---\nv : int32`, dialect)).rejects.toThrow(`Blob or JSON attributes are not allowed in the primary key in line: "${key}"`);
    });

  it('json and blobs outside the key, and a fixed-size binary key where the server has one', async () => {
    await expect(compile(`id : int32\n---\nj : json\nb : bytes\nc : ${blob}`, dialect)).resolves.toBeDefined();
    if (name === 'mysql') await expect(compile('b : binary(16)', dialect)).resolves.toBeDefined();
  });

  for (const [type, example] of [['varchar', 'varchar'], ['char', 'char'], ['character varying', 'varchar'], ['character', 'char'], ['VARCHAR', 'varchar']])
    it(`${type} without a length`, async () => {
      await expect(compile(`id : int32\n---\ns : ${type}`, dialect)).rejects.toThrow(DeclarationError);
      await expect(compile(`id : int32\n---\ns : ${type}`, dialect)).rejects.toThrow(`Unsupported attribute type ${type}: give its length, e.g. ${example}(255) in line`);
    });

  for (const [line, error] of [
    ["x = 'abcd' : char(3)", /takes at most 3 characters/],
    ['x = 128 : int8', /expects an integer in \[-128, 127\]/],
    ['x = 18446744073709551616 : uint64', /expects an integer in \[0, 18446744073709551615\]/],
    ['x = 1e10 : int32', /expects an integer in/],
    ["x = '' : float64", /expects a number/],
    ['x = 1.5 : decimal(0,0)', /needs a precision of 1 to 65/],
  ] as const)
    it(`the default or type of ${line}`, async () => {
      await expect(compile(`id : int32\n---\n${line}`, dialect)).rejects.toThrow(DeclarationError);
      await expect(compile(`id : int32\n---\n${line}`, dialect)).rejects.toThrow(error);
    });

  it('no valid default', async () => {
    const lines = ['a = 18446744073709551615 : uint64', 'b = -9223372036854775808 : int64', "c = '-5' : int16", 'd = 1.5 : int32', 'e = +3 : uint8', 'f = 1e2 : uint8', 'g = .5 : decimal(3,2)', 'h = 12 : varchar(2)', 'i = NULL : uint8', 'j = "it\'s" : varchar(4)', 'k = 0 : bool', "l = '2024-01-02' : date"];
    await expect(compile(`id : int32\n---\n${lines.join('\n')}`, dialect)).resolves.toBeDefined();
  });
});
