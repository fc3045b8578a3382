/** JSON path parsing (DataJoint Python's JSON_PATTERN) and each dialect's SQL for it. */
import { describe, expect, it } from 'vitest';
import { parseJsonPath } from '../../src/expression/json-path.js';
import { mysqlDialect } from '../../src/adapters/mysql/dialect.js';
import { postgresDialect } from '../../src/adapters/postgres/dialect.js';

describe('parseJsonPath', () => {
  it('parses keys, array indexes and a cast type', () => {
    expect(parseJsonPath('car.length')).toEqual({ attr: 'car', path: ['length'], type: null });
    expect(parseJsonPath('car.spec.seats[2]:decimal(5, 2)')).toEqual({ attr: 'car', path: ['spec', 'seats', 2], type: 'decimal(5,2)' });
    expect(parseJsonPath('car.tags[0][1]:FLOAT')).toEqual({ attr: 'car', path: ['tags', 0, 1], type: 'float' });
  });
  it('is null for plain names and SQL expressions', () => {
    for (const s of ['car', 'a + b', 'count(*)', '`car`', 'x.y z']) expect(parseJsonPath(s)).toBeNull();
  });
  it('refuses wildcards and malformed steps', () => {
    expect(() => parseJsonPath('car.tags[*]')).toThrow(/wildcards/);
    expect(() => parseJsonPath('car..x')).toThrow(/malformed/);
  });
});

describe('dialect jsonValue', () => {
  it('MySQL/MariaDB: JSON_VALUE with quoted keys, CAST for a type', () => {
    expect(mysqlDialect.jsonValue('`car`', ['spec', 'seats', 0], null)).toBe(`JSON_VALUE(\`car\`, '$."spec"."seats"[0]')`);
    expect(mysqlDialect.jsonValue('`car`', ['length'], 'float')).toBe(`CAST(JSON_VALUE(\`car\`, '$."length"') AS FLOAT)`);
    expect(mysqlDialect.jsonValue('`car`', ['length'], 'decimal(5,2)')).toBe(`CAST(JSON_VALUE(\`car\`, '$."length"') AS DECIMAL(5,2))`);
    expect(mysqlDialect.jsonValue('`car`', ['n'], 'int32')).toBe(`CAST(JSON_VALUE(\`car\`, '$."n"') AS SIGNED)`);
  });
  it('PostgreSQL: jsonb_extract_path_text with a ::type cast', () => {
    expect(postgresDialect.jsonValue('"car"', ['spec', 'seats', 0], null)).toBe(`jsonb_extract_path_text("car", 'spec', 'seats', '0')`);
    const v = `jsonb_extract_path_text("car", 'length')`;
    // Numeric casts read number text only (and JSON true/false as 1/0): other text is NULL, never an error.
    expect(postgresDialect.jsonValue('"car"', ['length'], 'float64')).toBe(
      `(CASE ${v} WHEN 'true' THEN '1'::double precision WHEN 'false' THEN '0'::double precision ELSE (CASE WHEN ${v} ~ '^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$' THEN (${v})::double precision END) END)`,
    );
    expect(postgresDialect.jsonValue('"car"', ['name'], 'char(3)')).toBe(`(jsonb_extract_path_text("car", 'name'))::char(3)`);
  });
  it('refuses types it cannot cast to', () => {
    expect(() => mysqlDialect.jsonValue('`c`', ['a'], 'blob')).toThrow(/Unsupported type "blob"/);
    expect(() => postgresDialect.jsonValue('"c"', ['a'], 'uuid')).toThrow(/Unsupported type "uuid"/);
  });
});

describe('a server without JSON_VALUE', () => {
  it('MySQL before 8.0.21: a clear QuerySyntaxError naming what is needed', async () => {
    const { mysqlErrors } = await import('../../src/adapters/mysql/errors.js');
    const { QuerySyntaxError } = await import('../../src/errors.js');
    const err = mysqlErrors({ host: 'h', port: 3306 }).translateError({ errno: 1305, code: 'ER_SP_DOES_NOT_EXIST', sqlMessage: 'FUNCTION db.JSON_VALUE does not exist' }, 'SELECT 1');
    expect(err).toBeInstanceOf(QuerySyntaxError);
    expect(err.message).toMatch(/JSON paths \(attr\.key\) need JSON_VALUE, which this server lacks/);
  });
});
