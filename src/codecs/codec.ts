/**
 * Codec API (spec: codec API): a codec turns a user value into a value of
 * its storage dtype on insert and back on fetch. `<name>` stores in the table; `<name@store>`
 * in an object store.
 */
import { DataJointError } from '../errors.js';
import { codecDtypes } from '../heading/types.js';

export interface CodecContext {
  key?: Record<string, unknown>;
  storeName?: string | null;
  attribute?: string;
  table?: string;
}

export interface CodecLike {
  name: string;
  getDtype(isExternal: boolean): string;
  encode(value: unknown, ctx: CodecContext): unknown | Promise<unknown>;
  decode(stored: unknown, ctx: CodecContext): unknown | Promise<unknown>;
  validate?(value: unknown): void;
}

/** Base class for user codecs: `class Graph extends dj.Codec { name = 'graph'; ... }`. */
export abstract class Codec implements CodecLike {
  abstract name: string;
  abstract getDtype(isExternal: boolean): string;
  abstract encode(value: unknown, ctx: CodecContext): unknown | Promise<unknown>;
  abstract decode(stored: unknown, ctx: CodecContext): unknown | Promise<unknown>;
  validate?(value: unknown): void;
}

const registry = new Map<string, CodecLike>();

function bare(name: string): string {
  const m = /^<?\s*([a-zA-Z][a-zA-Z0-9_]*)\s*(@[a-z0-9_]*)?\s*>?$/.exec(name.trim());
  if (!m) throw new DataJointError(`Invalid codec name ${name}`);
  return m[1]!.toLowerCase();
}

export function registerCodec(codec: CodecLike): CodecLike {
  const name = bare(codec.name);
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new DataJointError(`Invalid codec name ${codec.name}`);
  registry.set(name, codec);
  codecDtypes.set(name, (isExternal) => codec.getDtype(isExternal));
  return codec;
}

/** Codec by `name`, `<name>` or `<name@store>`. */
export function getCodec(name: string): CodecLike {
  const c = registry.get(bare(name));
  if (!c) throw new DataJointError(`Unknown codec <${bare(name)}>; registered: ${[...registry.keys()].join(', ')}`);
  return c;
}

export function hasCodec(name: string): boolean {
  return registry.has(bare(name));
}

export function listCodecs(): string[] {
  return [...registry.keys()].sort();
}
