// Piscina worker for populate({ processes: N }). Plain JS with no import of datajoint itself:
// it imports the user's table module (which imports datajoint and registers its schemas on a
// per-thread global registry), finds the table class, and lets the class run the task, so the
// code that runs is the user's own copy of the library.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { loadModule } from './load-module.mjs';

const loaded = new Map();

// Marks this thread as a populate worker before any table module loads: a populate() call
// evaluated by the module (e.g. at its top level) then returns at once instead of starting a
// populate, and a pool, of its own in every thread.
globalThis[Symbol.for('datajoint.populateWorker')] = true;

export default async function populateTask(task) {
  // The parent's settings, for a module that connects when imported (read by datajoint's config).
  globalThis[Symbol.for('datajoint.workerConfig')] ??= task.config;
  if (!loaded.has(task.module)) loaded.set(task.module, loadModule(task.module));
  await loaded.get(task.module);
  const registry = globalThis[Symbol.for('datajoint.registry')];
  if (!registry) throw new Error(`Module ${task.module} did not load datajoint (no schema registry in this worker)`);
  const cls = registry.findTable(task.database, task.className);
  if (!cls) throw new Error(`Table ${task.className} of schema ${task.database} is not defined by ${task.module}`);
  const { value, transferList } = await cls._runWorkerTask(task);
  if (!transferList || transferList.length === 0) return value;
  return move({ [transferableSymbol]: transferList, [valueSymbol]: value });
}
