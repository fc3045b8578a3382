/**
 * MySQL value literals and the inlining of bound parameters read the same with and without
 * NO_BACKSLASH_ESCAPES: no literal holds a backslash, and `?` inside strings, quoted names and
 * comments is never taken for a placeholder.
 */
import { describe, expect, it } from 'vitest';
import { mysqlDialect as d } from '../../src/adapters/mysql/dialect.js';
import { formatQuery } from '../../src/adapters/mysql/format.js';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describe('MySQL literals', () => {
  it('double quotes and never write a backslash (hex with an introducer instead)', () => {
    expect(d.literal("it's")).toBe("'it''s'");
    expect(d.literal("\\' OR 1=1 -- ")).toBe(`_utf8mb4 X'${hex("\\' OR 1=1 -- ")}'`);
    expect(d.literal('nul\0byte')).toBe(`_utf8mb4 X'${hex('nul\0byte')}'`);
    expect(d.literal('line\nbreak\ttab "dq"')).toBe("'line\nbreak\ttab \"dq\"'");
    expect(d.literal('é?')).toBe("'é?'");
    for (const s of ["\\'", '\\', "a\\'b", '\\\\x']) expect(d.literal(s)).not.toContain('\\');
  });
});

describe('formatQuery (mysql2 queryFormat)', () => {
  it('replaces placeholders in order with literals', () => {
    expect(formatQuery('SELECT ?, ?, ?, ?', ['a', 5, null, Buffer.from([1, 255])])).toBe("SELECT 'a', 5, NULL, X'01ff'");
    expect(formatQuery('SELECT ?', [true])).toBe('SELECT 1');
    expect(formatQuery('SELECT ?', [10n ** 20n])).toBe('SELECT 100000000000000000000');
    expect(formatQuery('SELECT ?', [new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))])).toBe("SELECT '2024-01-02 03:04:05.006'");
    expect(formatQuery("SELECT 'no?', ?", undefined)).toBe("SELECT 'no?', ?");
  });

  it('leaves ? inside strings, quoted names and comments alone', () => {
    const sql = "SELECT ? FROM `t?` WHERE a='x?''?' AND b=\"?\\\"?\" AND c=? -- trailing ?\n AND d=? /* ? */ # ?\n";
    expect(formatQuery(sql, [1, 2, 3])).toBe("SELECT 1 FROM `t?` WHERE a='x?''?' AND b=\"?\\\"?\" AND c=2 -- trailing ?\n AND d=3 /* ? */ # ?\n");
    // A literal key with a `?` before the bound values (as the jobs queue writes them).
    expect(formatQuery("UPDATE j SET s=? WHERE k IN ('a?b','?') AND host=? AND pid=?", ['r', 'h', 7])).toBe("UPDATE j SET s='r' WHERE k IN ('a?b','?') AND host='h' AND pid=7");
  });

  it('inlines hostile strings so that no sql_mode lets them out of the literal', () => {
    const out = formatQuery('INSERT INTO t VALUES (?, ?)', ["\\' OR 1=1 -- ", "x'); DROP TABLE t; --"]);
    expect(out).toBe(`INSERT INTO t VALUES (_utf8mb4 X'${hex("\\' OR 1=1 -- ")}', 'x''); DROP TABLE t; --')`);
  });

  it('refuses more values than placeholders', () => {
    expect(() => formatQuery('SELECT ?', [1, 2])).toThrow(/1 placeholders but 2 values/);
  });
});
