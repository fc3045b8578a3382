/**
 * Fetch throughput (issue 3). Same process, same server, 100,000 rows of
 * (int32, float64, varchar(32)):
 *   - baseline: raw mysql2 SELECT of the same rows (row objects), and with rowsAsArray
 *   - dj toDicts(), toArrays(), toArrow()
 * Reported as rows/s and as ratios to the raw mysql2 query.
 * Then 5,000 rows of a 256-element float64 `<blob>`: toArrow({ decodeBlobs: true }) against
 * toArrow() followed by dj.blob.unpack of every row (what a user did before), as a ratio.
 * Run: npx tsx bench/fetch.bench.ts   (DJ_HOST etc. as for the tests)
 */
import { Bench } from 'tinybench';
import * as dj from '../src/index.js';
import { useDefaultHost, rawConnection, machine, run } from './common.js';

useDefaultHost();
const schema = dj.schema(`djbench_fetch_${process.pid}`);
class Row3 extends dj.Manual {
  static definition = `id : int32\n---\nx : float64\nlabel : varchar(32)`;
}
class Trace extends dj.Manual {
  static definition = `id : int32\n---\ntrace : <blob>`;
}
schema.add(Row3);
schema.add(Trace);

const N = 100_000;

async function main() {
  await schema.drop({ prompt: false });
  await Row3.declare();
  await Row3.insert(Array.from({ length: N }, (_, i) => ({ id: i, x: Math.random(), label: `label-${i.toString(36)}-${'x'.repeat(i % 16)}` })));
  const raw = await rawConnection();
  const sql = `SELECT \`id\`,\`x\`,\`label\` FROM ${Row3.fullTableName}`;
  const check = (n: number) => {
    if (n !== N) throw new Error(`expected ${N} rows, got ${n}`);
  };

  const bench = new Bench({ iterations: 10, warmupIterations: 2, time: 0 });
  bench
    .add('raw mysql2 query (objects)', async () => {
      const [rows] = await raw.query(sql);
      check((rows as unknown[]).length);
    })
    .add('raw mysql2 query (rowsAsArray)', async () => {
      const [rows] = await raw.query({ sql, rowsAsArray: true });
      check((rows as unknown[]).length);
    })
    .add('dj toDicts()', async () => {
      check((await Row3.toDicts()).length);
    })
    .add('dj toArrays()', async () => {
      const c = (await Row3.toArrays()) as Record<string, ArrayLike<unknown>>;
      check(c.id!.length);
    })
    .add('dj toArrow()', async () => {
      check((await Row3.toArrow()).numRows);
    });
  await bench.run();

  const rate = (name: string) => {
    const t = bench.tasks.find((x) => x.name === name)!;
    const ms = (t.result as { latency?: { mean: number } }).latency?.mean ?? NaN;
    return { ms, rowsPerSec: N / (ms / 1000) };
  };
  const base = rate('raw mysql2 query (objects)');
  const baseArr = rate('raw mysql2 query (rowsAsArray)');
  console.log(machine(`${N} rows of (int32, float64, varchar(32))`));
  console.table(
    ['raw mysql2 query (objects)', 'raw mysql2 query (rowsAsArray)', 'dj toDicts()', 'dj toArrays()', 'dj toArrow()'].map((name) => {
      const r = rate(name);
      return {
        case: name,
        'rows/s': Math.round(r.rowsPerSec),
        'mean ms': r.ms.toFixed(1),
        'vs raw objects': (r.rowsPerSec / base.rowsPerSec).toFixed(2),
        'vs raw arrays': (r.rowsPerSec / baseArr.rowsPerSec).toFixed(2),
      };
    }),
  );
  console.log('targets: toDicts ≥ 300,000 rows/s; toArrays, toArrow ≥ 400,000 rows/s (DataJoint Python 2.3: to_dicts 124,000, to_arrays 199,000)');
  await blobs();
  await raw.end();
  await schema.drop({ prompt: false });
}
const BLOB_ROWS = 5_000;

async function blobs() {
  await Trace.declare();
  await Trace.insert(Array.from({ length: BLOB_ROWS }, (_, i) => ({ id: i, trace: Float64Array.from({ length: 256 }, Math.random) })));
  const bench = new Bench({ iterations: 10, warmupIterations: 2, time: 0 });
  bench
    .add('toArrow() + dj.blob.unpack per row', async () => {
      const col = (await Trace.toArrow()).getChild('trace')!;
      let n = 0;
      for (let i = 0; i < col.length; i++) n += (dj.blob.unpack(col.get(i) as Uint8Array) as dj.blob.NDArray).data.length;
      if (n !== BLOB_ROWS * 256) throw new Error(`expected ${BLOB_ROWS * 256} values, got ${n}`);
    })
    .add('toArrow({ decodeBlobs: true })', async () => {
      const t = await Trace.toArrow({ decodeBlobs: true });
      if (t.getChild('trace')!.data[0]!.children[0]!.length !== BLOB_ROWS * 256) throw new Error('wrong value count');
    });
  await bench.run();
  const ms = (name: string) => (bench.tasks.find((x) => x.name === name)!.result as { latency?: { mean: number } }).latency?.mean ?? NaN;
  const before = ms('toArrow() + dj.blob.unpack per row');
  const after = ms('toArrow({ decodeBlobs: true })');
  console.log(`\n${BLOB_ROWS} rows of a 256-element float64 <blob>:`);
  console.table([
    { case: 'toArrow() + dj.blob.unpack per row', 'mean ms': before.toFixed(1) },
    { case: 'toArrow({ decodeBlobs: true })', 'mean ms': after.toFixed(1), 'vs unpack per row': (after / before).toFixed(2) },
  ]);
}

run(main);
