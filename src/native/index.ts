/**
 * Loader of the optional native addon (`native/datajoint.node`, built from Rust by
 * `npm run build:native`). When it is missing or does not load, everything falls back to the
 * pure-TypeScript implementations and one warning says so.
 *
 * Environment:
 * - `DJ_NATIVE=0`: do not load the addon (pure TypeScript, no warning).
 * - `DJ_NATIVE=1`: the addon is required; failing to load it throws at import.
 * - `DJ_NATIVE_PATH=/path/to/addon.node`: load this file instead of the default locations.
 *
 * The addon keeps no per-process state, so it also loads inside `worker_threads` workers.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

/** Anything the addon accepts as bytes (viewed, never copied). */
export type Bytes = ArrayBufferView | ArrayBuffer;

/** Streaming MD5 state of the addon (`new native.Md5()`). */
export interface NativeMd5 {
  /** Feed more bytes; returns `this`. Throws once `digest()` was called. */
  update(data: Bytes): this;
  /** The 16-byte digest; may be called once. */
  digest(): Buffer;
}

/** The functions of the native addon. All are synchronous. */
export interface NativeAddon {
  /** Crate version of the built addon. */
  readonly version: string;
  /**
   * Which MD5 compression function was compiled in: 'rust' (native/src/md5core.rs, as fast as
   * OpenSSL's); 'asm' only in older builds (the md-5 crate's assembly, ~20% slower).
   */
  readonly md5Impl: 'asm' | 'rust';
  /** MD5 digest (16 bytes). */
  md5(data: Bytes): Buffer;
  /**
   * MD5 digests of every buffer, 16 bytes per input, in order: in one call, on all cores when
   * there is enough work (≥ 256 KB in total), on the calling thread otherwise.
   */
  md5Many(buffers: readonly Bytes[]): Buffer;
  /** Streaming MD5. */
  readonly Md5: new () => NativeMd5;
  /**
   * zlib (RFC 1950) stream at exactly miniz level `level` (0..9, default 6). Large inputs are
   * compressed as 1 MiB chunks in parallel; the result is still one ordinary zlib stream.
   */
  deflate(data: Bytes, level?: number): Buffer;
  /**
   * Adaptive zlib stream: each 1 MiB chunk is probed, incompressible chunks are stored,
   * nearly constant ones use level 1, others `level` (default 2). Returns `null` when the
   * stream would not be shorter than `limit` bytes (default: no limit). An array of views is
   * compressed as their concatenation, without concatenating them.
   */
  deflateAdaptive(data: Bytes | readonly Bytes[], level?: number, limit?: number): Buffer | null;
  /**
   * Inflate a zlib stream that must decompress to exactly `size` bytes, with nothing after it;
   * throws an Error with `code` 'DJ_ZLIB_DATA' (corrupt, or trailing bytes), 'DJ_ZLIB_SIZE'
   * (other length) or 'DJ_ZLIB_NOMEM' (the output could not be allocated) otherwise. Memory
   * is committed only as the stream really produces output, so a wrong `size` costs nothing.
   * With `offset > 0` the result is a Uint8Array that starts `offset` bytes into a fresh
   * (allocator-aligned) ArrayBuffer.
   */
  inflate(data: Bytes, size: number, offset?: number): Buffer | Uint8Array;
  /** C-ordered bytes of an array of `shape` (elements of `itemsize` bytes) → F-ordered bytes. */
  reverseAxes(src: Bytes, dst: Bytes, shape: readonly number[], itemsize: number): void;
  /** Interleaved complex (re, im, ...) → planar (all re, then all im); `itemsize` 4 or 8. */
  splitComplex(src: Bytes, dst: Bytes, itemsize: number): void;
  /** Planar complex → interleaved; inverse of `splitComplex`. */
  joinComplex(src: Bytes, dst: Bytes, itemsize: number): void;
}

const REQUIRED: readonly (keyof NativeAddon)[] = [
  'md5',
  'md5Many',
  'Md5',
  'deflate',
  'deflateAdaptive',
  'inflate',
  'reverseAxes',
  'splitComplex',
  'joinComplex',
];

/** Where a built addon may be: next to the sources (src/native → native/) or the build (dist/src/native → native/). */
function candidates(): string[] {
  const fromEnv = process.env.DJ_NATIVE_PATH;
  if (fromEnv) return [path.resolve(fromEnv)];
  const here = path.dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  for (let dir = here, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    out.push(path.join(dir, 'native', 'datajoint.node'));
  }
  return out;
}

/**
 * The command that builds the addon where this copy of the package is: `node native/build.mjs`
 * in the repository, `node node_modules/datajoint/native/build.mjs` in an app that installed it
 * (`npm run build:native` exists only in the repository).
 */
function buildCommand(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const script = path.join(dir, 'native', 'build.mjs');
    if (existsSync(script)) {
      const rel = path.relative(process.cwd(), script);
      return `node ${rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : script}`;
    }
  }
  return 'npm run build:native';
}

function load(): { addon: NativeAddon | null; error: Error | null } {
  if (process.env.DJ_NATIVE === '0') {
    return { addon: null, error: new Error('disabled by DJ_NATIVE=0') };
  }
  const files = candidates();
  const file = files.find((f) => existsSync(f));
  if (!file) {
    return {
      addon: null,
      error: new Error(`native addon not built (looked for ${files.join(', ')}; build it with \`${buildCommand()}\`, which needs a Rust toolchain)`),
    };
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(file) as Partial<NativeAddon>;
    const missing = REQUIRED.filter((k) => typeof addon[k] !== 'function');
    if (missing.length > 0) {
      throw new Error(`${file} lacks ${missing.join(', ')} (stale build? run \`${buildCommand()}\`)`);
    }
    return { addon: addon as NativeAddon, error: null };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { addon: null, error: new Error(`cannot load native addon ${file}: ${e.message}`, { cause: e }) };
  }
}

const loaded = load();

if (loaded.addon === null && process.env.DJ_NATIVE === '1') {
  throw loaded.error ?? new Error('native addon unavailable');
}

/** The native addon, or `null` when the pure-TypeScript path is used. */
export const native: NativeAddon | null = loaded.addon;

/** Which implementation is active. */
export const backend: 'native' | 'typescript' = native ? 'native' : 'typescript';

/** Why the addon is not used (`null` when it is). */
export const nativeLoadError: Error | null = loaded.error;

// One line per process: only the main thread says it (workers load the same file and would
// only repeat it), not at all when TypeScript was chosen explicitly or warnings are off. Written
// directly: a first process warning brings a second line (Node's --trace-warnings hint).
const warningsOff = process.env.NODE_NO_WARNINGS === '1' || process.execArgv.includes('--no-warnings');
if (native === null && process.env.DJ_NATIVE !== '0' && isMainThread && !warningsOff) {
  process.stderr.write(`datajoint: ${nativeLoadError?.message}; using the pure-TypeScript implementation (DJ_NATIVE=0 silences this)\n`);
}
