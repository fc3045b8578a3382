// Piscina worker for populate({ processes: N }). Plain JS with no import of datajoint itself:
// it imports the user's table module (which imports datajoint and registers its schemas on a
// per-thread global registry), finds the table class, and lets the class run the task, so the
// code that runs is the user's own copy of the library.
import { loadModule } from './load-module.mjs';

const loaded = new Map();

// Marks this thread as a populate worker before any table module loads: a populate() call
// evaluated by the module (e.g. at its top level) then returns at once instead of starting a
// populate, and a pool, of its own in every thread.
globalThis[Symbol.for('datajoint.populateWorker')] = true;

// Errors of loading the table module carry this prefix: populate stops on them at once (see
// moduleLoadError in src/populate/pool-threads.ts) instead of treating them as a crashed make.
const MODULE_ERROR = '[datajoint:worker-module] ';
const moduleError = (message) => new Error(MODULE_ERROR + message);

// A TypeScript module compiled for the threads (task.load; src/populate/compile-module.ts) is
// plain JavaScript: no tsx. Its source maps point stack traces at the TypeScript lines.
function importModule(task) {
  if (!task.load) return loadModule(task.module, task.preload);
  process.setSourceMapsEnabled(true);
  return import(task.load);
}

async function tableClass(task) {
  if (!loaded.has(task.module)) loaded.set(task.module, importModule(task));
  try {
    await loaded.get(task.module);
  } catch (e) {
    const compiled = task.load ? ` (threads ran it compiled to JavaScript, ${task.load}; dj.config['populate.compile_typescript'] = false has them load it through tsx)` : '';
    throw moduleError(`importing ${task.module} failed: ${e instanceof Error ? e.message : String(e)}${compiled}`);
  }
  const registry = globalThis[Symbol.for('datajoint.registry')];
  if (!registry) throw moduleError(`Module ${task.module} did not load datajoint (no schema registry in this worker)`);
  const cls = registry.findTable(task.database, task.className);
  if (!cls) throw moduleError(`Table ${task.className} of schema ${task.database} is not defined by ${task.module}: worker threads import that module only, so the table class and its schema.add must be in it or in a module it imports`);
  return cls;
}

export default async function populateTask(task) {
  // The parent's settings, for a module that connects when imported (read by datajoint's config).
  globalThis[Symbol.for('datajoint.workerConfig')] ??= task.config;
  const cls = await tableClass(task);
  const { value, transferList } = await cls._runWorkerTask(task);
  if (!transferList || transferList.length === 0) return value;
  // piscina's index is loaded only for results with buffers to move (~30 ms less per thread start).
  const { move, transferableSymbol, valueSymbol } = await import('piscina');
  return move({ [transferableSymbol]: transferList, [valueSymbol]: value });
}
