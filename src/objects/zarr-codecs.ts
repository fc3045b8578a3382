/**
 * gzip and zlib for zarrita: zarrita 0.7.5 decodes both but cannot encode them, so Zarr v3
 * arrays written through `stagedInsert1` (or any zarrita store) could not be compressed.
 * These codecs use node:zlib, whose asynchronous calls run on libuv's thread pool, so the
 * chunks zarrita encodes at once compress on several cores; decoding goes the same way (and is
 * faster than the web streams zarrita uses). Registered into zarrita's own registry, replacing
 * its decode-only entries, the first time the library touches Zarr.
 */
import { promisify } from 'node:util';
import { deflate, gunzip, gzip, inflate } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

const asView = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const level = (config: unknown): number => {
  const l = (config as { level?: unknown } | undefined)?.level;
  return typeof l === 'number' && Number.isInteger(l) && l >= 0 && l <= 9 ? l : 6;
};

/** Zarr v3 `gzip` (and numcodecs' `gzip`): RFC 1952. */
export class GzipCodec {
  readonly kind = 'bytes_to_bytes';
  constructor(readonly level = 6) {}
  static fromConfig(config: unknown): GzipCodec {
    return new GzipCodec(level(config));
  }
  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    return asView(await gzipAsync(bytes, { level: this.level }));
  }
  async decode(bytes: Uint8Array): Promise<Uint8Array> {
    return asView(await gunzipAsync(bytes));
  }
}

/** numcodecs' `zlib`: RFC 1950. */
export class ZlibCodec {
  readonly kind = 'bytes_to_bytes';
  constructor(readonly level = 6) {}
  static fromConfig(config: unknown): ZlibCodec {
    return new ZlibCodec(level(config));
  }
  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    return asView(await deflateAsync(bytes, { level: this.level }));
  }
  async decode(bytes: Uint8Array): Promise<Uint8Array> {
    return asView(await inflateAsync(bytes));
  }
}

let registered: Promise<void> | undefined;

/** Put the codecs into zarrita's registry (once; zarrita is imported here, on first use). */
export function registerZarrCodecs(): Promise<void> {
  registered ??= import('zarrita').then(({ registry }) => {
    const codecs = registry as unknown as Map<string, () => unknown>;
    for (const name of ['gzip', 'numcodecs.gzip']) codecs.set(name, () => GzipCodec);
    for (const name of ['zlib', 'numcodecs.zlib']) codecs.set(name, () => ZlibCodec);
  });
  return registered;
}
