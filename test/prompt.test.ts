/**
 * The safemode prompt. On a terminal, destructive operations ask first; without one (a pipe, a
 * cron job) nobody can answer, so they refuse unless `prompt: false` or safemode is off.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dj, freshSchema, cleanup } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const hasScript = spawnSync('script', ['--version']).status === 0;
let schema: dj.SchemaDecorator;
class Thing extends dj.Manual {
  static definition = `thing_id : int32`;
}

beforeAll(async () => {
  schema = await freshSchema('prompt');
  schema.add(Thing);
});
beforeEach(async () => {
  await schema.declare();
  await Thing.insert([[1], [2]], { skipDuplicates: true });
});
afterAll(() => cleanup(schema));

/** Run the fixture in a pseudo-terminal (util-linux `script`), typing `answer`. */
function runInTty(answer: string): string {
  const cmd = `${process.execPath} --import tsx test/fixtures/prompt-delete.ts ${schema.database}`;
  return execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, input: `${answer}\n`, encoding: 'utf8', timeout: 60_000 });
}

/** Run the fixture with stdin and stdout on pipes (no terminal). */
function runWithoutTty(action: string): string {
  return execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/prompt-delete.ts', schema.database, action], { cwd: root, input: '', encoding: 'utf8', timeout: 60_000 });
}

describe.skipIf(!hasScript)('safemode prompt on a terminal', () => {
  it('asks before committing; anything but "yes" rolls back', async () => {
    const out = runInTty('no');
    expect(out).toContain('Commit deletes? [yes, No]');
    expect(out).toContain('RESULT deleted=0 left=2');
    expect(await Thing.count()).toBe(2);
  });
  it('commits on "yes"', async () => {
    const out = runInTty('yes');
    expect(out).toContain('RESULT deleted=2 left=0');
    expect(await Thing.count()).toBe(0);
  });
});

describe('without a terminal', () => {
  it('delete() and delete({ prompt: true }) refuse under safemode and delete nothing', async () => {
    for (const action of ['delete', 'delete-prompt']) {
      const out = runWithoutTty(action);
      expect(out).not.toContain('Commit deletes?');
      expect(out).toMatch(/REFUSED DataJointError: Refusing to delete from .*thing.* without a terminal/);
      expect(out).toContain('prompt: false');
      expect(out).toContain('LEFT 2');
    }
    expect(await Thing.count()).toBe(2);
  });

  it('drop() and schema.drop() refuse under safemode and drop nothing', async () => {
    expect(runWithoutTty('drop')).toMatch(/REFUSED DataJointError: Refusing to drop .*thing.* without a terminal[\s\S]*LEFT 2/);
    expect(runWithoutTty('schema-drop')).toMatch(/REFUSED DataJointError: Refusing to drop schema djtest_prompt_\d+ without a terminal[\s\S]*LEFT 2/);
    expect(await schema.exists()).toBe(true);
    expect(await Thing.count()).toBe(2);
  });

  it('prompt: false or safemode off proceed without asking', async () => {
    expect(runWithoutTty('delete-no-prompt')).toContain('RESULT deleted=2 left=0');
    await Thing.insert([[1], [2]]);
    expect(runWithoutTty('delete-safemode-off')).toContain('RESULT deleted=2 left=0');
  });
});

describe('a dict restriction that names no attribute', () => {
  it('warns that it restricts nothing (once per case), and still restricts nothing', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(await Thing.restrict({ thing: 1 }).count()).toBe(2); // a typo of thing_id
      expect(await Thing.restrict({ thing: 2 }).count()).toBe(2);
      expect(await Thing.restrict({ thing_id: 1, other: 5 }).count()).toBe(1); // one key matches: no warning
      expect(await Thing.restrict({}).count()).toBe(2); // an empty dict says nothing to warn about
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual(['Restriction by {thing}: none of its keys is an attribute of the query (thing_id), so it restricts nothing.']);
  });
});
