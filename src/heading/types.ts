/**
 * The DataJoint type system (spec: type system): core types, codec types
 * `<name>`, `<name@>`, `<name@store>` (dtypes from the codec registry, chains followed), and
 * native SQL passthrough types. One parser serves
 * declaration (definition text → SQL) and reconstruction (SQL column + comment → DataJoint type).
 */
import { DataJointError, DeclarationError } from '../errors.js';
import { codecChain, type CodecChain } from '../codecs/registry.js';
import type { ColumnInfo, Dialect } from '../adapters/adapter.js';

import type { ValueKind } from './kinds.js';
export type { ValueKind } from './kinds.js';

export interface ResolvedType {
  /** The type as DataJoint names it: `int32`, `varchar(32)`, `<blob@store>`, or a native type. */
  type: string;
  kind: ValueKind;
  /** True for core and codec types; false for native passthrough types. */
  core: boolean;
  unsigned: boolean;
  codec: string | null;
  /** For codec types: the core type that stores the value (`bytes`, `json`, …), after any chain. */
  dtype?: string;
  /** Store of an external codec: '' for the default store (`@`), a name, or null (in-table). */
  store: string | null;
  enumValues?: string[];
  /**
   * Another backend's native type as written, when the dialect declares it as this type
   * instead (`tinyint unsigned` on PostgreSQL, declared as uint8).
   */
  native?: string;
}

const INT_CORE: Record<string, [kind: ValueKind, unsigned: boolean]> = {
  int8: ['int', false],
  uint8: ['int', true],
  int16: ['int', false],
  uint16: ['int', true],
  int32: ['int', false],
  uint32: ['int', true],
  int64: ['bigint', false],
  uint64: ['bigint', true],
};

const SIMPLE_CORE: Record<string, ValueKind> = {
  float32: 'float',
  float64: 'float',
  bool: 'bool',
  uuid: 'uuid',
  bytes: 'bytes',
  json: 'json',
  date: 'date',
};

function splitEnum(body: string): string[] {
  const values: string[] = [];
  const re = /'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.|"")*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) values.push((m[1] ?? m[2] ?? '').replace(/''/g, "'").replace(/\\(.)/g, '$1'));
  return values;
}

/** A codec type: `<name>`, `<name@>` or `<name@store>` (name and store captured). */
const CODEC_TYPE = /^<\s*([a-z][a-z0-9_]*)\s*(?:@\s*([a-z0-9_]*)\s*)?>$/i;
/** A codec label of DataJoint 0.x (no angle brackets): `blob`, `attach`, `blob@store`, `filepath@store`. */
const LEGACY_LABEL = /^(blob|attach|filepath)(?:@([a-z][a-z0-9_]*))?$/;

const warnedLegacy = new Set<string>();
/** Said once per column: its values are 0.14's hashes, read as bytes, not the data they name. */
function warnLegacyExternal(col: ColumnInfo, label: string): void {
  if (warnedLegacy.has(`${col.name}|${col.comment}`)) return;
  warnedLegacy.add(`${col.name}|${col.comment}`);
  process.emitWarning(
    `Column \`${col.name}\` (${col.columnType}, :${label}:) holds DataJoint 0.14 external storage: 16-byte hashes into the ~external table, which this library does not follow. Its values read as those bytes, not as the data. Migrate the column to DataJoint 2.0's <${label}> (a json column) with DataJoint Python's migration first.`,
    { type: 'DataJointWarning' },
  );
}

/** Resolve a type written in a definition. Throws DeclarationError for unknown types. */
export function resolveType(text: string, line?: string, dialect?: Dialect): ResolvedType {
  const raw = text.trim();
  const t = raw.toLowerCase();
  const err = (msg: string) => new DeclarationError(line ? `${msg} in line: "${line}"` : msg);

  const codec = CODEC_TYPE.exec(raw);
  if (codec) {
    const name = codec[1]!.toLowerCase();
    const store = codec[2] !== undefined ? codec[2] : null;
    let chain: CodecChain;
    try {
      chain = codecChain(name, store);
    } catch (e) {
      if (e instanceof DataJointError && !(e instanceof DeclarationError)) throw err(e.message.replace(/^Unknown codec <(\w+)>.*$/s, 'Unsupported attribute type <$1>: unknown codec'));
      throw e;
    }
    const inner = resolveType(chain.dtype, line, dialect);
    return {
      type: store === null ? `<${name}>` : `<${name}@${store}>`,
      kind: inner.kind,
      dtype: inner.type,
      core: true,
      unsigned: inner.unsigned,
      codec: name,
      store,
    };
  }

  if (INT_CORE[t]) {
    const [kind, unsigned] = INT_CORE[t];
    return { type: t, kind, core: true, unsigned, codec: null, store: null };
  }
  if (SIMPLE_CORE[t]) {
    return { type: t, kind: SIMPLE_CORE[t], core: true, unsigned: false, codec: null, store: null };
  }
  let m = /^(char|varchar)\s*\(\s*(\d+)\s*\)$/.exec(t);
  if (m) {
    const type = `${m[1]}(${m[2]})`;
    return { type, kind: 'string', core: true, unsigned: false, codec: null, store: null };
  }
  // As in DataJoint Python, on every backend (PostgreSQL would make an unbounded varchar).
  if (/^(char|varchar|character|character varying)$/.test(t)) throw err(`Unsupported attribute type ${raw}: give its length, e.g. ${/^char(acter)?$/.test(t) ? 'char' : 'varchar'}(255)`);
  m = /^datetime(?:\s*\(\s*(\d)\s*\))?$/.exec(t);
  if (m) {
    if (m[1] !== undefined && Number(m[1]) > 6) throw err(`datetime precision must be 0..6`);
    const type = m[1] !== undefined ? `datetime(${m[1]})` : 'datetime';
    return { type, kind: 'datetime', core: true, unsigned: false, codec: null, store: null };
  }
  m = /^decimal\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/.exec(t);
  if (m) {
    const type = `decimal(${m[1]},${m[2] ?? 0})`;
    return { type, kind: 'decimal', core: true, unsigned: false, codec: null, store: null };
  }
  m = /^enum\s*\((.*)\)$/is.exec(raw);
  if (m) {
    const values = splitEnum(m[1]!);
    if (values.length === 0) throw err('enum needs at least one value');
    const type = `enum(${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')})`;
    return { type, kind: 'enum', core: true, unsigned: false, codec: null, store: null, enumValues: values };
  }
  // The type-system spec: no per-column encoding; the server's applies to every column (MySQL
  // took it as a native type, PostgreSQL refused it as unknown).
  if (/\b(character\s+set|charset|collate)\b/i.test(raw)) throw err(`CHARACTER SET and COLLATE are not allowed in an attribute type (the database's encoding and collation apply to every column): ${raw}`);
  const native = resolveNative(t, dialect);
  if (native) return native;
  const spelled = t.replace(/\s+/g, ' ');
  const foreign = dialect?.foreignNativeType(spelled);
  if (foreign && 'refused' in foreign) throw err(`Unsupported attribute type ${raw} on ${dialect!.name}: ${foreign.refused}`);
  if (foreign) return { ...resolveType(foreign.declareAs, line, dialect), native: spelled };
  throw err(`Unsupported attribute type ${raw}`);
}

/** A native SQL type the dialect accepts as passthrough (with a warning at declaration), or null. */
export function resolveNative(text: string, dialect: Dialect | undefined): ResolvedType | null {
  const s = text.replace(/\s+/g, ' ').trim().toLowerCase();
  const n = dialect?.nativeType(s);
  return n ? { type: s, kind: n.kind, core: false, unsigned: n.unsigned, codec: null, store: null } : null;
}

/**
 * Reconstruct the DataJoint type of a column from the `:type:` prefix that declaration writes
 * into the column comment (DataJoint Python uses the same convention) or, for columns without
 * one, from the dialect's reverse type map. Returns the type and the user comment.
 */
export function typeFromColumn(col: ColumnInfo, dialect: Dialect): { resolved: ResolvedType; comment: string } {
  const m = /^:([^:]+):(.*)$/s.exec(col.comment);
  let unknown: RegExpExecArray | null = null;
  const legacy = m ? LEGACY_LABEL.exec(m[1]!.trim()) : null;
  if (legacy && !(legacy[1] === 'filepath' && legacy[2] === undefined)) {
    // The labels of DataJoint 0.x and of the migration spec's targets (`:blob:`, `:attach:`,
    // `:blob@store:` on a json column): the codec they name, the data as it is. A 0.14 external
    // column (a 16-byte hash into ~external_<store>) is not readable here: said, not misread.
    const [, name, store] = legacy;
    const external = store !== undefined;
    if (!external || dialect.coreTypeOf(col) === 'json') return { resolved: resolveType(`<${name}${external ? `@${store}` : ''}>`), comment: m![2]! };
    warnLegacyExternal(col, `${name}@${store}`);
    return { resolved: { type: 'bytes', kind: 'bytes', core: true, unsigned: false, codec: null, store: null }, comment: col.comment };
  }
  if (m) {
    try {
      return { resolved: resolveType(m[1]!), comment: m[2]! };
    } catch {
      unknown = CODEC_TYPE.exec(m[1]!.trim());
    }
  }
  const comment = m ? m[2]! : col.comment;
  const core = dialect.coreTypeOf(col);
  const ct = col.columnType.toLowerCase().trim();
  const stored = core ? resolveType(core) : (resolveNative(ct, dialect) ?? { type: ct, kind: 'other', core: false, unsigned: false, codec: null, store: null });
  if (unknown) {
    // A codec not registered in this process (another client's, or a module not imported here,
    // as on populate's worker threads): the column keeps its codec, so encoding or decoding a
    // value says so. Taken as its stored type, an insert would write values unencoded and a
    // fetch would hand out the stored form as if it were the value.
    const name = unknown[1]!.toLowerCase();
    const store = unknown[2] ?? null;
    return { resolved: { ...stored, type: store === null ? `<${name}>` : `<${name}@${store}>`, core: true, codec: name, store, dtype: stored.type }, comment };
  }
  return { resolved: stored, comment };
}
