/**
 * MySQL's native types in definitions, on every backend: declared on PostgreSQL as the core type
 * holding the same values (with the warning MySQL gives), so they insert, fetch and range-check
 * as on MySQL; the ones PostgreSQL has no equivalent for are refused there, saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup, manualTable } from './helpers.js';

let schema: dj.SchemaDecorator;
const warnings: string[] = [];
const onWarn = (w: Error) => warnings.push(w.message);

beforeAll(async () => {
  schema = await freshSchema('declare_native');
  process.on('warning', onWarn);
});
afterAll(async () => {
  process.off('warning', onWarn);
  await cleanup(schema);
});

/** A Manual table class named `name` with `definition`, added to the schema. */
const table = (name: string, definition: string) => manualTable(schema, name, definition);

describe('native float types', () => {
  it('say in their warning which values they hold on this backend (real and float differ between MySQL and PostgreSQL)', async () => {
    await table('Floats', 'id : int32\n---\nr = null : real\nf = null : float').declare();
    await new Promise((r) => setImmediate(r));
    const holds = (type: string) => warnings.find((w) => w.startsWith(`Native type "${type}" used for attribute`))?.match(/it holds the values of (\w+)/)?.[1];
    expect([holds('real'), holds('float')]).toEqual(BACKEND === 'mysql' ? ['float64', 'float32'] : ['float32', 'float64']);
  });
});

describe("MySQL's native types", () => {
  const natives: Record<string, [type: string, core: string]> = {
    a: ['tinyint', 'int8'],
    b: ['tinyint unsigned', 'uint8'],
    c: ['smallint unsigned', 'uint16'],
    d: ['mediumint', 'int32'],
    e: ['int unsigned', 'uint32'],
    f: ['bigint unsigned', 'uint64'],
    g: ['double', 'float64'],
    h: ['year', 'int16'],
  };
  let Natives: typeof dj.Manual;

  it('declare with a warning on every backend', async () => {
    const lines = Object.entries(natives).map(([name, [type]]) => `${name} = null : ${type}`);
    Natives = table('Natives', `id : int32\n---\n${lines.join('\n')}`);
    await Natives.declare();
    await new Promise((r) => setImmediate(r));
    for (const [type] of Object.values(natives)) expect(warnings.some((w) => w.startsWith(`Native type "${type}" used`)), type).toBe(true);
    const h = await Natives.heading();
    // MySQL reads the native column back as the core type of its range; PostgreSQL declared that type.
    for (const n of ['a', 'b', 'c', 'e', 'f', 'g']) expect(h.attributes[n]!.type, n).toBe(natives[n]![1]);
    if (BACKEND !== 'mysql') for (const n of ['d', 'h']) expect(h.attributes[n]!.type, n).toBe(natives[n]![1]);
  });

  it('insert and fetch their whole range', async () => {
    const row = { id: 1, a: -128, b: 255, c: 65535, d: -8388608, e: 4294967295, f: 18446744073709551615n, g: 0.1, h: 2024 };
    await Natives.insert1(row);
    const back = await Natives.restrict({ id: 1 }).fetch1();
    expect({ ...back, f: BigInt(back.f as bigint) }).toEqual(row);
  });

  it('refuse values out of their range', async () => {
    const bad: Array<[string, number]> = [['a', 128], ['a', -129], ['b', 256], ['b', -1], ['c', 65536], ['c', -1], ['e', -1], ['e', 4294967296]];
    for (const [name, value] of bad)
      await expect(Natives.insert1({ id: 2, [name]: value }), `${name}=${value}`).rejects.toBeInstanceOf(dj.DataJointError);
    expect(await Natives.count()).toBe(1);
  });

  it('int unsigned auto_increment numbers rows on every backend', async () => {
    const Counted = table('Counted', `id : int unsigned auto_increment\n---\nnote = '' : varchar(8)`);
    await Counted.insert1({});
    await Counted.insert1({ note: 'second' });
    expect(await Counted.restrict({ note: 'second' }).fetch1('id')).toBe(2);
    expect((await Counted.heading()).attributes.id!.autoIncrement).toBe(true);
  });

  it('auto_increment goes on after the largest id, also after rows given their own (as MySQL does)', async () => {
    const Items = table('Items', `item_id : int auto_increment\n---\nname : varchar(8)`);
    const Copy = table('ItemsCopy', `item_id : int auto_increment\n---\nname : varchar(8)`);
    await Items.insert1({ name: 'a' }); // 1
    await Items.insert1({ item_id: 10, name: 'b' });
    await Items.insert1({ name: 'c' }); // the identity sequence of PostgreSQL gave 2, then collided at 10
    await Items.insert([{ item_id: 20, name: 'd' }, { name: 'e' }]);
    await Items.insert1({ name: 'f' });
    const ids = async (t: typeof Items) => Array.from((await t.toArrays('item_id', { orderBy: 'item_id' })) as ArrayLike<number>);
    const idOf = async (name: string) => (await Items.restrict({ name }).fetch1('item_id')) as number;
    expect(await idOf('c')).toBe(11);
    expect(await idOf('f')).toBeGreaterThan(20); // after the batch's own 20 (its automatic row got 21 on MySQL, 12 on PostgreSQL)
    expect(await ids(Items)).toHaveLength(6);
    // Rows copied in with their ids (INSERT … SELECT) move the counter too.
    await Copy.insert(Items);
    await Copy.insert1({ name: 'g' });
    expect((await Copy.restrict({ name: 'g' }).fetch1('item_id')) as number).toBeGreaterThan(Math.max(...(await ids(Items))));
  });

  it('without an equivalent on PostgreSQL are refused there, saying why', async () => {
    const Sets = table('Sets', `id : int32\n---\ns : set('x','y')`);
    if (BACKEND === 'mysql') {
      await Sets.declare();
      return;
    }
    await expect(Sets.declare()).rejects.toBeInstanceOf(dj.DeclarationError);
    await expect(Sets.declare()).rejects.toThrow(/Unsupported attribute type set\('x','y'\) on postgresql: PostgreSQL has no set type/);
    expect(await schema.listTables()).not.toContain('sets');
  });
});
