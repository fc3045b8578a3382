/** schema.populate (API.md §10): every auto-populated table, upstream first, maxCalls across all. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;
const order: string[] = [];

class Source extends dj.Manual {
  static definition = `src : int32\n---\nv : float64`;
}
// Declared (registered) downstream first, so registration order cannot pass for dependency order.
class Second extends dj.Computed {
  static definition = `-> First\n---\nz : float64`;
  async make(key: Record<string, unknown>) {
    order.push('Second');
    const y = (await First.restrict(key).fetch1('y')) as number;
    await this.insert1({ ...key, z: y + 1 });
  }
}
class First extends dj.Computed {
  static definition = `-> Source\n---\ny : float64`;
  async make(key: Record<string, unknown>) {
    order.push('First');
    const v = (await Source.restrict(key).fetch1('v')) as number;
    await this.insert1({ ...key, y: v * 2 });
  }
}

beforeAll(async () => {
  schema = await freshSchema('schemapop');
  schema.add(Source);
  schema.add(Second);
  schema.add(First);
  await Source.insert([1, 2, 3].map((src) => ({ src, v: src })));
});
afterAll(() => cleanup(schema));

describe('schema.populate', () => {
  it('populates every auto-populated table in dependency order in one call', async () => {
    const r = await schema.populate();
    expect(Object.keys(r)).toEqual(['First', 'Second']);
    expect(r.First).toMatchObject({ success: 3, error: 0 });
    expect(r.Second).toMatchObject({ success: 3, error: 0 });
    expect(order.slice(0, 3)).toEqual(['First', 'First', 'First']);
    expect((await Second.toArrays('z', { orderBy: 'src' })) as unknown).toEqual(Float64Array.from([3, 5, 7]));
  });

  it('counts maxCalls across tables and stops when it is spent', async () => {
    await Source.insert([4, 5].map((src) => ({ src, v: src })));
    const r = await schema.populate({ maxCalls: 3 });
    expect(r.First!.success).toBe(2);
    expect(r.Second!.success).toBe(1);
    expect(await Second.count()).toBe(4);
    const rest = await schema.populate({ reserveJobs: true });
    expect(rest.First!.success).toBe(0);
    expect(rest.Second!.success).toBe(1);
    // A table maxCalls did not reach is in the result, with nothing made.
    await Source.insert1({ src: 7, v: 7 });
    const one = await schema.populate({ maxCalls: 1 });
    expect(one).toEqual({ First: { success: 1, error: 0, skip: 0, errors: [] }, Second: { success: 0, error: 0, skip: 0, errors: [] } });
    await schema.populate();
  });

  it('refuses an unknown option before populating any table', async () => {
    await Source.insert1({ src: 6, v: 6 });
    await expect(schema.populate({ max_calls: 1 } as dj.PopulateOptions)).rejects.toThrow(/^schema\.populate: unknown option max_calls: did you mean maxCalls\?/);
    expect(await First.restrict({ src: 6 }).count()).toBe(0);
  });
});
