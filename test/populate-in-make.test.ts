/**
 * API.md §6: populate called inside a make throws DataJointError, on a worker thread too
 * (processes: 2), where only a populate outside any make (at the top level of the table module,
 * test/faults/workers.test.ts) returns at once. A plain make, a makeCompute and a generator
 * between its yields each call Inner.populate().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from './helpers.js';
import { closePools } from '../src/populate/pool.js';

process.env.DJ_TEST_IN_MAKE_DB = `djtest_in_make_${process.pid}`;
const { schema, Src, Inner, InPlain, InCompute, InGenerator } = await import('./fixtures/populate-in-make.js');

beforeAll(async () => {
  await schema.drop({ prompt: false });
  await schema.declare();
  await Src.insert1({ src_id: 1 });
});
afterAll(async () => {
  await closePools();
  await cleanup(schema);
});

describe('populate inside a make', () => {
  for (const processes of [1, 2]) {
    for (const T of [InPlain, InCompute, InGenerator]) {
      it(`throws DataJointError with processes: ${processes} (${T.name})`, async () => {
        await T.deleteQuick();
        expect(await T.populate({ processes })).toMatchObject({ success: 1, error: 0 });
        const [thread, msg] = (await T.fetch1('thread', 'msg')) as [number, string];
        if (processes > 1) expect(thread).not.toBe(0); // made on a worker thread
        expect(msg).toMatch(new RegExp(`^DataJointError: Populate cannot be called inside a make \\(Inner\\.populate called from ${T.name}\\.make\\)`));
        expect(await Inner.count()).toBe(0);
      });
    }
  }
});

