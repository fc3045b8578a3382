/**
 * Backends by name. Each entry's dialect is pure text and loads eagerly (table names and SQL
 * text need it synchronously); its driver (mysql2, pg, the embedded server) loads only when a
 * connection is first used, so `import 'datajoint'` loads no driver.
 */
import { BackendUnavailableError, DataJointError } from '../errors.js';
import type { Backend, BackendName } from './adapter.js';
import { mysql } from './mysql/index.js';
import { postgres } from './postgres/index.js';
import { embedded } from './embedded/index.js';

const BACKENDS: Partial<Record<BackendName, Backend>> = { mysql, postgresql: postgres, embedded };

export const BACKEND_NAMES: readonly BackendName[] = ['mysql', 'postgresql', 'embedded'];

export function isBackendName(x: unknown): x is BackendName {
  return typeof x === 'string' && (BACKEND_NAMES as readonly string[]).includes(x);
}

/** The registry entry of a backend; a clear error for an unknown or unavailable one. */
export function backend(name: string): Backend {
  if (!isBackendName(name)) throw new DataJointError(`Unknown database.backend '${name}': use one of ${BACKEND_NAMES.join(', ')}`);
  const b = BACKENDS[name];
  if (!b) throw new BackendUnavailableError(`The ${name} backend is not available in this build; use database.backend 'mysql'`);
  return b;
}
