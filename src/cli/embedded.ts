/**
 * `dj embedded status|start|stop` (API.md §1): look after the embedded PostgreSQL server from a
 * shell. Prints readable lines (or one JSON object with --json) and returns the exit code:
 * 0 on success; for `status`, 3 when the server is not running (pg_ctl's convention); 1 on error.
 * The password is never printed: it stays in the 0600 file server.json of the directory.
 */
import { join } from 'node:path';
import { DataJointError } from '../errors.js';
import { config } from '../config.js';
import { embeddedServerStatus, ensureEmbeddedServer, resolveEmbeddedDir, stopEmbeddedServer } from '../adapters/embedded/server.js';
import { RECORD_FILE } from '../adapters/embedded/record.js';

export type EmbeddedAction = 'status' | 'start' | 'stop';

export interface EmbeddedCommandOptions {
  /** The server's directory; default `database.embedded.dir`, else `.datajoint/embedded` (API.md §1). */
  dir?: string;
  /** Print one JSON object instead of text lines. */
  json?: boolean;
}

const NOT_RUNNING = 3;

function print(json: boolean, obj: object, lines: string[]): void {
  console.log(json ? JSON.stringify(obj) : lines.join('\n'));
}

export async function runEmbeddedCommand(action: EmbeddedAction, opts: EmbeddedCommandOptions = {}): Promise<number> {
  const json = opts.json ?? false;
  const cwd = process.cwd();
  const configured = config.get('database.embedded.dir');
  const dir = opts.dir ? resolveEmbeddedDir(opts.dir, null, cwd) : resolveEmbeddedDir(typeof configured === 'string' ? configured : null, config.filePath, cwd);
  try {
    switch (action) {
      case 'status': {
        const s = await embeddedServerStatus(dir);
        const head = s.running
          ? `embedded PostgreSQL ${s.version}: running (pid ${s.pid}, 127.0.0.1:${s.port}${s.startedAt ? `, since ${s.startedAt.toISOString()}` : ''})`
          : 'embedded PostgreSQL: not running';
        print(json, s, [head, `  dir: ${dir}`]);
        return s.running ? 0 : NOT_RUNNING;
      }
      case 'start': {
        const { password: _secret, ...info } = await ensureEmbeddedServer({ dir });
        print(json, info, [
          `embedded PostgreSQL ${info.version}: ${info.startedHere ? 'started' : 'already running'} (pid ${info.pid}, ${info.host}:${info.port})`,
          `  dir: ${dir}`,
          `  user ${info.user}, database ${info.database}; password in ${join(dir, RECORD_FILE)}`,
        ]);
        return 0;
      }
      case 'stop': {
        const stopped = await stopEmbeddedServer(dir);
        print(json, { stopped, dir }, [`embedded PostgreSQL: ${stopped ? 'stopped' : 'was not running'}`, `  dir: ${dir}`]);
        return 0;
      }
      default:
        throw new DataJointError(`Unknown action "${String(action)}": use status, start or stop`);
    }
  } catch (err) {
    console.error(`dj embedded ${action}: ${(err as Error).message}`);
    return 1;
  }
}
