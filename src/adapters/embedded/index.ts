/**
 * The embedded backend: a private PostgreSQL server that the library installs from npm and
 * runs itself (server.ts), used through the PostgreSQL dialect and driver. The server starts
 * on the first connection of any thread or process and stays up, shared, until stopped; its
 * connections follow it when another process stops or restarts it (following.ts).
 */
import { config } from '../../config.js';
import { LostConnectionError } from '../../errors.js';
import type { Adapter, Backend, ConnectOptions } from '../adapter.js';
import { postgresDialect } from '../postgres/dialect.js';
import { following } from './following.js';

/** The data directory the settings name (API.md §1: beside datajoint.json, else the working directory). */
export async function embeddedDir(configured?: string | null): Promise<string> {
  const { resolveEmbeddedDir } = await import('./server.js');
  return resolveEmbeddedDir(configured ?? config.get<string | null>('database.embedded.dir'), config.filePath, process.cwd());
}

async function connectOnce(opts: ConnectOptions): Promise<Adapter> {
  const [{ ensureEmbeddedServer }, { createPostgresAdapter }] = await Promise.all([import('./server.js'), import('../postgres/driver.js')]);
  const server = await ensureEmbeddedServer({ dir: await embeddedDir(opts.embeddedDir) });
  const login = opts.user ? { user: opts.user, password: opts.password } : { user: server.user, password: server.password };
  const adapter = createPostgresAdapter({ ...opts, ...login, host: server.host, port: server.port, database: server.database });
  // Connect now: a failure here means the server went away (or moved) since it was checked.
  await adapter.pooled().query('SELECT 1');
  return { ...adapter, backend: 'embedded' };
}

/** Connect, looking the server up again once if it went away (or moved) since it was checked. */
async function connect(opts: ConnectOptions): Promise<Adapter> {
  try {
    return await connectOnce(opts);
  } catch (err) {
    // Another process may have restarted the server on another port: look again, once.
    if (err instanceof LostConnectionError) return connectOnce(opts);
    throw err;
  }
}

export const embedded: Backend = {
  name: 'embedded',
  dialect: postgresDialect,
  defaultPort: null,
  async connect(opts) {
    return following(await connect(opts), () => connect(opts));
  },
};
