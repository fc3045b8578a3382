/**
 * The database going away in the middle of populate (src/populate/outage.ts): every connection,
 * this process's and its worker threads', goes through a proxy that cuts them all and refuses
 * new ones. populate stops with the connection's error even with suppressErrors (no key is
 * failed for an outage), and once the server is back the next populate releases the jobs the
 * first had reserved and makes every key once. Worker threads that cannot connect as they
 * start are an outage too, not an error of another class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, cleanup } from './helpers.js';
import { serverAddress, waitFor } from './support/faults.js';
import { FaultProxy } from './support/proxy.js';

process.env.DJ_TEST_WORKER_DB = `djtest_outage_${process.pid}`;
let proxy: FaultProxy;
const server = BACKEND === 'embedded' ? null : await serverAddress();
if (server) {
  proxy = await FaultProxy.start(server.host, server.port);
  dj.config.set('database.port', proxy.port); // this process and its worker threads alike
}
const { schema, Source, Step } = await import('./fixtures/worker-pipeline.js');

// The embedded server is started by this process: there is no address to put a proxy before.
describe.skipIf(BACKEND === 'embedded')('the database going away during populate', () => {
  beforeAll(async () => {
    await schema.drop({ prompt: false });
  });
  afterAll(async () => {
    proxy.restore();
    await cleanup(schema);
    await proxy.close();
  });

  const reset = async (n: number) => {
    proxy.restore();
    await Step.Piece.deleteQuick();
    await Step.deleteQuick();
    await Step.jobs.drop();
    await Source.deleteQuick();
    await Source.insert(Array.from({ length: n }, (_, source_id) => ({ source_id, delay_ms: 40 })));
  };

  for (const processes of [1, 2]) {
    it(`stops populate (processes: ${processes}) with the connection's error, fails no key, and the next populate makes the rest once`, async () => {
      const n = 40;
      await reset(n);
      const running = Step.populate({ processes, reserveJobs: true, suppressErrors: true }).then(
        (r) => r,
        (e: unknown) => e as Error,
      );
      await waitFor(async () => (await Step.count()) >= 5, 30_000, 'some keys made');
      proxy.outage();
      const outcome = await running;
      expect(outcome).toBeInstanceOf(dj.errors.LostConnectionError);
      proxy.restore();
      const made = await Step.count();
      expect(made).toBeLessThan(n);
      // The jobs the stopped call held are released by this one, which makes every other key.
      const again = await Step.populate({ processes, reserveJobs: true, suppressErrors: true });
      expect(again).toMatchObject({ error: 0, success: n - made });
      expect(await Step.count()).toBe(n);
      expect(await Step.Piece.count()).toBe(n);
      expect(await Step.jobs.progress()).toMatchObject({ reserved: 0, error: 0, pending: 0 });
    });
  }

  it('worker threads that cannot connect as they start stop populate with the connection error', async () => {
    await reset(4);
    await dj.closeAll(); // no pool kept: the threads start (and connect) in the call below
    await Step.count(); // this process's connection is open before new ones are refused
    proxy.refuseNew();
    const err = await Step.populate({ processes: 2 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(dj.errors.LostConnectionError);
    proxy.restore();
  });
});
