/**
 * Heading: the ordered attributes of a table or query expression, with primary key, types,
 * codecs and lineage. Immutable; query operators derive new headings from old ones.
 */
import { DataJointError } from '../errors.js';
import type { ColumnInfo, Dialect } from '../adapters/adapter.js';
import { type ResolvedType, type ValueKind, typeFromColumn } from './types.js';

export interface Attribute {
  name: string;
  /** DataJoint type (`int32`, `varchar(32)`, `<blob>`, or the native SQL type). */
  type: string;
  kind: ValueKind;
  /** Core or codec type (false: native passthrough type). */
  core: boolean;
  unsigned: boolean;
  inKey: boolean;
  nullable: boolean;
  /** SQL default (literal text or CURRENT_TIMESTAMP); null when there is none. */
  default: string | null;
  comment: string;
  /** Codec name without brackets (`blob`), or null. */
  codec: string | null;
  /** For external codecs: '' = default store, otherwise the store name; null = in-table. */
  store: string | null;
  /** `schema.table.attribute` where the attribute originates, or null (secondary, non-FK). */
  lineage: string | null;
  /** `_`-prefixed attributes are hidden from joins and fetches. */
  isHidden: boolean;
  autoIncrement: boolean;
  /** For computed attributes of a projection: the SQL expression; else null. */
  expression: string | null;
  enumValues?: string[];
  /** For codec types: the core type that stores the value (`bytes`, `json`, …). */
  dtype?: string;
  /**
   * For a core datetime read from the catalog: the fractional digits its column keeps, which
   * may be more than its type says (DataJoint Python declares `datetime` on PostgreSQL as a bare
   * timestamp: 6 digits). Values are cut to these, not to the type's (see datetimeDigits).
   */
  fractionDigits?: number;
}

/** The fractional digits a datetime attribute's values keep: its column's, else its type's. */
export function datetimeDigits(a: Attribute): number {
  return a.fractionDigits ?? Number(/\((\d)\)$/.exec(a.type)?.[1] ?? 0);
}

export function attributeFromType(
  name: string,
  t: ResolvedType,
  rest: Partial<Omit<Attribute, 'name' | 'type' | 'kind' | 'core' | 'unsigned' | 'codec' | 'store'>> = {},
): Attribute {
  return {
    name,
    type: t.type,
    kind: t.kind,
    core: t.core,
    unsigned: t.unsigned,
    codec: t.codec,
    store: t.store,
    enumValues: t.enumValues,
    dtype: t.dtype,
    inKey: rest.inKey ?? false,
    nullable: rest.nullable ?? false,
    default: rest.default ?? null,
    comment: rest.comment ?? '',
    lineage: rest.lineage ?? null,
    isHidden: rest.isHidden ?? name.startsWith('_'),
    autoIncrement: rest.autoIncrement ?? false,
    expression: rest.expression ?? null,
  };
}

/** Build an Attribute from a catalog column (type reconstructed from the comment). */
export function attributeFromColumn(col: ColumnInfo, lineage: string | null, dialect: Dialect): Attribute {
  const { resolved, comment } = typeFromColumn(col, dialect);
  const a = attributeFromType(col.name, resolved, {
    inKey: col.inKey,
    nullable: col.nullable,
    default: col.default,
    comment,
    lineage,
    autoIncrement: col.autoIncrement,
  });
  if (a.kind === 'datetime' && a.core && !a.codec) {
    const stored = /^datetime(?:\((\d)\))?$/.exec(dialect.coreTypeOf(col) ?? '');
    if (stored) a.fractionDigits = Number(stored[1] ?? 0);
  }
  return a;
}

export class Heading {
  /** All attributes including hidden ones, in order. */
  readonly all: readonly Attribute[];
  /** Whether lineage information was available for the tables this heading came from. */
  readonly lineageAvailable: boolean;
  readonly #byName: Map<string, Attribute>;
  #booleans: ReadonlySet<string> | null = null;

  constructor(attributes: readonly Attribute[], opts: { lineageAvailable?: boolean } = {}) {
    this.all = attributes;
    this.lineageAvailable = opts.lineageAvailable ?? true;
    this.#byName = new Map(attributes.map((a) => [a.name, a]));
    if (this.#byName.size !== attributes.length) {
      const seen = new Set<string>();
      for (const a of attributes) {
        if (seen.has(a.name)) throw new DataJointError(`Attribute \`${a.name}\` appears more than once in the heading`);
        seen.add(a.name);
      }
    }
  }

  /** Visible attributes (hidden `_` attributes excluded), in order. */
  get visible(): Attribute[] {
    return this.all.filter((a) => !a.isHidden);
  }
  get names(): string[] {
    return this.visible.map((a) => a.name);
  }
  get primaryKey(): string[] {
    return this.all.filter((a) => a.inKey).map((a) => a.name);
  }
  get secondaryAttributes(): string[] {
    return this.visible.filter((a) => !a.inKey).map((a) => a.name);
  }
  /** Visible attributes by name. */
  get attributes(): Record<string, Attribute> {
    return Object.fromEntries(this.visible.map((a) => [a.name, a]));
  }
  has(name: string): boolean {
    return this.#byName.has(name);
  }
  /** Names of the `bool` attributes (SQL a user writes may aggregate them: Dialect.userSql). */
  get booleanNames(): ReadonlySet<string> {
    return (this.#booleans ??= new Set(this.all.filter((a) => a.kind === 'bool').map((a) => a.name)));
  }
  /** Attribute by name, hidden ones included; undefined when absent. */
  get(name: string): Attribute | undefined {
    return this.#byName.get(name);
  }
  /** Attribute by name or a DataJointError naming the heading's attributes. */
  require(name: string): Attribute {
    const a = this.#byName.get(name);
    if (!a) throw new DataJointError(`Attribute \`${name}\` is not in the heading (${this.names.join(', ')})`);
    return a;
  }
  /** Whether any attribute is a computed expression (forces a subquery when used as an operand). */
  get hasExpressions(): boolean {
    return this.all.some((a) => a.expression !== null);
  }
  with(attributes: readonly Attribute[], lineageAvailable = this.lineageAvailable): Heading {
    return new Heading(attributes, { lineageAvailable });
  }
  toString(): string {
    const line = (a: Attribute) => `${a.name}${a.nullable ? ' = null' : ''} : ${a.type}`;
    return [...this.all.filter((a) => a.inKey).map(line), '---', ...this.all.filter((a) => !a.inKey).map(line)].join('\n');
  }
}
