/**
 * The PostgreSQL dialect's SQL text, type maps, default normalization and error translation.
 * No server: these pin the exact text the backend sends.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ColumnInfo, ColumnSpec, StorageType, TableSpec } from '../../src/adapters/adapter.js';
import { normalizeDefault, renderDefault } from '../../src/adapters/postgres/defaults.js';
import { indexName, tableIndexes } from '../../src/adapters/postgres/ddl.js';
import { postgresDialect as d } from '../../src/adapters/postgres/dialect.js';
import { createPostgresErrors } from '../../src/adapters/postgres/errors.js';
import { postgres } from '../../src/adapters/postgres/index.js';
import { enumTypeName, parseEnumValues } from '../../src/adapters/postgres/types.js';
import { kindOfOid, OID, parseInt8, toPgParams } from '../../src/adapters/postgres/values.js';
import * as E from '../../src/errors.js';

const T = (type: string, kind: StorageType['kind'], core = true, enumValues?: string[]): StorageType => ({ type, kind, core, enumValues });
const col = (name: string, type: StorageType, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name,
  type,
  nullable: false,
  default: null,
  comment: `:${type.type}:`,
  autoIncrement: false,
  ...extra,
});
const info = (columnType: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name: 'x',
  columnType,
  nullable: false,
  default: null,
  comment: '',
  inKey: false,
  autoIncrement: false,
  ...extra,
});

describe('names and literals', () => {
  it('quotes identifiers, doubling double quotes', () => {
    expect(d.quoteId('a')).toBe('"a"');
    expect(d.quoteId('we"ird')).toBe('"we""ird"');
    expect(d.quoteId('#lookup')).toBe('"#lookup"');
    expect(d.fullName('s', '~~jobs')).toBe('"s"."~~jobs"');
  });

  it('writes strings with doubled quotes; a backslash only inside an escape string (the same under any standard_conforming_strings)', () => {
    expect(d.literal("it's")).toBe("'it''s'");
    expect(d.literal('back\\slash')).toBe("E'back\\\\slash'");
    expect(d.literal("'; DROP TABLE x; --")).toBe("'''; DROP TABLE x; --'");
    expect(d.literal("\\'")).toBe("E'\\\\'''");
    expect(d.literal('')).toBe("''");
    expect(d.literal('line\nbreak')).toBe("'line\nbreak'");
  });

  it('writes numbers, bigints, booleans and NULL', () => {
    expect(d.literal(null)).toBe('NULL');
    expect(d.literal(5)).toBe('5');
    expect(d.literal(-1.5)).toBe('-1.5');
    expect(d.literal(Number.NaN)).toBe('NULL');
    expect(d.literal(Infinity)).toBe('NULL');
    expect(d.literal(2n ** 64n - 1n)).toBe('18446744073709551615');
    expect(d.literal(true)).toBe('TRUE');
    expect(d.literal(false)).toBe('FALSE');
  });

  it('writes bytes as bytea hex literals', () => {
    expect(d.literal(Buffer.from([0, 1, 255]))).toBe("E'\\\\x0001ff'::bytea");
    expect(d.literal(new Uint8Array([16, 32]).subarray(1))).toBe("E'\\\\x20'::bytea");
    expect(d.literal(Buffer.alloc(0))).toBe("E'\\\\x'::bytea");
  });

  it('writes dates as UTC text with a four-digit year', () => {
    expect(d.literal(new Date('2024-02-29T23:59:58.123Z'))).toBe("'2024-02-29 23:59:58.123'");
    const y50 = new Date(Date.UTC(2000, 0, 2, 3, 4, 5, 6));
    y50.setUTCFullYear(50);
    expect(d.literal(y50)).toBe("'0050-01-02 03:04:05.006'");
    const bc = new Date(Date.UTC(2000, 0, 1));
    bc.setUTCFullYear(0);
    expect(d.literal(bc)).toBe("'0001-01-01 00:00:00.000 BC'");
    expect(() => d.literal(new Date(Number.NaN))).toThrow(E.DataJointError);
  });

  it('numbers placeholders from 1', () => {
    expect(d.param(1)).toBe('$1');
    expect(d.param(12)).toBe('$12');
  });

  it('binds uuid bytes as text and 0/1 booleans as booleans, nothing else', () => {
    const bytes = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    expect(d.bindValue('uuid', bytes)).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(d.bindValue('uuid', '01234567-89ab-cdef-0123-456789abcdef')).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(d.bindValue('bool', 1)).toBe(true);
    expect(d.bindValue('bool', 0)).toBe(false);
    expect(d.bindValue('bool', true)).toBe(true);
    expect(d.bindValue('bytes', bytes)).toBe(bytes);
    expect(d.bindValue('int', 1)).toBe(1);
    expect(d.bindValue('json', '"a"')).toBe('"a"');
  });
});

describe('clauses and expressions', () => {
  it('limits and offsets', () => {
    expect(d.limitClause(null, 0)).toBe('');
    expect(d.limitClause(10, 0)).toBe(' LIMIT 10');
    expect(d.limitClause(10, 5)).toBe(' LIMIT 10 OFFSET 5');
    expect(d.limitClause(null, 5)).toBe(' OFFSET 5');
    expect(d.limitClause(0, 0)).toBe(' LIMIT 0');
  });

  it('takes the current time in UTC whatever the session zone', () => {
    expect(d.now()).toBe("(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')");
    expect(d.now(6)).toBe("(CURRENT_TIMESTAMP(6) AT TIME ZONE 'UTC')");
    expect(d.now(0)).toBe("(CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC')");
  });

  it('adds (negative, fractional) seconds', () => {
    expect(d.addSeconds('t', 5)).toBe("(t + (5) * INTERVAL '1 second')");
    expect(d.addSeconds('t', -1.5)).toBe("(t + (-1.5) * INTERVAL '1 second')");
    expect(() => d.addSeconds('t', Number.NaN)).toThrow(E.DataJointError);
  });

  it('names the user, the session and how to end one', () => {
    expect(d.currentUser).toBe('current_user');
    expect(d.connectionIdExpr).toBe('pg_backend_pid()');
    expect(d.killSession(1234)).toBe('SELECT pg_terminate_backend(1234)');
    expect(() => d.killSession(1.5)).toThrow(E.DataJointError);
    expect(d.derivedAlias('$a')).toBe(' AS "$a"');
  });

  it('has the PostgreSQL capabilities', () => {
    expect(d.capabilities).toEqual({
      transactionalDdl: true,
      havingAliases: false,
      skipCoversUniqueIndexes: false,
      maxIdentifierLength: 63,
      errorsAbortTransaction: true,
      unsignedTypes: false,
      lockingReadsInWrites: false,
      placesAddedColumns: false,
    });
    expect(d.name).toBe('postgresql');
  });
});

describe('insert', () => {
  const t = '"s"."t"';
  it('plain, skip and replace on the primary key', () => {
    expect(d.insert(t, ['a', 'b', 'c'], 'error', ['a'])).toEqual({ head: 'INSERT INTO "s"."t" ("a", "b", "c") VALUES ', tail: '' });
    expect(d.insert(t, ['a', 'b', 'c'], 'skip', ['a', 'b']).tail).toBe(' ON CONFLICT ("a", "b") DO NOTHING');
    expect(d.insert(t, ['a', 'b', 'c'], 'replace', ['a']).tail).toBe(' ON CONFLICT ("a") DO UPDATE SET "b" = EXCLUDED."b", "c" = EXCLUDED."c"');
  });
  it('replace sets the columns the statement omits to their defaults', () => {
    expect(d.insert(t, ['a', 'b'], 'replace', ['a'], ['a', 'b', 'c']).tail).toBe(' ON CONFLICT ("a") DO UPDATE SET "b" = EXCLUDED."b", "c" = DEFAULT');
  });
  it('replace with every column in the key updates the row to itself (it counts as replaced)', () => {
    expect(d.insert(t, ['a', 'b'], 'replace', ['a', 'b']).tail).toBe(' ON CONFLICT ("a", "b") DO UPDATE SET "a" = EXCLUDED."a"');
  });
  it('quotes hostile column names', () => {
    expect(d.insert(t, ['x"y'], 'error', ['x"y']).head).toBe('INSERT INTO "s"."t" ("x""y") VALUES ');
  });
  it('inserts a row of defaults', () => {
    expect(d.insertDefaults(t)).toBe('INSERT INTO "s"."t" DEFAULT VALUES');
  });
});

describe('types', () => {
  it('maps every core type', () => {
    const cases: Array<[string, string]> = [
      ['int8', 'smallint'],
      ['int16', 'smallint'],
      ['int32', 'integer'],
      ['int64', 'bigint'],
      ['uint8', 'smallint'],
      ['uint16', 'integer'],
      ['uint32', 'bigint'],
      ['uint64', 'numeric(20)'],
      ['float32', 'real'],
      ['float64', 'double precision'],
      ['bool', 'boolean'],
      ['uuid', 'uuid'],
      ['json', 'jsonb'],
      ['bytes', 'bytea'],
      ['date', 'date'],
      ['datetime', 'timestamp'],
      ['datetime(3)', 'timestamp(3)'],
      ['char(4)', 'char(4)'],
      ['varchar(255)', 'varchar(255)'],
      ['decimal(10,2)', 'numeric(10,2)'],
      ['decimal(10, 2)', 'numeric(10,2)'],
    ];
    for (const [core, sql] of cases) expect(d.sqlType(T(core, 'other'), 's'), core).toBe(sql);
  });

  it('passes native types through as written', () => {
    expect(d.sqlType(T('text', 'string', false), 's')).toBe('text');
    expect(d.sqlType(T('timestamptz', 'datetime', false), 's')).toBe('timestamptz');
  });

  it('names enum types as DataJoint Python does, qualified by the schema', () => {
    expect(enumTypeName(['F', 'M', 'U'])).toBe('enum_e54fc739');
    expect(enumTypeName(['U', 'M', 'F'])).toBe('enum_e54fc739');
    expect(d.sqlType(T("enum('F','M','U')", 'enum'), 'my"s')).toBe('"my""s"."enum_e54fc739"');
    expect(d.sqlType(T("enum('x')", 'enum', true, ['F', 'M', 'U']), 's')).toBe('"s"."enum_e54fc739"');
  });

  it('parses enum values with quotes inside', () => {
    expect(parseEnumValues("enum('a','it''s', \"q\"\"x\" ,'')")).toEqual(['a', "it's", 'q"x', '']);
    expect(parseEnumValues('int32')).toEqual([]);
  });

  it('reads core types back from catalog types', () => {
    const cases: Array<[string, string | null]> = [
      ['smallint', 'int16'],
      ['integer', 'int32'],
      ['bigint', 'int64'],
      ['real', 'float32'],
      ['double precision', 'float64'],
      ['boolean', 'bool'],
      ['uuid', 'uuid'],
      ['jsonb', 'json'],
      ['json', 'json'],
      ['bytea', 'bytes'],
      ['date', 'date'],
      ['timestamp(0)', 'datetime'],
      ['timestamp(3)', 'datetime(3)'],
      ['timestamp(3) without time zone', 'datetime(3)'],
      ['timestamp', 'datetime(6)'],
      ['character varying(32)', 'varchar(32)'],
      ['character(4)', 'char(4)'],
      ['numeric(10,2)', 'decimal(10,2)'],
      ['numeric(20,0)', 'decimal(20,0)'],
      ['text', null],
      ['timestamp with time zone', null],
      ['numeric', null],
      ['interval', null],
    ];
    for (const [sql, core] of cases) expect(d.coreTypeOf(info(sql)), sql).toBe(core);
    expect(d.coreTypeOf(info('enum_e54fc739', { enumValues: ['F', "it's"] }))).toBe("enum('F','it''s')");
  });
});

describe('defaults', () => {
  it('renders definition defaults as PostgreSQL expressions', () => {
    expect(renderDefault('5', 'int32')).toBe('5');
    expect(renderDefault('-1.5e3', 'float64')).toBe('-1.5e3');
    expect(renderDefault("'it''s'", 'varchar(8)')).toBe("'it''s'");
    expect(renderDefault('"quoted"', 'varchar(8)')).toBe("'quoted'");
    expect(renderDefault('bare', 'varchar(8)')).toBe("'bare'");
    expect(renderDefault('TRUE', 'bool')).toBe('TRUE');
    expect(renderDefault('false', 'bool')).toBe('FALSE');
    expect(renderDefault('1', 'bool')).toBe('TRUE');
    expect(renderDefault('0', 'bool')).toBe('FALSE');
    expect(renderDefault('1', 'int8')).toBe('1');
    expect(renderDefault('NULL', 'int32')).toBeNull();
    expect(renderDefault('CURRENT_TIMESTAMP', 'datetime')).toBe("(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')");
    expect(renderDefault('current_timestamp(3)', 'datetime(3)')).toBe("(CURRENT_TIMESTAMP(3) AT TIME ZONE 'UTC')");
  });

  it('normalizes catalog defaults to definition text', () => {
    const cases: Array<[string | null, boolean, string | null]> = [
      [null, false, null],
      ['5', false, '5'],
      ["'-5'::smallint", false, '-5'],
      ["'-1.5'::real", false, '-1.5'],
      ["'-1.5'::double precision", false, '-1.5'],
      ["'-1.50'::numeric", false, '-1.50'],
      ["'5'::character varying", false, "'5'"],
      ["'it''s'::character varying", false, "'it''s'"],
      ["''::character varying", false, "''"],
      ["'U'::s.enum_e54fc739", false, "'U'"],
      ["'U'::\"my s\".enum_e54fc739", false, "'U'"],
      ["'{}'::jsonb", false, "'{}'"],
      ["'a::b'::text", false, "'a::b'"],
      ['true', false, 'TRUE'],
      ['false', false, 'FALSE'],
      ['NULL::numeric', true, null],
      ['NULL::numeric', false, 'NULL'],
      ['NULL', false, 'NULL'],
      ['CURRENT_TIMESTAMP', false, 'CURRENT_TIMESTAMP'],
      ['CURRENT_TIMESTAMP(3)', false, 'CURRENT_TIMESTAMP(3)'],
      ['now()', false, 'CURRENT_TIMESTAMP'],
      ["(CURRENT_TIMESTAMP(3) AT TIME ZONE 'UTC'::text)", false, 'CURRENT_TIMESTAMP(3)'],
      ["(CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text)", false, 'CURRENT_TIMESTAMP'],
      ["timezone('UTC'::text, CURRENT_TIMESTAMP(6))", false, 'CURRENT_TIMESTAMP(6)'],
      ["nextval('s.t_id_seq'::regclass)", false, null],
      ['gen_random_uuid()', false, 'gen_random_uuid()'],
    ];
    for (const [raw, nullable, out] of cases) expect(normalizeDefault(raw, nullable), String(raw)).toBe(out);
  });
});

describe('createTable', () => {
  const every: ColumnSpec[] = [
    col('id', T('int32', 'int'), { autoIncrement: true }),
    col('i8', T('int8', 'int')),
    col('i16', T('int16', 'int')),
    col('i64', T('int64', 'bigint')),
    col('u8', T('uint8', 'int')),
    col('u16', T('uint16', 'int')),
    col('u32', T('uint32', 'int')),
    col('u64', T('uint64', 'bigint')),
    col('f32', T('float32', 'float'), { default: '-1.5' }),
    col('f64', T('float64', 'float')),
    col('flag', T('bool', 'bool'), { default: '1' }),
    col('uid', T('uuid', 'uuid')),
    col('doc', T('json', 'json'), { nullable: true, default: 'NULL' }),
    col('raw', T('bytes', 'bytes'), { nullable: true, default: 'NULL' }),
    col('day', T('date', 'date')),
    col('at', T('datetime', 'datetime'), { default: 'CURRENT_TIMESTAMP' }),
    col('at3', T('datetime(3)', 'datetime'), { default: 'CURRENT_TIMESTAMP(3)' }),
    col('code', T('char(4)', 'string')),
    col('name', T('varchar(32)', 'string'), { default: "'it''s'", comment: ":varchar(32):it's a name" }),
    col('amount', T('decimal(10,2)', 'decimal')),
    col('sex', T("enum('F','M','U')", 'enum'), { default: "'U'" }),
    col('mood', T("enum('U','M','F')", 'enum')),
    col('parent_id', T('int16', 'int')),
    col('other_a', T('int16', 'int')),
    col('other_b', T('int16', 'int')),
    col('note', T('text', 'string', false), { comment: 'a native column' }),
  ];
  const spec: TableSpec = {
    database: 's',
    name: 'every',
    comment: "every type's table",
    columns: every,
    primaryKey: ['id', 'parent_id'],
    foreignKeys: [
      { columns: ['parent_id'], refDatabase: 's', refTable: 'parent', refColumns: ['parent_id'] },
      { columns: ['other_a', 'other_b'], refDatabase: 'o', refTable: 'other', refColumns: ['a', 'b'] },
      { columns: ['u8'], refDatabase: 's', refTable: 'u', refColumns: ['u8'] },
    ],
    indexes: [
      { columns: ['name'], unique: true },
      { columns: ['u8', 'u16'], unique: false },
      { columns: ['(lower(name))'], unique: false },
    ],
  };
  const sql = d.createTable(spec);
  const create = sql.find((x) => x.startsWith('CREATE TABLE'))!;

  it('creates the enum type first, once per value set, without aborting on an existing one', () => {
    expect(sql[0]).toBe(
      `DO $dj$ BEGIN CREATE TYPE "s"."enum_e54fc739" AS ENUM ('F', 'M', 'U'); EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $dj$`,
    );
    expect(sql.filter((x) => x.startsWith('DO '))).toHaveLength(1);
    expect(sql[1]).toBe(create);
  });

  it('declares every column with its type, nullability, default and range check', () => {
    const lines = [
      '"id" integer NOT NULL GENERATED BY DEFAULT AS IDENTITY,',
      '"i8" smallint NOT NULL CHECK ("i8" BETWEEN -128 AND 127),',
      '"i16" smallint NOT NULL,',
      '"i64" bigint NOT NULL,',
      '"u8" smallint NOT NULL CHECK ("u8" BETWEEN 0 AND 255),',
      '"u16" integer NOT NULL CHECK ("u16" BETWEEN 0 AND 65535),',
      '"u32" bigint NOT NULL CHECK ("u32" BETWEEN 0 AND 4294967295),',
      '"u64" numeric(20) NOT NULL CHECK ("u64" BETWEEN 0 AND 18446744073709551615),',
      '"f32" real NOT NULL DEFAULT -1.5,',
      '"f64" double precision NOT NULL,',
      '"flag" boolean NOT NULL DEFAULT TRUE,',
      '"uid" uuid NOT NULL,',
      '"doc" jsonb,',
      '"raw" bytea,',
      '"day" date NOT NULL,',
      `"at" timestamp NOT NULL DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'UTC'),`,
      `"at3" timestamp(3) NOT NULL DEFAULT (CURRENT_TIMESTAMP(3) AT TIME ZONE 'UTC'),`,
      '"code" char(4) NOT NULL,',
      `"name" varchar(32) NOT NULL DEFAULT 'it''s',`,
      '"amount" numeric(10,2) NOT NULL,',
      `"sex" "s"."enum_e54fc739" NOT NULL DEFAULT 'U',`,
      `"mood" "s"."enum_e54fc739" NOT NULL,`,
      '"note" text NOT NULL,',
      'PRIMARY KEY ("id", "parent_id"),',
    ];
    for (const l of lines) expect(create).toContain(`\n  ${l}`);
    expect(create.startsWith('CREATE TABLE IF NOT EXISTS "s"."every" (\n')).toBe(true);
  });

  it('declares foreign keys with cascading updates and restricted deletes', () => {
    expect(create).toContain('FOREIGN KEY ("parent_id") REFERENCES "s"."parent" ("parent_id") ON UPDATE CASCADE ON DELETE RESTRICT');
    expect(create).toContain('FOREIGN KEY ("other_a", "other_b") REFERENCES "o"."other" ("a", "b") ON UPDATE CASCADE ON DELETE RESTRICT');
  });

  it('comments the table and every column', () => {
    expect(sql).toContain(`COMMENT ON TABLE "s"."every" IS 'every type''s table'`);
    for (const c of every) expect(sql.some((x) => x.startsWith(`COMMENT ON COLUMN "s"."every"."${c.name}" IS `))).toBe(true);
    expect(sql).toContain(`COMMENT ON COLUMN "s"."every"."name" IS ':varchar(32):it''s a name'`);
  });

  it('creates declared indexes and one per foreign key not led by another index', () => {
    const ix = sql.filter((x) => x.includes(' INDEX '));
    expect(ix).toEqual([
      'CREATE UNIQUE INDEX IF NOT EXISTS "idx_every_name" ON "s"."every" ("name")',
      'CREATE INDEX IF NOT EXISTS "idx_every_u8_u16" ON "s"."every" ("u8", "u16")',
      'CREATE INDEX IF NOT EXISTS "idx_every_lower_name" ON "s"."every" ((lower(name)))',
      // parent_id is second in the primary key: not served by it.
      'CREATE INDEX IF NOT EXISTS "idx_every_parent_id" ON "s"."every" ("parent_id")',
      'CREATE INDEX IF NOT EXISTS "idx_every_other_a_other_b" ON "s"."every" ("other_a", "other_b")',
    ]);
    expect(sql.indexOf(ix[0]!)).toBeGreaterThan(sql.indexOf(create));
  });

  it('adds no index for a foreign key leading the primary key', () => {
    const child: TableSpec = {
      database: 's',
      name: 'q',
      comment: '',
      columns: [col('p_id', T('int32', 'int')), col('q_id', T('int32', 'int'))],
      primaryKey: ['p_id', 'q_id'],
      foreignKeys: [{ columns: ['p_id'], refDatabase: 's', refTable: 'p', refColumns: ['p_id'] }],
      indexes: [],
    };
    expect(tableIndexes(child)).toEqual([]);
    expect(d.createTable(child).some((x) => x.includes('INDEX'))).toBe(false);
  });

  it('names indexes after Python (columns cut to 30 characters) within 63 bytes and unique', () => {
    const taken = new Set<string>();
    expect(indexName('~~t', ['status', 'priority', 'scheduled_time', 'extra'], taken)).toBe('idx_~~t_status_priority_scheduled_time');
    const long = 'x'.repeat(60);
    const a = indexName(long, ['a'], taken);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    const b = indexName(long, ['a'], taken);
    expect(b).not.toBe(a);
    expect(Buffer.byteLength(b)).toBeLessThanOrEqual(63);
    const multi = indexName('é'.repeat(31), ['c'], taken);
    expect(Buffer.byteLength(multi)).toBeLessThanOrEqual(63);
    expect(multi).not.toContain('\uFFFD');
  });

  it('refuses identifiers longer than 63 bytes', () => {
    const base = { database: 's', comment: '', primaryKey: ['a'], foreignKeys: [], indexes: [] };
    expect(() => d.createTable({ ...base, name: 't'.repeat(64), columns: [col('a', T('int32', 'int'))] })).toThrow(E.DeclarationError);
    expect(() => d.createTable({ ...base, name: 't'.repeat(63), columns: [col('a', T('int32', 'int'))] })).not.toThrow();
    expect(() => d.createTable({ ...base, name: 't', columns: [col('a'.repeat(64), T('int32', 'int'))], primaryKey: [] })).toThrow(/63 bytes/);
    // 32 two-byte characters: 32 characters but 64 bytes.
    expect(() => d.createTable({ ...base, name: 'é'.repeat(32), columns: [col('a', T('int32', 'int'))] })).toThrow(E.DeclarationError);
    expect(() => d.createDatabase('s'.repeat(64))).toThrow(E.DeclarationError);
  });

  it('refuses auto-increment on a non-integer type and enums without values', () => {
    const base = { database: 's', name: 't', comment: '', primaryKey: ['a'], foreignKeys: [], indexes: [] };
    expect(() => d.createTable({ ...base, columns: [col('a', T('uint64', 'bigint'), { autoIncrement: true })] })).toThrow(E.DeclarationError);
    expect(() => d.createTable({ ...base, columns: [col('a', T('enum()', 'enum'))] })).toThrow(E.DeclarationError);
  });

  it('keeps enum values containing the dollar-quote tag inside the DO block', () => {
    const s = d.createTable({
      database: 's',
      name: 't',
      comment: '',
      primaryKey: ['a'],
      foreignKeys: [],
      indexes: [],
      columns: [col('a', T("enum('$dj$','x')", 'enum'))],
    });
    expect(s[0]).toMatch(/^DO \$dj1\$ BEGIN CREATE TYPE "s"\."enum_[0-9a-f]{8}" AS ENUM \('\$dj\$', 'x'\); .* END \$dj1\$$/);
  });

  it('creates and drops schemas and tables', () => {
    expect(d.createDatabase('my"db')).toEqual(['CREATE SCHEMA IF NOT EXISTS "my""db"']);
    expect(d.dropDatabase('db')).toEqual(['DROP SCHEMA IF EXISTS "db" CASCADE']);
    expect(d.dropTable('db', 't')).toBe('DROP TABLE IF EXISTS "db"."t"');
  });

  it('locks declarations by a stable 64-bit key per name', () => {
    const a = d.declarationLock('"s"."t"');
    expect(a).toMatch(/^SELECT pg_advisory_xact_lock\(-?\d+\)$/);
    expect(d.declarationLock('"s"."t"')).toBe(a);
    expect(d.declarationLock('"s"."u"')).not.toBe(a);
  });
});

describe('errors', () => {
  const t = createPostgresErrors('db.example:5432');
  const pgErr = (code: string, message = 'boom', extra: Record<string, string> = {}) => Object.assign(new Error(message), { code, ...extra });

  it('maps SQLSTATEs to DataJoint errors', () => {
    const cases: Array<[string, new (...a: never[]) => Error]> = [
      ['23505', E.DuplicateError],
      ['23503', E.IntegrityError],
      ['23502', E.MissingAttributeError],
      ['23514', E.IntegrityError],
      ['22001', E.IntegrityError],
      ['22003', E.IntegrityError],
      ['22P02', E.IntegrityError],
      ['22007', E.IntegrityError],
      ['22008', E.IntegrityError],
      ['22021', E.IntegrityError],
      ['42601', E.QuerySyntaxError],
      ['42883', E.QuerySyntaxError],
      ['42804', E.QuerySyntaxError],
      ['42P18', E.QuerySyntaxError],
      ['42P01', E.MissingTableError],
      ['3F000', E.MissingTableError],
      ['42703', E.UnknownAttributeError],
      ['42501', E.AccessError],
      ['28P01', E.AccessError],
      ['28000', E.AccessError],
      ['40P01', E.DeadlockError],
      ['40001', E.DeadlockError],
      ['08006', E.LostConnectionError],
      ['57P01', E.LostConnectionError],
      ['XX000', E.DataJointError],
    ];
    for (const [code, cls] of cases) {
      const out = t.translateError(pgErr(code));
      expect(out, code).toBeInstanceOf(cls);
      expect((out as Error & { cause?: unknown }).cause).toBeDefined();
    }
  });

  it('names the table and constraint of a duplicate', () => {
    const e = t.translateError(pgErr('23505', 'duplicate key value violates unique constraint "t_pkey"', { schema: 's', table: 't', constraint: 't_pkey', detail: 'Key (id)=(1) already exists.' }));
    expect(e.message).toBe('Duplicate entry in "s"."t" (constraint "t_pkey"): duplicate key value violates unique constraint "t_pkey" (Key (id)=(1) already exists.)');
  });

  it('shows the SQL of a syntax error and says "Invalid value" once', () => {
    expect(t.translateError(pgErr('42601', 'syntax error at or near "FROM"'), 'SELECT FROM').message).toContain('\nSQL: SELECT FROM');
    const v = t.translateError(pgErr('22003', 'value out of range'));
    expect(v.message).toBe('Invalid value: value out of range');
    expect(t.translateError(v)).toBe(v);
  });

  it('tells lost connections from failed connects', () => {
    expect(t.translateError(new Error('Connection terminated unexpectedly'))).toBeInstanceOf(E.LostConnectionError);
    expect(t.translateError(new Error('Connection terminated unexpectedly'))).not.toBeInstanceOf(E.ConnectError);
    const refused = t.translateError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    expect(refused).toBeInstanceOf(E.ConnectError);
    expect(refused.message).toMatch(/^cannot connect to db\.example:5432/);
    expect(t.translateError(new Error('Connection terminated due to connection timeout'))).toBeInstanceOf(E.ConnectError);
    expect(t.translateError('text')).toBeInstanceOf(E.DataJointError);
  });
});

describe('values', () => {
  it('keeps int8 exact', () => {
    expect(parseInt8('42')).toBe(42);
    expect(parseInt8('-9007199254740991')).toBe(-9007199254740991);
    expect(parseInt8('9007199254740993')).toBe('9007199254740993');
    expect(parseInt8('-9223372036854775808')).toBe('-9223372036854775808');
  });
  it('maps type OIDs to value kinds; unknown ones are strings', () => {
    expect(kindOfOid(OID.int4)).toBe('int');
    expect(kindOfOid(OID.int8)).toBe('bigint');
    expect(kindOfOid(OID.numeric)).toBe('decimal');
    expect(kindOfOid(OID.timestamp)).toBe('datetime');
    expect(kindOfOid(OID.jsonb)).toBe('json');
    expect(kindOfOid(OID.bytea)).toBe('bytes');
    expect(kindOfOid(OID.uuid)).toBe('uuid');
    expect(kindOfOid(OID.bool)).toBe('bool');
    expect(kindOfOid(987654)).toBe('string');
  });
  it('sends dates as UTC text', () => {
    expect(toPgParams([new Date('2020-01-02T03:04:05.006Z'), 1, 'a', null])).toEqual(['2020-01-02 03:04:05.006', 1, 'a', null]);
    expect(toPgParams([])).toBeUndefined();
  });
});

describe('backend entry', () => {
  it('describes the backend', () => {
    expect(postgres.name).toBe('postgresql');
    expect(postgres.defaultPort).toBe(5432);
    expect(postgres.dialect).toBe(d);
  });

  it('does not load pg until a connection is made', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const req = createRequire(process.cwd() + '/');
      const loaded = () => Object.keys(req.cache).some((k) => /node_modules[\\\\/]pg(-cursor)?[\\\\/]/.test(k));
      await import('./src/adapters/postgres/index.ts');
      const before = loaded();
      await import('./src/adapters/postgres/driver.ts');
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ before: false, after: true });
  });
});

describe('manyRowsIn (long lists of composite keys)', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => [String(i), `'2024-01-0${(i % 9) + 1}'`]);

  it('keeps the plain IN list for short lists and single columns', () => {
    expect(d.manyRowsIn([{ sql: '"a"', kind: 'int' }, { sql: '"d"', kind: 'date' }], rows(99))).toBeNull();
    expect(d.manyRowsIn([{ sql: '"a"', kind: 'int' }], rows(500).map((r) => [r[0]!]))).toBeNull();
  });
  it('writes IN (VALUES …) with the first row cast to each column type family', () => {
    const sql = d.manyRowsIn([{ sql: '"a"', kind: 'int' }, { sql: '"d"', kind: 'date' }], rows(100))!;
    expect(sql.startsWith(`("a","d") IN (VALUES (0,CAST('2024-01-01' AS date)),(1,'2024-01-02'),`)).toBe(true);
    expect(sql.endsWith(`(99,'2024-01-01'))`)).toBe(true);
  });
  it('compares enums as text and leaves columns of unknown type to the plain form', () => {
    const e = d.manyRowsIn([{ sql: '"a"', kind: 'int' }, { sql: '"e"', kind: 'enum' }], rows(100))!;
    expect(e.startsWith(`("a",("e")::text) IN (VALUES (0,CAST('2024-01-01' AS text)),`)).toBe(true);
    expect(d.manyRowsIn([{ sql: '"a"', kind: 'int' }, { sql: '"x"', kind: null }], rows(100))).toBeNull();
  });
});
