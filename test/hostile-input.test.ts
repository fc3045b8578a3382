/**
 * Hostile input (issue 9, items 3, 4 and 13; `;` in SQL fragments): strings that would break out of a literal under
 * NO_BACKSLASH_ESCAPES (MySQL) or standard_conforming_strings off (PostgreSQL), `?` inside
 * string keys, lone UTF-16 surrogates, and dates before the year 1000.
 *
 * The session modes are set on a one-connection pool after it connected, so every statement of
 * the test (pooled reads, transactions, the jobs queue) runs under the hostile mode, as it
 * would when the server's global default has it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, cleanup } from './helpers.js';

const HOSTILE = ["\\' OR 1=1 -- ", "\\'); DROP TABLE x; -- ", 'back\\slash', "it's", 'a?b', '?', "\\\\'\\", '"double"', 'tab\there', 'nul\u0000byte'];
const pg = BACKEND !== 'mysql';
/** PostgreSQL text cannot hold NUL at all (the server refuses it with a clear error). */
const storable = HOSTILE.filter((s) => !(pg && s.includes('\u0000')));

let c: dj.Connection;
let schema: dj.SchemaDecorator;

class Note extends dj.Manual {
  static definition = `
  name : varchar(64)
  ---
  body : varchar(255)
  extra = null : json
  `;
}
const made: string[] = [];
class Echo extends dj.Computed {
  static definition = `
  -> Note
  ---
  copy : varchar(255)
  `;
  async make(key: Record<string, unknown>) {
    made.push(key.name as string);
    const body = (await Note.restrict(key).fetch1('body')) as string;
    if (body.startsWith('fail')) throw new Error(`failing with ${body}`);
    await this.insert1({ ...key, copy: body });
  }
}
/** What an injected second statement would empty. */
class Victim extends dj.Manual {
  static definition = `
  victim_id : int32
  `;
}
/** A table filled from a query (insert-from-query). */
class NoteCopy extends dj.Manual {
  static definition = `
  name : varchar(64)
  ---
  body : varchar(255)
  `;
}
class Moment extends dj.Manual {
  static definition = `
  moment_id : int32
  ---
  day : date
  at : datetime(3)
  `;
}

/** The server-side mode that makes backslash escapes (or their absence) mean something else. */
async function hostileMode(): Promise<string> {
  if (c.dialect.name === 'mysql') return String((await c.query('SELECT @@SESSION.sql_mode AS m'))[0]!.m);
  return String((await c.query('SHOW standard_conforming_strings'))[0]!.standard_conforming_strings);
}

beforeAll(async () => {
  c = new dj.Connection({ poolSize: 1 });
  if (c.dialect.name === 'mysql') await c.execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')");
  else await c.execute('SET standard_conforming_strings = off');
  schema = dj.schema(`djtest_hostile_${process.pid}`, { connection: c });
  await schema.drop({ prompt: false });
  schema.add(Note);
  schema.add(Echo);
  schema.add(Moment);
  schema.add(Victim);
  schema.add(NoteCopy);
  await schema.declare();
});
afterAll(async () => {
  await schema.drop({ prompt: false }).catch(() => {});
  await c.close();
  await cleanup();
});

describe('string values under a hostile server mode', () => {
  it('runs the test session in the hostile mode', async () => {
    expect(await hostileMode()).toMatch(c.dialect.name === 'mysql' ? /NO_BACKSLASH_ESCAPES/ : /^off$/);
  });

  it('inserts, restricts (dict, list, negation) and updates hostile strings exactly', async () => {
    await Note.insert(storable.map((s, i) => ({ name: `n${i}`, body: s, extra: { s } })));
    await Note.insert1({ name: storable[0]!, body: storable[0]! });
    expect(await Note.count()).toBe(storable.length + 1);
    for (const [i, s] of storable.entries()) {
      expect(await Note.restrict({ body: s }).count()).toBe(s === storable[0] ? 2 : 1);
      expect(await Note.restrict({ name: `n${i}`, body: s }).fetch1('extra')).toEqual({ s });
    }
    // A list of dicts (one IN list of literals), a list of one-key dicts, and a negation.
    expect(await Note.restrict(storable.map((s) => ({ body: s }))).count()).toBe(storable.length + 1);
    expect(await Note.restrict(storable.map((s, i) => ({ name: `n${i}`, body: s }))).count()).toBe(storable.length);
    expect(await Note.restrict(dj.not({ body: storable[0]! })).count()).toBe(storable.length - 1);
    // update1 binds the new value and restricts by the (hostile) key.
    await Note.update1({ name: storable[0]!, body: storable[1]! });
    expect(await Note.restrict({ name: storable[0]! }).fetch1('body')).toBe(storable[1]);
    expect(await Note.restrict({ body: storable[1]! }).count()).toBe(2);
    // Nothing was dropped or widened by an injected condition.
    expect(await Note.count()).toBe(storable.length + 1);
    await Note.restrict({ name: storable[0]! }).delete({ prompt: false });
    expect(await Note.count()).toBe(storable.length);
  });

  it('runs the jobs queue on hostile keys and messages (reserve, error, ignore, complete)', async () => {
    await Note.deleteQuick();
    made.length = 0;
    await Note.insert(storable.map((s) => ({ name: s, body: s })));
    await Note.insert1({ name: 'fail?', body: `fail ${storable[0]}` });
    await Echo.jobs.ignore({ name: storable[2]! });
    const r = await Echo.populate({ reserveJobs: true, suppressErrors: true });
    expect(r.error).toBe(1);
    expect(r.success).toBe(storable.length - 1);
    expect(made.sort()).toEqual([...storable.filter((s) => s !== storable[2]), 'fail?'].sort());
    for (const s of storable) expect(await Echo.restrict({ name: s }).count()).toBe(s === storable[2] ? 0 : 1);
    expect([...((await Echo.toArrays('copy')) as string[])].sort()).toEqual(storable.filter((s) => s !== storable[2]).sort());
    const p = await Echo.jobs.progress();
    expect(p).toMatchObject({ pending: 0, reserved: 0, error: 1, ignore: 1 });
    expect(await Echo.jobs.errors.fetch1('error_message')).toBe(`Error: failing with fail ${storable[0]}`);
    expect(await Echo.jobs.ignored.fetch1('name')).toBe(storable[2]);
    expect(await hostileMode()).toMatch(c.dialect.name === 'mysql' ? /NO_BACKSLASH_ESCAPES/ : /^off$/);
  });
});

describe('lone UTF-16 surrogates', () => {
  const lone = ['high\ud800', '\udc00low', 'mid\udbffdle'];
  it('are refused clearly on insert, update1, restriction and in JSON; surrogate pairs are stored exactly', async () => {
    await Note.delete({ prompt: false });
    for (const s of lone) {
      await expect(Note.insert1({ name: 'x', body: s })).rejects.toThrow(dj.errors.AttributeTypeError);
      await expect(Note.insert1({ name: 'x', body: s })).rejects.toThrow(/`body` \(varchar\(255\)\): the string has a lone UTF-16 surrogate U\+D[89ABCDEF]/);
      await expect(Note.insert([{ name: 'y', body: 'fine' }, { name: s, body: 'fine' }])).rejects.toThrow(/Row 1: .*`name`.*lone UTF-16 surrogate/);
      await expect(Note.insert1({ name: 'x', body: 'ok', extra: { [s]: 1 } })).rejects.toThrow(/lone UTF-16 surrogate/);
      await expect(Note.insert1({ name: 'x', body: 'ok', extra: [s] })).rejects.toThrow(/in the JSON value has a lone UTF-16 surrogate/);
      await expect(Note.restrict({ body: s }).count()).rejects.toThrow(/lone UTF-16 surrogate/);
    }
    expect(await Note.count()).toBe(0);
    await Note.insert1({ name: 'pair', body: 'emoji \ud83d\ude00 and \u{1F680}', extra: { k: '\ud83d\ude00' } });
    await expect(Note.update1({ name: 'pair', body: 'bad \ud83d' })).rejects.toThrow(/lone UTF-16 surrogate U\+D83D at index 4/);
    expect(await Note.restrict({ body: 'emoji \ud83d\ude00 and \u{1F680}' }).fetch1('extra')).toEqual({ k: '\ud83d\ude00' });
  });
});

describe('dates before the year 1000', () => {
  /** A UTC Date in year `y` (Date.UTC maps years 0–99 to 1900–1999, so set the year explicitly). */
  const at = (y: number, iso = '-03-04T05:06:07.890Z') => {
    const d = new Date(`2000${iso}`);
    d.setUTCFullYear(y);
    return d;
  };
  it('stores, fetches and restricts by years 1, 50 and 999 (never 2050 or 1950)', async () => {
    await Moment.deleteQuick();
    await Moment.insert([
      { moment_id: 1, day: at(1), at: at(1) },
      { moment_id: 50, day: at(50), at: at(50) },
      { moment_id: 999, day: '0999-12-31', at: '0999-12-31 23:59:59.5' },
    ]);
    const rows = await Moment.toDicts({ orderBy: 'moment_id' });
    expect(rows.map((r) => (r.day as Date).getUTCFullYear())).toEqual([1, 50, 999]);
    expect(rows.map((r) => (r.at as Date).toISOString())).toEqual(['0001-03-04T05:06:07.890Z', '0050-03-04T05:06:07.890Z', '0999-12-31T23:59:59.500Z']);
    // Restrictions by Date and by text find the same rows.
    expect(await Moment.restrict({ day: at(50, '-03-04T00:00:00Z') }).fetch1('moment_id')).toBe(50);
    expect(await Moment.restrict({ at: at(50) }).fetch1('moment_id')).toBe(50);
    expect(await Moment.restrict({ day: '0050-03-04' }).fetch1('moment_id')).toBe(50);
    expect(await Moment.restrict({ at: at(1) }).fetch1('moment_id')).toBe(1);
    expect(await Moment.restrict({ at: at(2050) }).count()).toBe(0);
    await Moment.update1({ moment_id: 1, at: at(7) });
    expect(((await Moment.restrict({ moment_id: 1 }).fetch1('at')) as Date).getUTCFullYear()).toBe(7);
  });
});

describe('a `;` in an SQL fragment never runs a second statement', () => {
  // Each fragment ends the statement and appends one that would empty Victim. MariaDB refuses
  // several statements in one query; PostgreSQL's simple query protocol would run them all.
  const drop = () => `DELETE FROM ${Victim.fullTableName}`;
  const breakOut = () => `name <> ''); ${drop()}; SELECT (1`;
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['toDicts orderBy', () => Note.toDicts({ orderBy: `name; ${drop()}` })],
    ['toArrays orderBy', () => Note.toArrays('name', { orderBy: `name; ${drop()}` })],
    ['toDicts of a restriction string', () => Note.restrict(breakOut()).toDicts()],
    ['count of a restriction string', () => Note.restrict(breakOut()).count()],
    ['fetch1 of a restriction string', () => Note.restrict(breakOut()).fetch1()],
    ['toArrow of a restriction string', () => Note.restrict(breakOut()).toArrow()],
    ['for await of a restriction string', async () => {
      for await (const row of Note.restrict(breakOut())) void row;
    }],
    ['proj expression', () => Note.proj({ n: `1 FROM ${Note.fullTableName}; ${drop()}; SELECT 1` }).toDicts()],
    ['aggr expression', () => Note.aggr(Echo, { n: `count(*) FROM ${Note.fullTableName}; ${drop()}; SELECT count(*)` }).toDicts()],
    ['delete (cascade counts)', () => Note.restrict(breakOut()).delete({ prompt: false })],
    ['deleteQuick', () => Note.restrict(breakOut()).deleteQuick()],
    ['insert from a query', () => NoteCopy.insert(Note.proj('body').restrict(breakOut()))],
    ['insert from a query with an injected proj', () => NoteCopy.insert(Note.proj({ body: `body FROM ${Note.fullTableName}; ${drop()}; SELECT body` }))],
  ];
  it.each(cases)('%s: QuerySyntaxError, nothing else ran', async (_name, run) => {
    await Echo.deleteQuick();
    await Note.deleteQuick();
    await Note.insert([{ name: 'a', body: 'x' }]);
    await Echo.insert1({ name: 'a', copy: 'x' }, { allowDirectInsert: true });
    await Victim.insert([{ victim_id: 1 }, { victim_id: 2 }], { skipDuplicates: true });
    await expect(run()).rejects.toThrow(dj.errors.QuerySyntaxError);
    expect(await Victim.count()).toBe(2);
    expect(await Note.count()).toBe(1);
    expect(await NoteCopy.count()).toBe(0);
  });
});
