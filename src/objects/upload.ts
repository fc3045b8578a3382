/**
 * Uploading local files and folders to a store as DataJoint objects: a folder's files go up
 * several at once (the store's `concurrency`), and its manifest (`{path}.manifest.json`, the
 * files and sizes, as DataJoint Python writes it) is written last, so a folder with a manifest
 * is complete.
 */
import { opendir, realpath, stat } from 'node:fs/promises';
import { DataJointError } from '../errors.js';
import { join, relative, sep } from 'node:path';
import { manifestPath } from '../stores/layout.js';
import { folderManifest, manifestText, type FolderManifest } from '../stores/metadata.js';
import { parallelMap } from '../stores/parallel.js';
import { joinPath, type ObjectStore } from '../stores/store.js';

/**
 * Every regular file under `dir` (recursively), with its path relative to `dir` in POSIX form.
 * Symbolic links are followed, as a copy of the folder would (a linked calibration folder is
 * part of the data); a link that leads nowhere, or back into a folder being read, is an error.
 */
export async function localFiles(dir: string): Promise<Array<{ local: string; path: string; size: number }>> {
  const out: Array<{ local: string; path: string; size: number }> = [];
  const stack = [{ dir, seen: new Set([await realpath(dir)]) }];
  while (stack.length) {
    const { dir: d, seen } = stack.pop()!;
    for await (const entry of await opendir(d)) {
      const abs = join(d, entry.name);
      const path = relative(dir, abs).split(sep).join('/');
      let st;
      if (entry.isSymbolicLink()) {
        st = await stat(abs).catch((err: unknown) => {
          throw new DataJointError(`The folder's symbolic link ${path} leads nowhere (${(err as Error).message})`, { cause: err });
        });
      }
      if (entry.isDirectory() || st?.isDirectory()) {
        const real = await realpath(abs);
        if (seen.has(real)) throw new DataJointError(`The folder's symbolic link ${path} leads back into a folder above it`);
        stack.push({ dir: abs, seen: new Set([...seen, real]) });
      } else if (entry.isFile() || st?.isFile()) out.push({ local: abs, path, size: (st ?? (await stat(abs))).size });
    }
  }
  return out;
}

/** Upload the folder `dir` to `path` in `store`, then its manifest; returns the manifest. */
export async function putFolder(store: ObjectStore, path: string, dir: string): Promise<FolderManifest> {
  // An empty folder is stored as its manifest alone (item_count 0), as DataJoint Python stores it.
  const files = await localFiles(dir);
  await parallelMap(files, store.concurrency, (f) => store.putFile(joinPath(path, f.path), f.local));
  const manifest = folderManifest(files);
  await store.put(manifestPath(path), Buffer.from(manifestText(manifest)));
  return manifest;
}

/** The manifest of what a store holds under the folder `path` (e.g. a staged Zarr store), written beside it. */
export async function writeManifestOf(store: ObjectStore, path: string): Promise<FolderManifest> {
  const files: Array<{ path: string; size: number }> = [];
  for await (const e of store.list(path)) files.push({ path: e.path.slice(path.length + 1), size: e.size });
  const manifest = folderManifest(files);
  await store.put(manifestPath(path), Buffer.from(manifestText(manifest)));
  return manifest;
}

/** Remove a folder object and its manifest (best effort: used to undo failed writes). */
export async function removeObject(store: ObjectStore, path: string, isDir: boolean): Promise<void> {
  if (isDir) {
    await store.deletePrefix(path).catch(() => 0);
    await store.delete(manifestPath(path)).catch(() => undefined);
  } else await store.delete(path).catch(() => undefined);
}

/** Local path kind: 'file', 'dir', or null when it does not exist. */
export async function localKind(path: string): Promise<'file' | 'dir' | null> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}
