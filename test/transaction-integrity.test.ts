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

describe('nested transactions started together', () => {
  it('run one after another, so a failing one undoes only its own rows', async () => {
    const conn = dj.conn();
    const statuses = await conn.transaction(async () => {
      const r = await Promise.allSettled([
        conn.transaction(async () => {
          await Note.insert1({ note_id: 31 });
          await sleep(50);
          await Note.insert1({ note_id: 32 });
        }),
        conn.transaction(async () => {
          await sleep(10);
          await Note.insert1({ note_id: 41 });
          await sleep(80);
          throw new Error('inner 2');
        }),
        conn.transaction(async () => {
          await Note.insert1({ note_id: 51 });
        }),
      ]);
      return r.map((x) => x.status);
    });
    expect(statuses).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await ids()).toEqual([31, 32, 51]);
  });

  it("keep the enclosing level's statements out of an open nested transaction", async () => {
    const conn = dj.conn();
    await conn.transaction(async () => {
      const inner = conn.transaction(async () => {
        await Note.insert1({ note_id: 1 });
        await sleep(50);
        throw new Error('inner');
      });
      inner.catch(() => {});
      await Note.insert1({ note_id: 2 }); // issued while the nested one is open: waits for it
      await expect(inner).rejects.toThrow('inner');
    });
    expect(await ids()).toEqual([2]);
  });

  it('never swallow a failed rollback to the savepoint: the enclosing transaction rejects', async () => {
    const conn = dj.conn();
    let inner: unknown;
    const outer = conn.transaction(async () => {
      await Note.insert1({ note_id: 1 });
      await conn
        .transaction(async () => {
          await conn.execute('COMMIT'); // ends the transaction, and its savepoints with it
          throw new Error('inner');
        })
        .catch((e: unknown) => (inner = e));
    });
    await expect(outer).rejects.toBeInstanceOf(dj.errors.TransactionAbortedError);
    expect(inner).toBeInstanceOf(dj.errors.TransactionAbortedError);
  });
});

describe('a statement that fails inside a transaction', () => {
  const aborts = BACKEND !== 'mysql';
  beforeEach(() => Note.insert1({ note_id: 1 }));

  it('caught by the caller: MySQL keeps the rest; PostgreSQL rejects the transaction instead of committing nothing silently', async () => {
    const attempt = dj.conn().transaction(async () => {
      await Note.insert1({ note_id: 2 });
      try {
        await Note.insert1({ note_id: 1 });
      } catch {
        // the caller goes on
      }
      return 'returned';
    });
    if (!aborts) {
      expect(await attempt).toBe('returned');
      expect(await ids()).toEqual([1, 2]);
      return;
    }
    const err = await attempt.then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(dj.errors.TransactionAbortedError);
    expect(err!.message).toMatch(/^The transaction was rolled back, nothing of it was saved: a statement in it failed \(DuplicateError: /);
    expect(err!.message).toMatch(/nested conn\.transaction\(\.\.\.\) \(a savepoint\)/);
    expect(err!.cause).toBeInstanceOf(dj.errors.DuplicateError);
    expect(await ids()).toEqual([1]);
  });

  it('makes the statements after it fail clearly where the server aborted the transaction', async () => {
    let after: unknown = null;
    await dj
      .conn()
      .transaction(async () => {
        await Note.insert1({ note_id: 1 }).catch(() => {});
        await Note.insert1({ note_id: 3 }).catch((e: unknown) => (after = e));
      })
      .catch(() => {});
    if (!aborts) return expect(await ids()).toEqual([1, 3]);
    expect(after).toBeInstanceOf(dj.errors.TransactionAbortedError);
    expect((after as Error).message).toMatch(/^The transaction is aborted: an earlier statement in it failed \(DuplicateError: .*will be rolled back\. To keep the rest/s);
  });

  it('in a nested transaction that throws: only the nested work is undone, everywhere', async () => {
    const conn = dj.conn();
    await conn.transaction(async () => {
      await Note.insert1({ note_id: 2 });
      await expect(conn.transaction(() => Note.insert1({ note_id: 1 }))).rejects.toBeInstanceOf(dj.errors.DuplicateError);
      await Note.insert1({ note_id: 3 });
    });
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('caught inside a nested transaction: PostgreSQL rolls the nested one back to its savepoint and says so, the rest commits', async () => {
    const conn = dj.conn();
    let nested: unknown = null;
    await conn.transaction(async () => {
      await Note.insert1({ note_id: 2 });
      await conn
        .transaction(async () => {
          await Note.insert1({ note_id: 5 });
          await Note.insert1({ note_id: 1 }).catch(() => {});
        })
        .catch((e: unknown) => (nested = e));
      await Note.insert1({ note_id: 3 });
    });
    if (!aborts) {
      expect(nested).toBeNull();
      return expect(await ids()).toEqual([1, 2, 3, 5]);
    }
    expect(nested).toBeInstanceOf(dj.errors.TransactionAbortedError);
    expect((nested as Error).message).toMatch(/^The nested transaction was rolled back to its savepoint \(the enclosing transaction goes on\)/);
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('in a stream: MySQL keeps the transaction and its connection; PostgreSQL rejects it', async () => {
    const attempt = dj.conn().transaction(async () => {
      await Note.insert1({ note_id: 2 });
      const bad = Many.restrict('no_such_column > 0');
      await expect(async () => {
        for await (const _row of bad) break;
      }).rejects.toBeInstanceOf(dj.errors.UnknownAttributeError);
      return Note.count().catch(() => -1);
    });
    if (!aborts) {
      expect(await attempt).toBe(2);
      return expect(await ids()).toEqual([1, 2]);
    }
    await expect(attempt).rejects.toBeInstanceOf(dj.errors.TransactionAbortedError);
    expect(await ids()).toEqual([1]);
  });

  it.skipIf(!aborts)('is caught by the driver too: COMMIT answered with ROLLBACK and statements in an aborted transaction', async () => {
    const adapter = await dj.conn().adapter();
    const table = Note.fullTableName;
    await adapter.withSession(async (s) => {
      await adapter.begin(s);
      await s.execute(`INSERT INTO ${table} VALUES (2)`);
      await expect(s.execute(`INSERT INTO ${table} VALUES (1)`)).rejects.toBeInstanceOf(dj.errors.DuplicateError);
      expect(s.transactionAborted).toBe(true);
      const next = await s.execute(`INSERT INTO ${table} VALUES (3)`).then(() => null, (e: unknown) => e as Error);
      expect(next).toBeInstanceOf(dj.errors.TransactionAbortedError);
      expect(next!.message).toMatch(/current transaction is aborted.*an earlier statement of this transaction failed.*nested conn\.transaction/s);
      await expect(adapter.commit(s)).rejects.toThrow(/^The transaction was rolled back, nothing of it was saved.*COMMIT was answered with ROLLBACK/s);
      expect(s.transactionAborted).toBe(false);
    });
    expect(await ids()).toEqual([1]);
  });
});
