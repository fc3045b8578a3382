import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  await Thing.insert([[1], [2]]);
});
afterAll(() => cleanup(schema));

/** Run the fixture in a pseudo-terminal (util-linux `script`), typing `answer`. */
function runInTty(answer: string): string {
  const cmd = `${process.execPath} --import tsx test/fixtures/prompt-delete.ts ${schema.database}`;
  return execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, input: `${answer}\n`, encoding: 'utf8', timeout: 60_000 });
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
  it('never prompts (stdin is not a TTY) and prompt: false never prompts', async () => {
    await Thing.insert([[3]], { skipDuplicates: true });
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/prompt-delete.ts', schema.database], { cwd: root, input: '', encoding: 'utf8' });
    expect(out).not.toContain('Commit deletes?');
    expect(out).toContain('left=0');
  });
});
