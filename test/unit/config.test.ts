// Configuration without a server: how `set` meets the environment and `override` scopes, and
// where the port comes from when the host names one (as DataJoint Python resolves them).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config, config } from '../../src/config.js';
import { resolveSettings } from '../../src/connection/settings.js';

describe('config.set', () => {
  it('a secret that cannot be read (a folder where its file should be) is said as such, not later as a missing setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'djcfg-secret-'));
    mkdirSync(join(dir, '.secrets', 'stores.cold.secret_key'), { recursive: true });
    writeFileSync(join(dir, '.secrets', 'stores.cold.access_key'), 'KEY');
    const c = new Config({ cwd: dir, env: {} }); // scripts that never use the setting still run
    expect(c.get('display.limit')).toBeGreaterThan(0);
    expect(() => c.get('stores.cold.secret_key')).toThrow(/Cannot read the secret .*stores\.cold\.secret_key.*folder/);
    expect(() => c.get('stores')).toThrow(/Cannot read the secret/);
  });

  it("a store's settings set as an object replace the ones code set before (a left-out setting does not stay)", () => {
    const c = new Config({ cwd: tmpdir(), env: {} });
    c.set('stores', { default: 'main', main: { protocol: 'file', location: '/a', subfolding: [2, 2], partition_pattern: '{id}' } });
    c.set('stores.main', { protocol: 'file', location: '/b' });
    expect(c.get('stores.main')).toEqual({ protocol: 'file', location: '/b' });
    expect(c.get('stores.default')).toBe('main');
    // One setting at a time still changes only that setting.
    c.set('stores.main.subfolding', [1]);
    expect(c.get('stores.main')).toEqual({ protocol: 'file', location: '/b', subfolding: [1] });
  });

  it('setting an object keeps the environment’s other keys under the same branch', () => {
    const c = new Config({ cwd: tmpdir(), env: { DJ_PASS: 'envpass', DJ_USER: 'envuser' } });
    c.set('database', { host: 'h1', user: 'codeuser' });
    expect(c.get('database.host')).toBe('h1');
    expect(c.get('database.user')).toBe('codeuser'); // the key set in code beats the environment
    expect(c.get('database.password')).toBe('envpass'); // the one not set stays the environment's
    expect(c.get('database')).toMatchObject({ host: 'h1', user: 'codeuser', password: 'envpass' });
  });

  it('inside an override of the same key, changes the scope’s value until the scope ends', async () => {
    const c = new Config({ cwd: tmpdir(), env: {} });
    c.set('display.limit', 3);
    const seen = await c.override({ 'display.limit': 99 }, async () => {
      c.set('display.limit', 5);
      c.set('display.width', 40); // not overridden: set for good
      await new Promise((r) => setTimeout(r, 1));
      return [c.get('display.limit'), c.get('display.width')];
    });
    expect(seen).toEqual([5, 40]);
    expect(c.get('display.limit')).toBe(3);
    expect(c.get('display.width')).toBe(40);
  });

  it('in nested scopes, changes the innermost scope that set the key', async () => {
    const c = new Config({ cwd: tmpdir(), env: {} });
    const seen = await c.override({ 'jobs.stale_timeout': 10 }, async () => {
      const inner = await c.override({ 'jobs.default_priority': 1 }, () => {
        c.set('jobs.stale_timeout', 20);
        c.set('jobs.default_priority', 2);
        return [c.get('jobs.stale_timeout'), c.get('jobs.default_priority')];
      });
      return [...inner, c.get('jobs.stale_timeout'), c.get('jobs.default_priority')];
    });
    expect(seen).toEqual([20, 2, 20, 5]);
    expect(c.get('jobs.stale_timeout')).toBe(3600);
  });
});

describe('config values', () => {
  it('a boolean from the environment is true or false, anything else refused (DJ_SAFEMODE=nope turned safemode off)', () => {
    for (const [raw, v] of [['true', true], ['1', true], ['Yes', true], ['off', false], ['FALSE', false], ['0', false]] as const)
      expect(new Config({ cwd: tmpdir(), env: { DJ_SAFEMODE: raw } }).get('safemode')).toBe(v);
    for (const raw of ['nope', 'tru', 'enabled']) expect(() => new Config({ cwd: tmpdir(), env: { DJ_SAFEMODE: raw } })).toThrow(/safemode must be true or false/);
  });

  it('every jobs.* and populate.* setting is read from its DJ_ variable, as DataJoint Python reads DJ_JOBS_*', () => {
    const c = new Config({
      cwd: tmpdir(),
      env: { DJ_JOBS_VERSION_METHOD: 'git', DJ_JOBS_ALLOW_NEW_PK_FIELDS_IN_COMPUTED_TABLES: 'true', DJ_JOBS_STALE_TIMEOUT: '60', DJ_POPULATE_GRACE_PERIOD: '3' },
    });
    expect(c.get('jobs.version_method')).toBe('git');
    expect(c.get('jobs.allow_new_pk_fields_in_computed_tables')).toBe(true);
    expect(c.get('jobs.stale_timeout')).toBe(60);
    expect(c.get('populate.grace_period')).toBe(3);
  });

  it('set refuses a value of the wrong type for a numeric or boolean setting', () => {
    const c = new Config({ cwd: tmpdir(), env: {} });
    expect(() => c.set('display.limit', 'x')).toThrow(/display.limit must be a number, got "x"/);
    expect(() => c.set('display.limit', Number.NaN)).toThrow(/must be a number, got NaN/);
    expect(() => c.set('safemode', 'false')).toThrow(/safemode must be a boolean/);
    expect(() => c.set('display', { limit: 'x' })).toThrow(/display.limit must be a number/);
    c.set('display.limit', 30);
    c.set('filepath_checksum_size_limit', null); // null: no limit
    expect([c.get('display.limit'), c.get('filepath_checksum_size_limit')]).toEqual([30, null]);
  });

  it('a group of settings comes with its defaults (get("jobs"), get("display"))', () => {
    const c = new Config({ cwd: tmpdir(), env: { DJ_JOBS_STALE_TIMEOUT: '60' } });
    expect(c.get('jobs')).toMatchObject({ auto_refresh: true, keep_completed: false, stale_timeout: 60, default_priority: 5 });
    c.set('display.limit', 3);
    expect(c.get('display')).toMatchObject({ limit: 3, width: 14, show_tuple_count: true });
    expect(c.get('database')).toMatchObject({ user: 'root', pool_size: 4, reconnect: true });
  });
});

describe('connection settings', () => {
  const withConfig = async <T>(values: Record<string, unknown>, fn: () => T) => config.override(values as never, fn);

  it('a port in the host name beats the port setting (DataJoint Python: host:port wins)', async () => {
    const s = await withConfig({ 'database.host': '127.0.0.1:3316', 'database.port': 1111, 'database.backend': 'mysql' }, () => resolveSettings());
    expect(s.connect).toMatchObject({ host: '127.0.0.1', port: 3316 });
    const pg = await withConfig({ 'database.host': 'db.example:6543', 'database.port': 1111, 'database.backend': 'postgresql' }, () => resolveSettings());
    expect(pg.connect).toMatchObject({ host: 'db.example', port: 6543 });
  });

  it('takes the port setting when the host names none, else the backend’s default', async () => {
    expect((await withConfig({ 'database.host': 'h', 'database.port': 1111, 'database.backend': 'mysql' }, () => resolveSettings())).connect.port).toBe(1111);
    expect((await withConfig({ 'database.host': 'h', 'database.port': null, 'database.backend': 'mysql' }, () => resolveSettings())).connect.port).toBe(3306);
  });

  it('a port in DJ_HOST beats a port from datajoint.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'djcfg-'));
    const sub = join(root, 'sub');
    mkdirSync(sub);
    writeFileSync(join(root, 'datajoint.json'), JSON.stringify({ database: { port: 1111 } }));
    const c = new Config({ cwd: sub, env: { DJ_HOST: '127.0.0.1:3306' } });
    expect(c.get('database.port')).toBe(1111);
    expect(c.get('database.host')).toBe('127.0.0.1:3306');
  });
});
