/**
 * The files of a local folder given to `<object@>`: symbolic links are followed (a linked file
 * or folder is part of the data, as in a copy of the folder; they were silently left out), and
 * a link that leads nowhere or back up the tree is a clear error, not a loss or an endless walk.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localFiles } from '../../src/objects/upload.js';
import { DataJointError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'dj-local-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'real.txt'), 'real');
  writeFileSync(join(dir, 'sub', 'deep.bin'), Buffer.alloc(5));
  return dir;
}
const listed = async (dir: string) => (await localFiles(dir)).map((f) => `${f.path}:${f.size}`).sort();

describe('localFiles', () => {
  it('lists regular files at any depth, with POSIX paths and sizes', async () => {
    expect(await listed(folder('plain'))).toEqual(['real.txt:4', 'sub/deep.bin:5']);
  });

  it('follows symbolic links to files and to folders', async () => {
    const dir = folder('linked');
    const shared = join(root, 'shared_calibration');
    mkdirSync(shared);
    writeFileSync(join(shared, 'cal.json'), '{}');
    symlinkSync(join(dir, 'real.txt'), join(dir, 'link.txt'));
    symlinkSync(shared, join(dir, 'calib'));
    expect(await listed(dir)).toEqual(['calib/cal.json:2', 'link.txt:4', 'real.txt:4', 'sub/deep.bin:5']);
  });

  it('a link that leads nowhere, or back into a folder above it, is a DataJointError', async () => {
    const broken = folder('broken');
    symlinkSync(join(root, 'no-such-file'), join(broken, 'gone.txt'));
    await expect(localFiles(broken)).rejects.toThrow(DataJointError);
    await expect(localFiles(broken)).rejects.toThrow(/gone\.txt leads nowhere/);
    const cyclic = folder('cyclic');
    symlinkSync(cyclic, join(cyclic, 'sub', 'up'));
    await expect(localFiles(cyclic)).rejects.toThrow(/sub\/up leads back into a folder above it/);
  });
});
