/**
 * A lost reply to an INSERT of a row with an <object@> value: the row may have committed, so its
 * object must stay (found by an acceptance audit: the object was removed as for a failed insert,
 * leaving a stored row whose object was gone, and a retry refused as a duplicate).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from '../helpers.js';
import { FaultProxy } from '../support/proxy.js';
import { serverAddress } from '../support/faults.js';

const database = `djtest_lostobj_${process.pid}`;
let proxy: FaultProxy;
let c: dj.Connection;
let schema: dj.SchemaDecorator;
let root: string;
const target = `[\`"]${database}[\`"]\\.[\`"]doc[\`"]`;

class Doc extends dj.Manual {
  static definition = `doc_id : int32\n---\nbody : <object@>`;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `djtest_lostobj_${process.pid}_`));
  dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: root, fsync: false } });
  const at = await serverAddress();
  proxy = await FaultProxy.start(at.host, at.port);
  c = new dj.Connection({ ...at, host: '127.0.0.1', port: proxy.port });
  schema = dj.schema(database, { connection: c });
  await schema.drop({ prompt: false });
  schema.add(Doc);
  await schema.declare();
});
afterAll(async () => {
  await schema.drop({ prompt: false }).catch(() => {});
  await c.close();
  await proxy.close();
  await cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('a lost reply to an insert with an <object@> value', () => {
  it('keeps the object of the row that committed', async () => {
    const dropped = proxy.dropReplyTo(new RegExp(`INSERT INTO ${target}`));
    await expect(Doc.insert1({ doc_id: 1, body: Buffer.from('kept') })).rejects.toBeInstanceOf(dj.errors.LostConnectionError);
    await dropped;
    expect(await Doc.count()).toBe(1);
    const ref = (await Doc.restrict({ doc_id: 1 }).fetch1('body')) as dj.ObjectRef;
    expect((await ref.read()).toString()).toBe('kept');
  });
  it('still removes the object of an insert that failed for sure (a duplicate key)', async () => {
    await expect(Doc.insert1({ doc_id: 1, body: Buffer.from('other') })).rejects.toBeInstanceOf(dj.errors.DuplicateError);
    const r = await dj.gc({ schemas: database });
    expect(r.orphaned).toBe(0);
  });
});
