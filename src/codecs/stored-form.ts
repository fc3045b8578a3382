/**
 * A codec column's stored form read from an Arrow table: what toArrow and arrowBatches give
 * for a codec attribute (the packed bytes of a `<blob>`, the JSON metadata text of a
 * `<blob@store>`, …), marked in the field metadata with the attribute's codec spec. Insert
 * copies it into the target's chain (transcode.ts) instead of taking it for a value to encode.
 * Kept free of imports: the Arrow reader builds these without loading any codec.
 */

/** Field metadata key: the column holds the stored form of this codec spec (`<blob>`, `<blob@store>`, …). */
export const ARROW_CODEC = 'datajoint.codec';

/** The codec spec of an attribute as definitions write it: `<blob>`, `<blob@>`, `<blob@cold>`. */
export function codecSpec(codec: string, store: string | null): string {
  return store === null ? `<${codec}>` : `<${codec}@${store}>`;
}

/** One stored value and the codec spec that wrote it. */
export class StoredForm {
  constructor(
    /** Bytes (Uint8Array) or text (JSON metadata), as the source column held it. */
    readonly value: unknown,
    /** The source attribute's codec spec, e.g. `<blob@>`. */
    readonly spec: string,
  ) {}
}
