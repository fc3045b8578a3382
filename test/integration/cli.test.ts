/**
 * The command line as users run it: `node --import tsx src/cli/main.ts ...` in a child process
 * with the DJ_* environment of the test project (API.md §8): help text of every command,
 * `dj status` (readable and --json, jobs read from existing jobs tables and none created),
 * `dj diagram`, `dj embedded status`, and `-s`/`-e`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dj, freshSchema, cleanup } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Run `dj args...`; the child inherits this process's DJ_* environment. */
function dj_(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let schema: dj.SchemaDecorator;
let tmp: string;

class Subject extends dj.Manual {
  static definition = `subject_id : int32`;
}
class Param extends dj.Lookup {
  static definition = `param : uint8`;
  static contents = [[1]];
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : uint16
  `;
  static Trial = class extends dj.Part {
    static definition = `
    -> master
    trial_idx : uint16
    `;
  };
}
class Recording extends dj.Imported {
  static definition = `
  -> Session
  `;
  async make(key: Record<string, unknown>) {
    await this.insert1(key);
  }
}
class Analysis extends dj.Computed {
  static definition = `
  -> Session
  -> Param
  ---
  value : float64
  `;
  async make(key: Record<string, unknown>) {
    if (key.session_idx === 3) throw new Error('session 3 fails on purpose');
    await this.insert1({ ...key, value: 1 });
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'dj-cli-'));
  schema = await freshSchema('cli');
  for (const T of [Subject, Param, Session, Recording, Analysis]) schema.add(T);
  await schema.declare();
  await Subject.insert1([1]);
  await Session.insert([[1, 1], [1, 2], [1, 3]]);
  await Session.Trial.insert([[1, 1, 1], [1, 1, 2]]);
  // Jobs: two succeed (their jobs are removed), one fails; then a new session is queued.
  await Analysis.populate({ reserveJobs: true, suppressErrors: true });
  await Session.insert1([1, 4]);
  await Analysis.jobs.refresh();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  await cleanup(schema);
});

describe('help', () => {
  it('describes every command', () => {
    const main = dj_('--help');
    expect(main.code).toBe(0);
    for (const cmd of ['populate', 'status', 'diagram', 'embedded']) expect(main.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(main.stdout).toContain('--eval');
    expect(main.stdout).toContain('Examples:');
    const status = dj_('status', '--help');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Usage: dj status [options] <db_name>');
    expect(status.stdout).toContain('--json');
    expect(dj_('diagram', '--help').stdout).toContain('-o, --output <file>');
    const populate = dj_('populate', '--help').stdout;
    expect(populate).toContain('Usage: dj populate [options] <module> [tables...]');
    for (const flag of ['--processes <n>', '--reserve-jobs', '--max-calls <n>', '--loop', '--idle <seconds>', 'SIGTERM', 'Examples:']) expect(populate).toContain(flag);
    expect(dj_('embedded', '--help').stdout).toContain('status | start | stop');
    const unknown = dj_('nonsense');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe("error: unknown command 'nonsense' (commands: populate, status, embedded, diagram)");
    // A mistyped command is named as one, with the command meant (it read "too many arguments").
    const typo = dj_('statsu', 'my_lab');
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim()).toBe("error: unknown command 'statsu' (Did you mean status?)");
  });
});

describe('dj status', () => {
  it('prints per table rows and jobs by status as JSON, parents first', () => {
    const r = dj_('status', schema.database, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const full = (T: { fullTableName: string }) => T.fullTableName;
    const none = { pending: 0, reserved: 0, success: 0, error: 0, ignore: 0 };
    const got = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(new Set(got.map((t) => t.table))).toEqual(new Set(['Subject', 'Param', 'Session', 'Session.Trial', 'Recording', 'Analysis']));
    const byName = Object.fromEntries(got.map((t) => [t.table, t]));
    expect(byName.Subject).toEqual({ table: 'Subject', fullTableName: full(Subject), tier: 'manual', rows: 1 });
    expect(byName.Param).toEqual({ table: 'Param', fullTableName: full(Param), tier: 'lookup', rows: 1 });
    expect(byName['Session.Trial']).toEqual({ table: 'Session.Trial', fullTableName: full(Session.Trial), tier: 'part', rows: 2 });
    // Never populated with reserveJobs: no jobs table, zero jobs (and status does not create one).
    expect(byName.Recording).toEqual({ table: 'Recording', fullTableName: full(Recording), tier: 'imported', rows: 0, jobs: none });
    expect(byName.Analysis).toEqual({ table: 'Analysis', fullTableName: full(Analysis), tier: 'computed', rows: 2, jobs: { ...none, pending: 1, error: 1 } });
    const order = got.map((t) => t.table);
    expect(order.indexOf('Subject')).toBeLessThan(order.indexOf('Session'));
    expect(order.indexOf('Session')).toBeLessThan(order.indexOf('Session.Trial'));
    expect(order.indexOf('Param')).toBeLessThan(order.indexOf('Analysis'));
  });

  it('creates no jobs table', async () => {
    const names = (await dj.conn().catalog.listTables(schema.database)).map((t) => t.name);
    expect(names).toContain('~~analysis');
    expect(names).not.toContain('~~recording');
  });

  it('prints a readable table', () => {
    const r = dj_('status', schema.database);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`schema ${schema.database}: 6 tables, 10 rows`);
    expect(lines[1]!.split(/\s+/)).toEqual(['table', 'tier', 'rows', 'pending', 'reserved', 'success', 'error', 'ignore']);
    expect(lines.find((l) => l.startsWith('Analysis '))!.split(/\s+/)).toEqual(['Analysis', 'computed', '2', '1', '0', '0', '1', '0']);
    expect(lines.find((l) => l.startsWith('Session.Trial '))!.split(/\s+/)).toEqual(['Session.Trial', 'part', '2']);
    // Columns line up: every row's rows count ends where the header's "rows" ends.
    const rowsEnd = lines[1]!.indexOf('rows') + 4;
    for (const l of lines.slice(2)) expect(l.slice(0, rowsEnd)).toMatch(/\d$/);
  });

  it('fails clearly for a schema that does not exist', () => {
    const r = dj_('status', `djtest_no_such_schema_${process.pid}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not exist');
  });
});

describe('dj diagram, dj embedded, -s/-e', () => {
  it('writes the diagram as a file or DOT on stdout', async () => {
    const file = join(tmp, 'cli.svg');
    const r = dj_('diagram', schema.database, '-o', file);
    expect(r.code).toBe(0);
    const svg = await readFile(file, 'utf8');
    expect(svg).toMatch(/^<\?xml|^<svg/);
    expect(svg).toContain('</svg>');
    const dot = dj_('diagram', schema.database);
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph/);
    expect(dot.stdout).toContain('Analysis');
  });

  it('reports an embedded server that is not running with exit code 3', () => {
    const r = dj_('embedded', 'status', '--dir', join(tmp, 'no-server'), '--json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ running: false });
    expect(dj_('embedded', 'restart').code).toBe(1);
  });

  it('evaluates with a virtual schema loaded', () => {
    const r = dj_('-s', `${schema.database}:lab`, '-e', 'lab.Session.Trial.count()');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('2');
  });

  it('finishes the queries of a piped session before `.exit` closes the connections', () => {
    // `.exit` arrives while the awaited lines before it still run: their results used to be lost.
    const input = ['await lab.Subject.count()', 'await new Promise((r) => setTimeout(r, 300)).then(() => lab.Session.Trial.count())', '.exit', ''].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '-s', `${schema.database}:lab`], { cwd: root, encoding: 'utf8', timeout: 120_000, input });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/Uncaught|closed/);
    const shown = r.stdout.split('dj> ').map((s) => s.trim());
    expect(shown).toContain('1'); // the one subject
    expect(shown).toContain('2'); // its session's two trials, counted after the delay
  });

  it('runs piped lines in order, each after the awaited line before it', () => {
    const input = ['const n = await new Promise((r) => setTimeout(r, 300)).then(() => lab.Session.Trial.count())', 'n + 40', '.exit', ''].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '-s', `${schema.database}:lab`], { cwd: root, encoding: 'utf8', timeout: 120_000, input });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/Uncaught|NaN/);
    expect(r.stdout.split('dj> ').map((s) => s.trim())).toContain('42');
  });
});
