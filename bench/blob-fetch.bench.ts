/**
 * Fetching blobs (issue: query algebra and fetch): MB/s for 1,000 rows of 1 MB `<blob>` arrays
 * (float64, random: stored uncompressed, as zlib would not shrink it), against the raw mysql2
 * query of the same bytes in the same process (the driver alone), and the server's own reading
 * speed (a query that reads every byte but returns none): the ceiling of any client.
 * Run: npx tsx bench/blob-fetch.bench.ts
 */
import { Bench } from 'tinybench';
import * as dj from '../src/index.js';
import { useDefaultHost, rawConnection, machine, run } from './common.js';

useDefaultHost();
const schema = dj.schema(`djbench_blobfetch_${process.pid}`);
class Frame extends dj.Manual {
  static definition = `frame_id : int32\n---\ndata : <blob>`;
}
schema.add(Frame);

const ROWS = 1000;
const ELEMS = 131072; // 1 MiB of float64

async function main() {
  await schema.drop({ prompt: false });
  await Frame.declare();
  for (let i = 0; i < ROWS; i += 50) {
    await Frame.insert(
      Array.from({ length: 50 }, (_, j) => ({
        frame_id: i + j,
        data: new dj.NDArray({ dtype: 'float64', shape: [ELEMS], data: Float64Array.from({ length: ELEMS }, Math.random), order: 'F' }),
      })),
    );
  }
  const raw = await rawConnection();
  const [[{ bytes }]] = (await raw.query(`SELECT SUM(LENGTH(data)) AS bytes FROM ${Frame.fullTableName}`)) as unknown as [[{ bytes: string }]];
  const mb = Number(bytes) / 1e6;
  let check = 0;
  const bench = new Bench({ iterations: 3, warmupIterations: 1, time: 0 });
  bench
    .add('server only: SELECT SUM(CRC32(data)) (reads every byte, sends none)', async () => {
      await raw.query(`SELECT SUM(CRC32(data)) FROM ${Frame.fullTableName}`);
    })
    .add('raw mysql2 SELECT of the blob bytes', async () => {
      const [rows] = (await raw.query({ sql: `SELECT frame_id, data FROM ${Frame.fullTableName}`, rowsAsArray: true })) as unknown as [unknown[][]];
      check += rows.length;
    })
    .add('dj toDicts() with <blob> decode', async () => {
      const rows = await Frame.toDicts();
      check += (rows[0]!.data as dj.NDArray).data.length;
    })
    .add('dj toArrays("data") with <blob> decode', async () => {
      const col = (await Frame.toArrays('data')) as unknown[];
      check += col.length;
    });
  await bench.run();
  const mbps = (name: string) => mb / ((bench.tasks.find((t) => t.name === name)!.result as { latency: { mean: number } }).latency.mean / 1000);
  const base = mbps('raw mysql2 SELECT of the blob bytes');
  console.log(machine(`blob backend: ${dj.blob.backend}; ${ROWS} rows, ${mb.toFixed(0)} MB stored`));
  console.table(
    bench.tasks.map((t) => ({ case: t.name, 'MB/s': Math.round(mbps(t.name)), 'vs raw driver': (mbps(t.name) / base).toFixed(2) })),
  );
  console.log('target: ≥ 400 MB/s (DataJoint Python 2.3: 73 MB/s; its driver alone 189 MB/s)', check > 0 ? '' : '?');
  await raw.end();
  await schema.drop({ prompt: false });
}
run(main);
