#!/usr/bin/env node
// Build the optional native addon (native/datajoint.node) with @napi-rs/cli.
//
//   npm run build:native            # release build
//   node native/build.mjs --debug   # debug build
//
// Crate source. Normally cargo fetches from crates.io. Where crates.io is unreachable but
// Debian's vendored crates are installed (apt-get install librust-md-5-dev librust-flate2-dev
// librust-rayon-dev librust-miniz-oxide-dev librust-md5-asm-dev), the build runs offline
// against /usr/share/cargo/registry instead. The choice is made here, not in a committed
// .cargo/config.toml:
//   DJ_CARGO_SOURCE=auto (default) | crates-io | vendored
//   DJ_CARGO_VENDOR_DIR=/usr/share/cargo/registry (default)
// `auto` uses crates.io when it answers within a few seconds (or when the vendored crates are
// missing), the vendored directory otherwise.
//
// Without cargo (or with DJ_NATIVE=0, or on Windows) this prints one line and exits 0: the
// package then runs on its pure-TypeScript implementation.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const outFile = path.join(here, 'datajoint.node');
const release = !process.argv.includes('--debug');
const say = (msg) => console.log(`[build:native] ${msg}`);

function skip(reason) {
  say(`${reason}; skipping the native addon (datajoint uses its pure-TypeScript implementation).`);
  process.exit(0);
}

if (process.env.DJ_NATIVE === '0') skip('DJ_NATIVE=0');
if (process.platform === 'win32') skip('the native addon is not supported on Windows yet');

const cargo = process.env.CARGO || 'cargo';
const probe = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) skip('Rust toolchain not found (no `cargo` on PATH)');

// --- crate source -------------------------------------------------------------------------

const vendorDir = process.env.DJ_CARGO_VENDOR_DIR || '/usr/share/cargo/registry';
/** Crates (directory-name prefixes) the vendored directory must provide. */
const needed = ['md-', 'miniz_oxide-0.6', 'rayon-1.', 'rayon-core-', 'digest-0.10'];

function vendoredAvailable() {
  try {
    const names = readdirSync(vendorDir);
    return needed.every((p) => names.some((n) => n.startsWith(p)));
  } catch {
    return false;
  }
}

async function cratesIoReachable() {
  try {
    const res = await fetch('https://index.crates.io/config.json', { signal: AbortSignal.timeout(4000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function chooseSource() {
  const wanted = process.env.DJ_CARGO_SOURCE || 'auto';
  if (wanted === 'crates-io') return 'crates-io';
  if (wanted === 'vendored') {
    if (!vendoredAvailable()) {
      console.error(`[build:native] DJ_CARGO_SOURCE=vendored but ${vendorDir} lacks the needed crates`);
      process.exit(1);
    }
    return 'vendored';
  }
  if (wanted !== 'auto') {
    console.error(`[build:native] DJ_CARGO_SOURCE must be auto, crates-io or vendored (got ${wanted})`);
    process.exit(1);
  }
  if (!vendoredAvailable()) return 'crates-io';
  return (await cratesIoReachable()) ? 'crates-io' : 'vendored';
}

const source = await chooseSource();
const cargoArgs =
  source === 'vendored'
    ? [
        '--offline',
        '--config',
        'source.crates-io.replace-with="dj-vendored"',
        '--config',
        `source.dj-vendored.directory=${JSON.stringify(vendorDir)}`,
      ]
    : [];

// Cargo.lock is not committed: the vendored versions (and their checksums) differ from
// crates.io's, so a lock resolved for one source does not build with the other. Each source
// keeps its own lock under target/ (restored before and saved after the build), so repeated
// builds resolve the same versions and no stray Cargo.lock is left in the repository root.
const targetDir = path.join(root, 'target');
const lock = path.join(root, 'Cargo.lock');
const savedLock = path.join(targetDir, `Cargo.lock.${source}`);
mkdirSync(targetDir, { recursive: true });
if (existsSync(savedLock)) copyFileSync(savedLock, lock);
else if (existsSync(lock)) rmSync(lock);
function stashLock() {
  if (existsSync(lock)) {
    copyFileSync(lock, savedLock);
    rmSync(lock);
  }
}

say(`building (${release ? 'release' : 'debug'}) with crates from ${source === 'vendored' ? vendorDir : 'crates.io'}`);

// --- build --------------------------------------------------------------------------------

const require = createRequire(import.meta.url);
let napiCli = null;
try {
  napiCli = require.resolve('@napi-rs/cli/package.json');
} catch {
  // devDependencies not installed: fall back to plain cargo below.
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status === 0;
}

let ok;
if (napiCli) {
  // @napi-rs/cli 2.x (3.x pulls in packages whose lock entries npm cannot keep consistent, so
  // `npm ci` fails). It runs `cargo build <flags>` through a shell: quote each cargo argument.
  const cli = path.join(path.dirname(napiCli), 'scripts', 'index.js');
  const napiConfig = path.join(targetDir, 'napi.json');
  writeFileSync(napiConfig, JSON.stringify({ name: 'datajoint-native', napi: { name: 'datajoint' } }));
  // The CLI also runs `cargo metadata`, which takes no flags from us: so the vendored source is
  // given to every cargo call through a generated CARGO_HOME config (under target/, not committed).
  const env = { ...process.env };
  if (source === 'vendored') {
    const home = path.join(targetDir, 'cargo-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(
      path.join(home, 'config.toml'),
      `[source.crates-io]\nreplace-with = "dj-vendored"\n[source.dj-vendored]\ndirectory = ${JSON.stringify(vendorDir)}\n[net]\noffline = true\n`,
    );
    env.CARGO_HOME = home;
  }
  ok = run(process.execPath, [cli, 'build', 'native', ...(release ? ['--release'] : []), '--config', path.relative(root, napiConfig)], env);
} else {
  say('@napi-rs/cli not installed; running cargo directly');
  ok = run(cargo, ['build', '--lib', ...(release ? ['--release'] : []), ...cargoArgs]);
  if (ok) {
    const lib = { darwin: 'libdatajoint_native.dylib' }[process.platform] ?? 'libdatajoint_native.so';
    copyFileSync(path.join(targetDir, release ? 'release' : 'debug', lib), outFile);
  }
}
stashLock();
if (!ok) {
  console.error('[build:native] build failed (datajoint still works without the addon, on its TypeScript path)');
  process.exit(1);
}

// --- smoke test: the addon must load and expose what the loader expects --------------------

try {
  const addon = require(outFile);
  const d = addon.md5(Buffer.from('abc')).toString('hex');
  if (d !== '900150983cd24fb0d6963f7d28e17f72') throw new Error(`md5("abc") = ${d}`);
  say(`built ${path.relative(root, outFile)} (v${addon.version}, md5: ${addon.md5Impl})`);
} catch (err) {
  console.error(`[build:native] the built addon does not load: ${err.message}`);
  process.exit(1);
}
