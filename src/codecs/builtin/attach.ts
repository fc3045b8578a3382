/**
 * `<attach>`: a local file kept with its name. The stored bytes are `utf8(name) + \0 + content`,
 * as DataJoint Python writes them; in the table as bytes, with `@` through `<hash@>` (the same
 * file attached twice is stored once). Fetch writes the file into `download_path` (or the
 * fetch's `downloadPath`) and returns its local path; a different file already there under the
 * same name is kept, and the new one gets a `_1`, `_2`, … suffix, as in DataJoint Python.
 */
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { config } from '../../config.js';
import { DataJointError } from '../../errors.js';
import { builtinDtype } from '../builtin-dtypes.js';
import { Codec } from '../codec.js';

class AttachCodec extends Codec {
  readonly name = 'attach';
  getDtype(isExternal: boolean): string {
    return builtinDtype('attach', isExternal);
  }
  validate(value: unknown): void {
    if (typeof value !== 'string' || value === '') throw new DataJointError(`<attach> expects the path of a local file, got ${describe(value)}`);
  }
  async encode(value: unknown): Promise<Buffer> {
    const path = value as string;
    const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new DataJointError(`Attachment file not found: ${path} (${err.code ?? err.message})`, { cause: err });
    });
    if (!st.isFile()) throw new DataJointError(`<attach> takes a file, not a folder: ${path}`);
    const name = Buffer.from(basename(path), 'utf8');
    const content = await readFile(path);
    return Buffer.concat([name, Buffer.from([0]), content], name.length + 1 + content.length);
  }
  async decode(stored: unknown): Promise<string> {
    if (!(stored instanceof Uint8Array)) throw new DataJointError(`<attach> expected bytes to decode, got ${typeof stored}`);
    const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const nul = buf.indexOf(0);
    if (nul < 0) throw new DataJointError('<attach> value is corrupt: no file name');
    const name = buf.subarray(0, nul).toString('utf8');
    if (!name || name !== basename(name) || name === '.' || name === '..') throw new DataJointError(`<attach> value has an unsafe file name ${JSON.stringify(name)}`);
    const content = buf.subarray(nul + 1);
    const dir = resolve(String(config.get('download_path') ?? '.'));
    await mkdir(dir, { recursive: true });
    const ext = extname(name);
    const stem = name.slice(0, name.length - ext.length);
    for (let n = 0; ; n++) {
      const local = join(dir, n ? `${stem}_${n}${ext}` : name);
      const existing = await readFile(local).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (existing === null) {
        // 'wx': two fetches racing for one name never overwrite each other's file.
        const wrote = await writeFile(local, content, { flag: 'wx' }).then(() => true, (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return false;
          throw err;
        });
        if (wrote) return local;
        n--; // someone else created it: compare again
        continue;
      }
      if (existing.equals(content)) return local;
    }
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

export const attachCodec = new AttachCodec();
