/**
 * populate({ processes: 2 }) with a TypeScript table module: the worker threads run it compiled
 * to JavaScript (src/populate/compile-module.ts), not through tsx, with the same results; a
 * failing make's error keeps its class and points at the TypeScript line; with
 * `populate.compile_typescript` false the threads load the module through tsx as before.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';

process.env.DJ_TEST_COMPILED_DB = `djtest_compiled_${process.pid}`;
const pipeline = await import('./fixtures/compiled-pipeline.js');
const { schema, Item, Result } = pipeline.tables;
const tablesFile = fileURLToPath(new URL('./fixtures/compiled-tables.ts', import.meta.url));
/** The files makes ran from (V8 names ES modules by URL, some loaders by path). */
const ranFrom = async () => new Set(((await Result.toArrays('ran_from')) as string[]).map((f) => (f.startsWith('file:') ? fileURLToPath(f) : f)));

describe('a TypeScript table module on worker threads', () => {
  beforeEach(async () => {
    await schema.drop({ prompt: false });
    await Item.insert(Array.from({ length: 8 }, (_, i) => ({ item_id: i })));
  });
  afterEach(() => dj.config.set('populate.compile_typescript', true));
  afterAll(() => cleanup(schema));

  it("runs compiled to JavaScript, with the module's own import.meta and class names", async () => {
    expect(await Result.populate({ processes: 2 })).toMatchObject({ success: 8, error: 0 });
    const rows = (await Result.toDicts()) as Array<Record<string, string>>;
    expect(rows).toHaveLength(8);
    for (const row of rows) {
      expect(row.ran_from).toMatch(/\/node_modules\/\.cache\/datajoint\/workers\/compiled-tables-[0-9a-f]{16}\.mjs$/);
      expect(row.meta_url).toBe(pathToFileURL(tablesFile).href);
      expect(row.meta_dirname).toBe(path.dirname(tablesFile));
    }
    // The same table in process: its code runs from the TypeScript file itself.
    await Result.delete({ prompt: false });
    expect(await Result.populate()).toMatchObject({ success: 8 });
    expect(await ranFrom()).toEqual(new Set([tablesFile]));
    expect(pipeline.Result.name).toBe('Result'); // the module's own class of that name
  });

  it("a make's error keeps its class and its stack names the TypeScript line", async () => {
    await Item.update1({ item_id: 3, fail: 1 });
    const r = await Result.populate({ processes: 2, suppressErrors: true });
    expect(r).toMatchObject({ success: 7, error: 1 });
    const { error } = r.errors[0]!;
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('item 3 fails on purpose');
    const line = readFileSync(tablesFile, 'utf8').split('\n').findIndex((l) => l.includes('// FAIL LINE')) + 1;
    expect(error.stack).toContain(`${tablesFile}:${line}:`);
  });

  it('with populate.compile_typescript false, threads load the module through tsx', async () => {
    dj.config.set('populate.compile_typescript', false);
    expect(await Result.populate({ processes: 2 })).toMatchObject({ success: 8, error: 0 });
    expect(await ranFrom()).toEqual(new Set([tablesFile]));
  });
});
