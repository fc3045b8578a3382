/**
 * `dj.embedded`: the embedded PostgreSQL server of this machine's data directory (API.md §1),
 * for scripts; `npx dj embedded status|start|stop` does the same from a shell.
 */
import { closeAll } from './connection/connection.js';
import { embeddedDir } from './adapters/embedded/index.js';
import type { EmbeddedServerInfo, EmbeddedServerStatus } from './adapters/embedded/server.js';

export type { EmbeddedServerInfo, EmbeddedServerStatus };

/** Start the server (if it is not running) and return how to reach it. */
export async function start(opts: { dir?: string } = {}): Promise<EmbeddedServerInfo> {
  const { ensureEmbeddedServer } = await import('./adapters/embedded/server.js');
  return ensureEmbeddedServer({ dir: await embeddedDir(opts.dir) });
}

/** Stop the server, after closing this process's connections; false when it was not running. */
export async function stop(opts: { dir?: string } = {}): Promise<boolean> {
  await closeAll();
  const { stopEmbeddedServer } = await import('./adapters/embedded/server.js');
  return stopEmbeddedServer(await embeddedDir(opts.dir));
}

/** Whether the server runs, and where. */
export async function status(opts: { dir?: string } = {}): Promise<EmbeddedServerStatus> {
  const { embeddedServerStatus } = await import('./adapters/embedded/server.js');
  return embeddedServerStatus(await embeddedDir(opts.dir));
}
