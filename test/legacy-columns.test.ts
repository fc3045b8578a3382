/**
 * Columns as DataJoint 0.x left them on MySQL (the migration spec: 2.0 reads 0.x schemas before
 * they are migrated): `:blob:` and `:attach:` labels on longblob columns are the codecs they
 * name, and a 0.14 external column (`:blob@store:` on binary(16), a hash into ~external_store)
 * is said to be unreadable here, not read as a uuid.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, cleanup, dj, freshSchema } from './helpers.js';

let schema: dj.SchemaDecorator;

describe.runIf(BACKEND === 'mysql')('0.x columns', () => {
  beforeAll(async () => {
    schema = await freshSchema('legacy');
    const conn = dj.conn();
    for (const sql of conn.dialect.createDatabase(schema.database)) await conn.execute(sql);
    const table = conn.dialect.fullName(schema.database, 'old');
    // As DataJoint 0.14 declared it.
    await conn.execute(
      `CREATE TABLE ${table} (old_id int NOT NULL COMMENT '', arr longblob COMMENT ':blob: an array', doc longblob COMMENT ':attach: a file', ext binary(16) DEFAULT NULL COMMENT ':blob@ext: big array', PRIMARY KEY (old_id)) COMMENT 'old table'`,
    );
    const packed = dj.blob.pack(dj.NDArray.from(Float64Array.from([1, 2, 3])));
    const attachment = Buffer.concat([Buffer.from('notes.txt\0'), Buffer.from('hello')]);
    await conn.execute(`INSERT INTO ${table} VALUES (1, ?, ?, ?)`, [packed, attachment, Buffer.alloc(16, 7)]);
  });
  afterAll(() => cleanup(schema));

  it('reads :blob: and :attach: as the codecs, and says a 0.14 external column is not readable here', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const vs = await dj.virtualSchema(schema.database);
      const heading = await vs.Old!.heading();
      expect(heading.attributes.arr!.type).toBe('<blob>');
      expect(heading.attributes.doc!.type).toBe('<attach>');
      expect(heading.attributes.ext!.type).toBe('bytes'); // not uuid: its 16 bytes are a hash
      const dir = mkdtempSync(join(tmpdir(), 'djtest_legacy_'));
      const row = await vs.Old!.fetch1({ downloadPath: dir });
      expect(Array.from((row.arr as dj.NDArray).data as Float64Array)).toEqual([1, 2, 3]);
      expect(readFileSync(row.doc as string, 'utf8')).toBe('hello');
      expect((row.doc as string).endsWith('notes.txt')).toBe(true);
      await new Promise((r) => setImmediate(r));
      expect(warnings.some((w) => /Column `ext` .*DataJoint 0\.14 external storage/.test(w))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
