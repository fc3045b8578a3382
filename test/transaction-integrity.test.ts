/**
 * A transaction keeps its work, or says loudly that it lost it:
 * - leaving a stream early (break) inside a transaction keeps the transaction's session;
 * - nested transactions started in parallel run one after another, each in its own savepoint;
 * - a statement that failed inside a transaction on PostgreSQL (which aborts the whole
 *   transaction at a failed statement) makes the transaction reject, never commit silently.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BACKEND, cleanup, dj, freshSchema } from './helpers.js';

let schema: dj.SchemaDecorator;

class Many extends dj.Manual {
  static definition = `n : int32`;
}
class Note extends dj.Manual {
  static definition = `note_id : int32`;
}

const ids = async () => Array.from((await Note.toArrays('note_id', { orderBy: 'note_id' })) as ArrayLike<number>);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  schema = await freshSchema('txint');
  schema.add(Many);
  schema.add(Note);
  await Many.insert(Array.from({ length: 5000 }, (_, n) => ({ n })));
});
afterAll(() => cleanup(schema));
beforeEach(() => Note.deleteQuick());

describe('leaving a stream early inside a transaction', () => {
  it('keeps the transaction: a for-await over a table', async () => {
    const count = await dj.conn().transaction(async () => {
      await Note.insert1({ note_id: 1 });
      for await (const _row of Many) break;
      await Note.insert1({ note_id: 2 });
      return Many.count();
    });
    expect(count).toBe(5000);
    expect(await ids()).toEqual([1, 2]);
  });

  it('keeps the transaction: arrowBatches', async () => {
    await dj.conn().transaction(async () => {
      await Note.insert1({ note_id: 1 });
      for await (const _batch of Many.arrowBatches({ batchSize: 1000 })) break;
      await Note.insert1({ note_id: 2 });
    });
    expect(await ids()).toEqual([1, 2]);
  });

  it('keeps the pooled connections usable outside a transaction', async () => {
    for await (const _row of Many) break;
    expect(await Many.count()).toBe(5000);
  });
});
