// MySQL functions in user SQL, rewritten for PostgreSQL as DataJoint Python's adapter rewrites them.
import { describe, expect, it } from 'vitest';
import { rewriteMysqlFunctions as rw } from '../../src/adapters/postgres/mysql-functions.js';

describe('rewriteMysqlFunctions', () => {
  it('rewrites the functions PostgreSQL lacks, nested ones included', () => {
    expect(rw('YEAR(d) = 2024')).toBe('EXTRACT(YEAR FROM d)::int = 2024');
    expect(rw('month(d) + day(d)')).toBe('EXTRACT(MONTH FROM d)::int + EXTRACT(DAY FROM d)::int');
    expect(rw('d <= CURDATE()')).toBe('d <= CURRENT_DATE');
    expect(rw('GROUP_CONCAT(x)')).toBe("STRING_AGG((x)::text, ',')");
    expect(rw("group_concat(DISTINCT x ORDER BY x DESC SEPARATOR '; ')")).toBe("STRING_AGG(DISTINCT (x)::text, '; ' ORDER BY x DESC)");
    expect(rw('GROUP_CONCAT(YEAR(d))')).toBe("STRING_AGG((EXTRACT(YEAR FROM d)::int)::text, ',')");
    expect(rw('SUM(correct = 1)')).toBe('SUM((correct = 1)::int)');
    expect(rw('avg(score >= 0.5)')).toBe('avg((score >= 0.5)::int)');
    expect(rw('STD(x)')).toBe('STDDEV_POP(x)');
  });

  it('leaves PostgreSQL’s own SQL, strings, quoted names and other words alone', () => {
    for (const sql of ['SUM(x)', 'avg(f(a, b))', "name = 'YEAR(x)'", '"year"(x)', 'birth_year(x)', 's.year(x)', 'stddev(x)', 'max(a) > 1', "x = 'it''s sum(a = b)'"]) expect(rw(sql)).toBe(sql);
    expect(rw("TIMESTAMPDIFF(YEAR, dob, CURDATE())")).toBe('EXTRACT(YEAR FROM AGE((CURRENT_DATE)::timestamp, (dob)::timestamp))::int');
    expect(rw('timestampdiff(day, a, b)')).toBe('TRUNC(EXTRACT(EPOCH FROM ((b)::timestamp - (a)::timestamp)) / 86400)::bigint');
    expect(rw("DATEDIFF(b, '2024-01-01')")).toBe("((b)::date - ('2024-01-01')::date)");
    // Units and argument counts MySQL does not have are left for the server to refuse.
    for (const sql of ['TIMESTAMPDIFF(FORTNIGHT, a, b)', 'TIMESTAMPDIFF(DAY, a)', 'DATEDIFF(a, b, c)']) expect(rw(sql)).toBe(sql);
    // Aggregates of the boolean attributes named (MySQL's booleans are 0/1); others stay.
    const bools = new Set(['correct']);
    expect(rw('sum(correct)', bools)).toBe('sum((correct)::int)');
    expect(rw('AVG("correct") + max(correct) - MIN(correct)', bools)).toBe('AVG(("correct")::int) + max((correct)::int) - MIN((correct)::int)');
    expect(rw('sum(x) + max(y) + sum(correct_count)', bools)).toBe('sum(x) + max(y) + sum(correct_count)');
    // A CASE with a comparison counts as one: its integer is cast to an integer, which changes nothing.
    expect(rw('SUM(CASE WHEN a = 1 THEN 1 ELSE 0 END)')).toBe('SUM((CASE WHEN a = 1 THEN 1 ELSE 0 END)::int)');
  });
});
