/**
 * The trivial make of bench/runtime.bench.ts done with the raw driver on bare worker threads:
 * per key, SELECT x and INSERT 2x, 64 keys per transaction, the keys split between the threads.
 * Timed with threads already warm (their driver code compiled by earlier runs) and from a cold
 * start (new threads: start-up, connection and the first run's compilation included). What two
 * threads gain here is what this machine allows the trivial make without any library: the
 * ceiling populate's first-call and kept-pool ratios are read against.
 * Plain JavaScript: the threads load only the driver.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/** A client with `query(sql, params)` → rows as objects, and `end()`. */
async function connect(backend, cfg) {
  if (backend === 'mysql') {
    const mysql = (await import('mysql2/promise')).default;
    const c = await mysql.createConnection({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password });
    return { query: async (sql, params) => (await c.query(sql, params))[0], end: () => c.end() };
  }
  const pg = (await import('pg')).default;
  const c = new pg.Client(cfg);
  await c.connect();
  const numbered = (sql) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return { query: async (sql, params) => (await c.query(numbered(sql), params)).rows, end: () => c.end() };
}

if (!isMainThread) {
  const { backend, cfg, source, target } = workerData;
  const c = await connect(backend, cfg);
  parentPort.on('message', async ({ from, to }) => {
    const t0 = performance.now();
    for (let g = from; g < to; g += 64) {
      await c.query('BEGIN');
      for (let i = g; i < Math.min(to, g + 64); i++) {
        const rows = await c.query(`SELECT x FROM ${source} WHERE src_id = ?`, [i]);
        await c.query(`INSERT INTO ${target} (src_id, y) VALUES (?, ?)`, [i, Number(rows[0].x) * 2]);
      }
      await c.query('COMMIT');
    }
    parentPort.postMessage(performance.now() - t0);
  });
  parentPort.postMessage('ready');
}

/**
 * `source`: the trivial case's Src (src_id, x), `target`: a table (src_id, y) emptied before each
 * run; both full names as the backend quotes them. `cfg`: the raw driver's connection settings.
 */
export async function rawTrivial(backend, cfg, keys, source, target) {
  const admin = await connect(backend, cfg);
  const start = async (n) => {
    const threads = Array.from({ length: n }, () => new Worker(new URL(import.meta.url), { workerData: { backend, cfg, source, target } }));
    await Promise.all(threads.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
    return threads;
  };
  const ask = (w, from, to) => new Promise((resolve) => w.once('message', resolve).postMessage({ from, to }));
  /** Seconds to make every key on `threads`, each taking an equal share. */
  const run = async (threads) => {
    await admin.query(`DELETE FROM ${target}`);
    const t0 = performance.now();
    const share = Math.ceil(keys / threads.length);
    await Promise.all(threads.map((w, i) => ask(w, i * share, Math.min(keys, (i + 1) * share))));
    return (performance.now() - t0) / 1000;
  };
  return {
    /** Seconds on `n` warm threads (started once, warmed by four runs). */
    async warm(n) {
      this.kept ??= {};
      if (!this.kept[n]) {
        this.kept[n] = await start(n);
        for (let i = 0; i < 4; i++) await run(this.kept[n]);
      }
      return run(this.kept[n]);
    },
    /** Seconds for new threads to start, connect and make every key once. */
    async cold(n) {
      const t0 = performance.now();
      const threads = await start(n);
      await run(threads);
      const s = (performance.now() - t0) / 1000;
      await Promise.all(threads.map((w) => w.terminate()));
      return s;
    },
    async close() {
      for (const threads of Object.values(this.kept ?? {})) await Promise.all(threads.map((w) => w.terminate()));
      await admin.end();
    },
  };
}
