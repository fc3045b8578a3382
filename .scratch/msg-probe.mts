import * as dj from '../src/index.js';
dj.config.set('safemode', false);
for (const backend of ['mysql', 'postgresql'] as const) {
  const c = new dj.Connection({ backend, host: '127.0.0.1', port: 1, user: 'root', password: '' } as never);
  try { await c.query('SELECT 1'); } catch (e) { console.log(backend, (e as Error).constructor.name, '|', (e as Error).message); }
  await c.close();
}
for (const backend of ['mysql', 'postgresql'] as const) {
  dj.config.set('database.backend', backend);
  dj.config.set('database.host', '127.0.0.1');
  dj.config.set('database.port', backend === 'mysql' ? 3306 : 5432);
  dj.config.set('database.user', backend === 'mysql' ? 'root' : 'postgres');
  await dj.closeAll();
  const s = dj.schema(`djtest_msgprobe_${process.pid}`);
  await s.drop({ prompt: false });
  class P extends dj.Manual { static definition = `p : int32\n---\nname : varchar(4)`; }
  class C extends dj.Manual { static definition = `-> P\nc : int32`; }
  s.add(P); s.add(C);
  await P.insert1({ p: 1, name: 'a' });
  await C.insert1({ p: 1, c: 1 });
  for (const [what, f] of [
    ['dup', () => P.insert1({ p: 1, name: 'b' })],
    ['fk', () => C.insert1({ p: 9, c: 1 })],
    ['fetch1-0', () => P.restrict({ p: 5 }).fetch1()],
    ['fetch1-2', async () => { await P.insert1({ p: 2, name: 'b' }); return P.fetch1(); }],
    ['long', () => P.insert1({ p: 3, name: 'toolong' })],
    ['delete-parent', () => P.restrict({p:1}).deleteQuick()],
  ] as const) {
    try { await f(); console.log(backend, what, 'no error'); } catch (e) { console.log(backend, what, (e as Error).constructor.name, '|', (e as Error).message); }
  }
  await s.drop({ prompt: false });
}
await dj.closeAll();
