/** The dialects' ALTER TABLE text for alter() (the integration test runs it on every backend). */
import { describe, expect, it } from 'vitest';
import type { AlterChange, ColumnSpec } from '../../src/adapters/adapter.js';
import { mysqlDialect } from '../../src/adapters/mysql/dialect.js';
import { postgresDialect } from '../../src/adapters/postgres/dialect.js';

const col = (name: string, type: string, rest: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name,
  type: { type, kind: type.startsWith('uint') || type.startsWith('int') ? 'int' : 'string', core: true },
  nullable: false,
  default: null,
  comment: `:${type}:`,
  autoIncrement: false,
  ...rest,
});

const changes: AlterChange[] = [
  { kind: 'drop', name: 'old' },
  { kind: 'add', column: col('n', 'uint8', { default: '5' }), after: 'id' },
  { kind: 'modify', from: 'a', column: col('b', 'varchar(8)', { nullable: true, comment: ':varchar(8):renamed' }) },
  { kind: 'comment', comment: "it's new" },
];

describe('alterTable', () => {
  it('MySQL: one ALTER TABLE with ADD … AFTER, DROP, CHANGE and COMMENT', () => {
    expect(mysqlDialect.alterTable('db', 't', changes)).toEqual([
      "ALTER TABLE `db`.`t`\n  DROP `old`,\n  ADD `n` tinyint unsigned NOT NULL DEFAULT 5 COMMENT ':uint8:' AFTER `id`,\n  CHANGE `a` `b` varchar(8) DEFAULT NULL COMMENT ':varchar(8):renamed',\n  COMMENT='it''s new'",
    ]);
    expect(mysqlDialect.alterTable('db', 't', [])).toEqual([]);
  });

  it('PostgreSQL: a statement per step; changed columns drop their old CHECKs, are renamed through temporary names, then changed', () => {
    const sql = postgresDialect.alterTable('db', 't', changes);
    expect(sql).toEqual([
      'ALTER TABLE "db"."t" DROP COLUMN "old"',
      'ALTER TABLE "db"."t" DROP CONSTRAINT IF EXISTS "t_a_check"',
      'ALTER TABLE "db"."t" DROP CONSTRAINT IF EXISTS "t_b_check"',
      'ALTER TABLE "db"."t" RENAME COLUMN "a" TO "_dj_rename_0"',
      'ALTER TABLE "db"."t" RENAME COLUMN "_dj_rename_0" TO "b"',
      'ALTER TABLE "db"."t" ADD COLUMN "n" smallint NOT NULL DEFAULT 5 CHECK ("n" BETWEEN 0 AND 255)',
      `COMMENT ON COLUMN "db"."t"."n" IS ':uint8:'`,
      'ALTER TABLE "db"."t" ALTER COLUMN "b" DROP DEFAULT',
      // Assigned, not cast, into a string type: a value too long is an error, not cut.
      'ALTER TABLE "db"."t" ALTER COLUMN "b" TYPE varchar(8) USING "b"::text',
      'ALTER TABLE "db"."t" ALTER COLUMN "b" DROP NOT NULL',
      `COMMENT ON COLUMN "db"."t"."b" IS ':varchar(8):renamed'`,
      `COMMENT ON TABLE "db"."t" IS 'it''s new'`,
    ]);
  });
});
