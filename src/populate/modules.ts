/**
 * The populate engine as seen from src/table/tiers.ts. tiers.ts and the engine import each
 * other; going through this module keeps every use of the engine at call time, after all
 * modules have finished loading.
 */
import { populate, populateKeys } from './populate.js';
import { Jobs } from './jobs.js';
import { ParentJoin } from './key-source.js';
import { collectTransferables } from './transfer.js';

const modules = { populate, populateKeys, Jobs, ParentJoin, collectTransferables };

export function populateModules(): typeof modules {
  return modules;
}
