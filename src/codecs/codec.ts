/**
 * The codec contract (DataJoint 2.0 codec API): a codec turns a user value into a value of its
 * storage dtype on insert and back on fetch. `<name>` stores in the table; `<name@>` and
 * `<name@store>` in an object store. A codec's dtype may be another codec (`<blob>` → bytes,
 * `<blob@>` → `<hash@>` → json), and the whole chain runs on insert and fetch.
 *
 * The registry (one map, built-ins loaded lazily, `dj.registerCodec`, …) lives in registry.ts,
 * which the built-in codecs' modules import this one beside: this module imports none of them.
 */
import type { ValueKind } from '../heading/kinds.js';

/**
 * What a codec learns about the value it encodes or decodes. On insert every field is set; on
 * fetch `key` holds the primary-key values that the query returned and `schema`/`table` are
 * set when the query reads one table.
 */
export interface CodecContext {
  /** Primary-key values of the row, in the table's key order. */
  key?: Record<string, unknown>;
  /**
   * The store named in the attribute, after the chain's overrides: a name (`<blob@cold>`),
   * `''` for the default store (`<blob@>`), or null for an in-table attribute (`<blob>`).
   */
  storeName?: string | null;
  /** Database (schema) name of the table. */
  schema?: string;
  /** Table name as it appears in object paths (DataJoint Python's `_table`). */
  table?: string;
  /** Attribute name (DataJoint Python's `_field`). */
  field?: string;
  /** Same as `field` (kept for codecs written against the first release). */
  attribute?: string;
  /** Value kinds of the key attributes (tell dates from datetimes in object paths). */
  keyKinds?: Record<string, ValueKind>;
  /**
   * Codecs that write objects only this row owns (path-addressed, unlike content-addressed
   * ones that rows share) report each here, so that an insert that fails removes them.
   */
  written?: (object: { store: string | null; path: string; isDir: boolean }) => void;
}

/** A codec as the registry holds it: an object, usually an instance of `dj.Codec`. */
export interface CodecLike {
  /** Lower-case identifier used as `<name>` in definitions. */
  readonly name: string;
  /** The storage type: a core type (`bytes`, `json`, `varchar(n)`, …) or another codec (`<blob>`). */
  getDtype(isExternal: boolean): string;
  /** User value → value of the dtype (bytes, JSON, or the input of the next codec). */
  encode(value: unknown, ctx: CodecContext): unknown;
  /** Stored value (already decoded by the inner codecs) → user value. */
  decode(stored: unknown, ctx: CodecContext): unknown;
  /** Throw a clear error for a value this codec cannot encode; called before `encode`. */
  validate?(value: unknown): void | Promise<void>;
  /**
   * Paths of store objects that a stored value references (for `dj.gc`). Codecs that keep
   * their own objects in a store implement it; values with a `path` key are found without it.
   */
  referencedPaths?(stored: unknown): Array<{ path: string; store: string | null }>;
}

/** Base class for user codecs: `class Graph extends dj.Codec { name = 'graph'; … }`, then `dj.registerCodec(new Graph())`. */
export abstract class Codec implements CodecLike {
  abstract readonly name: string;
  abstract getDtype(isExternal: boolean): string;
  abstract encode(value: unknown, ctx: CodecContext): unknown;
  abstract decode(stored: unknown, ctx: CodecContext): unknown;
  // `validate` (optional, see CodecLike) is not declared here, so subclasses define it
  // without an `override` modifier.
}
