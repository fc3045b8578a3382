// One populate call of the trivial table (bench/runtime-pipeline-js.mjs: compiled JavaScript
// importing the built package) in a process of its own, as a user's script makes it once: import
// the tables, connect, populate. Prints the populate call's seconds as JSON. bench/runtime.bench.ts
// runs it with processes 1 and 2 in turns: a first call where neither thread's code ran before.
import { Trivial, closeAll } from './runtime-pipeline-js.mjs';

const processes = Number(process.argv[2] ?? 1);
await Trivial.deleteQuick(); // connects; every call starts from an empty table
const t0 = performance.now();
await Trivial.populate({ processes });
const seconds = (performance.now() - t0) / 1000;
const made = await Trivial.count();
await closeAll();
console.log(JSON.stringify({ seconds, made }));
