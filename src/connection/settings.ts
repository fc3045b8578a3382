/**
 * Connection settings from options and configuration, resolved once per Connection: which
 * backend, where, as whom. The one place that decides the default backend (embedded when no
 * host is configured, API.md §1).
 */
import { config } from '../config.js';
import type { BackendName, ConnectOptions } from '../adapters/adapter.js';
import { backend as backendEntry } from '../adapters/registry.js';

export interface ConnectionOptions extends Partial<ConnectOptions> {
  /** `'mysql'`, `'postgresql'` or `'embedded'`; default: `database.backend`, else embedded when no host is configured, else mysql. */
  backend?: BackendName;
  /** Re-issue a read once when the connection was lost outside a transaction (default `database.reconnect`). */
  reconnect?: boolean;
}

export interface ResolvedSettings {
  backend: BackendName;
  connect: ConnectOptions;
  reconnect: boolean;
}

export function resolveSettings(opts: ConnectionOptions = {}): ResolvedSettings {
  let host = opts.host ?? config.get<string | null>('database.host') ?? null;
  const configured = (opts.backend ?? config.get<string | null>('database.backend')) as BackendName | null;
  const backend: BackendName = configured ?? (host === null ? 'embedded' : 'mysql');
  let port = opts.port ?? config.get<number | null>('database.port') ?? undefined;
  const m = host !== null ? /^(.*):(\d+)$/.exec(host) : null;
  if (m && !host!.startsWith('[')) {
    // As in DataJoint Python, a port in the host name beats the port setting, wherever each came from.
    host = m[1]!;
    port = Number(m[2]);
  }
  const entry = backendEntry(backend);
  return {
    backend,
    reconnect: opts.reconnect ?? Boolean(config.get('database.reconnect')),
    connect: {
      host: host ?? 'localhost',
      port: port ?? entry.defaultPort ?? 0,
      // The embedded server has its own superuser: only credentials given explicitly apply to it.
      user: opts.user ?? (backend === 'embedded' ? '' : String(config.get('database.user'))),
      password: opts.password ?? (backend === 'embedded' ? '' : String(config.get('database.password'))),
      database: opts.database ?? String(config.get('database.name')),
      poolSize: opts.poolSize ?? Number(config.get('database.pool_size')),
      useTls: opts.useTls ?? Boolean(config.get('database.use_tls')),
      acquireTimeout: opts.acquireTimeout ?? Number(config.get('database.acquire_timeout')) * 1000,
      embeddedDir: opts.embeddedDir ?? (config.get<string | null>('database.embedded.dir') ?? undefined),
    },
  };
}
